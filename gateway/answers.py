"""One way to answer a job's outcome over HTTP: 200 with the result, 202 while it runs or waits for a
human, or the job's own failure with the status STATUS_BY_ERROR_TYPE gives its type.

Shared by /orchestrate, the approval routes and fleets. Every answer about a job carries `Location:
/jobs/{id}`, and `Idempotent-Replayed: true` when the request attached to a job that was already there.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.errors import status_for
from gateway.lifecycle import JobFailure, Outcome, OutcomeKind
from gateway.schemas import AwaitingApproval, ErrorResponse, OrchestrateAccepted, OrchestrateSuccess
from intents.approval import Approval
from intents.canonical import canonical_json


def job_headers(job_id: str, replayed: bool) -> dict[str, str]:
    return {"Location": f"/jobs/{job_id}"} | ({"Idempotent-Replayed": "true"} if replayed else {})


def cap_result(value: Any, limit: int) -> Any:
    """Keep responses under ChatGPT's 100k-character limit; say so when cut."""
    text = canonical_json(value)
    if len(text) <= limit:
        return value
    return {"truncated": True, "original_chars": len(text), "preview": text[: max(limit - 200, 0)]}


def as_json(value: Any) -> Any:
    """A typed result (the handle that started the run) or plain JSON (a handle that attached to it)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def failure_response(
    job_id: str, failure: JobFailure, headers: dict[str, str], extra: dict[str, Any] | None = None
) -> JSONResponse:
    body = ErrorResponse(job_id=job_id, error=failure.error).model_dump(mode="json", exclude_none=True)
    body["job_status"] = failure.status
    return JSONResponse(body | (extra or {}), status_code=status_for(failure.error.type), headers=headers)


def intent_job_response(
    outcome: Outcome,
    *,
    job_id: str,
    intent: str,
    mode: str,
    inputs: dict[str, Any],
    replayed: bool,
    max_result_chars: int,
    decision: Approval | None = None,
) -> JSONResponse:
    """An intent job's outcome. After a human decision (`decision`), every answer carries it as `approval`."""
    headers = job_headers(job_id, replayed)
    extra = {"approval": decision.model_dump(mode="json")} if decision is not None else {}
    if outcome.kind == OutcomeKind.DONE:
        result = as_json(outcome.value)
        body = OrchestrateSuccess(
            job_id=job_id, intent=result["intent"], mode=result["mode"],
            result=cap_result(result.get("result"), max_result_chars), duration_ms=result.get("duration_ms", 0),
        )  # fmt: skip
        return JSONResponse(body.model_dump(mode="json", exclude={"approval"}) | extra, headers=headers)
    if outcome.kind == OutcomeKind.FAILED:
        return failure_response(job_id, outcome.value, headers, extra)
    if outcome.kind == OutcomeKind.AWAITING_APPROVAL:
        state = outcome.value
        waiting = AwaitingApproval(
            job_id=job_id, intent=intent, mode=mode, host=inputs.get("host"), command=inputs.get("command"),
            risk=state.risks, expires_at=state.expires_at, approval_request=state.approval_request,
        )  # fmt: skip
        return JSONResponse(waiting.model_dump(mode="json") | extra, status_code=202, headers=headers)
    accepted = OrchestrateAccepted(job_id=job_id, intent=intent, mode=mode)
    return JSONResponse(
        accepted.model_dump(mode="json", exclude={"approval"}) | extra, status_code=202, headers=headers
    )
