"""approval.* activities: the review and the handler of `approval.request`, a pure human gate.

The gate itself is IntentWorkflow's: the preflight reports the message as the one risk, so the job
waits for approve/reject like any other gated intent; the handler runs only once approved and returns
the decision (a GPT workflow step's output).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from temporalio import activity

from intents.approval import (
    APPROVAL_INTENT,
    APPROVAL_PREFLIGHT,
    Approval,
    ApprovalGateInput,
    DecisionKind,
    Preflight,
    Review,
)
from intents.errors import ErrorType, app_error


def _gate_input(inputs: Any) -> ApprovalGateInput:
    try:
        return ApprovalGateInput.model_validate(inputs)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "inputs"
        raise app_error(
            ErrorType.VALIDATION, f"{field}: {first.get('msg', 'invalid')}", details={"field": field}
        ) from None


class ApprovalActivities:
    def activities(self) -> list:
        return [self.preflight, self.request]

    @activity.defn(name=APPROVAL_PREFLIGHT)
    async def preflight(self, inputs: dict[str, Any]) -> Preflight:
        gate = _gate_input(inputs)
        return Preflight(
            risks=[gate.message],
            target="human approval",
            approval_timeout_s=gate.expires_s,
            review=Review(message=gate.message),
        )

    @activity.defn(name=APPROVAL_INTENT)
    async def request(self, inputs: dict[str, Any], approval: Approval | None = None) -> Approval:
        _gate_input(inputs)
        approval = Approval.model_validate(approval) if approval is not None else None
        if approval is None or approval.decision != DecisionKind.APPROVED:
            raise app_error(ErrorType.REJECTED, "an approval gate passes only with a human approval")
        return approval
