"""Cap what an activity hands back to its workflow, with a clear typed error far below Temporal's limit.

Temporal refuses a payload over 2 MB; a result that large would fail in the server, not in our code,
and a workflow that stores it (a GPT step's output, read by later templates) grows with it. Every
activity result is measured as JSON; one over MAX_ACTIVITY_RESULT_BYTES fails the activity with a
non-retryable `ResultTooLarge` naming the activity, so the step fails typed and the run goes on.
Activity *inputs* are capped where they are built: a GPT step's rendered params (intents/expressions.py,
StepInputTooLarge) and the gateway's body limit for everything else.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from intents.errors import ErrorType

MAX_ACTIVITY_RESULT_BYTES = 256 * 1024


def json_size(value: Any) -> int:
    return len(pydantic_core.to_json(value, fallback=str))


class ActivityResultCap(Interceptor):
    def __init__(self, max_bytes: int = MAX_ACTIVITY_RESULT_BYTES):
        self.max_bytes = max_bytes

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CapResult(next, self.max_bytes)


class _CapResult(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, max_bytes: int):
        super().__init__(next)
        self.max_bytes = max_bytes

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await super().execute_activity(input)
        size = json_size(result)
        if size > self.max_bytes:
            name = activity.info().activity_type
            raise ApplicationError(
                f"{name} returned {size} bytes of JSON; at most {self.max_bytes} are passed on",
                {"bytes": size, "limit": self.max_bytes},
                type=ErrorType.RESULT_TOO_LARGE,
                non_retryable=True,
            )
        return result
