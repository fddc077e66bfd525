"""GET /jobs: finding jobs through Temporal visibility (no worker is asked), newest first, one page at a time.

Every filter is validated before it reaches the visibility query (a 422 naming the parameter), and every
value goes in quoted, so no parameter can add a clause. The whole query is built by `visibility_query`:
the caller's scope (a tenant clause, once tenants exist) is ANDed there and nowhere else.

Page tokens are Temporal's own (a position in the listing), sealed: HMAC-signed with a key derived from
API_KEY and bound to the query they came from (filters and tenant scope), so a token is only ever passed
back to Temporal for the same query, and a garbled or reused one is a 422 naming `page_token` rather than
an error from Temporal. Isolation does not rest on the seal: the query, tenant clause included, is
rebuilt from the request every time, so even a forged position only moves within the caller's own
results (a deployment with named keys but no API_KEY signs with a fixed key, which still catches
garbage).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from gateway.errors import ApiError
from gateway.lifecycle import JOB_STATUS
from gateway.schemas import JobKindName, JobListItem, JobStatus
from intents.errors import ErrorType
from workflows import search_attributes as sa

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_TOKEN_CHARS = 4096
INTENT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
PRINCIPAL_PATTERN = re.compile(r"^[^\x00-\x1f\x7f'\"\\]{1,128}$")
KIND_BY_TYPE = {
    "IntentWorkflow": JobKindName.INTENT,
    "GptWorkflow": JobKindName.GPT_WORKFLOW,
    "FleetWorkflow": JobKindName.FLEET,
}
# Top-level jobs only: a GPT step's own job, a `.run` child, a callback delivery or a ledger is not listed.
JOBS_ONLY = "ParentWorkflowId IS NULL AND WorkflowType IN ('IntentWorkflow', 'GptWorkflow', 'FleetWorkflow')"
NOT_DECIDED_AGAINST = "(Approval IS NULL OR Approval NOT IN ('rejected', 'expired'))"
STATUS_CLAUSE: dict[JobStatus, str] = {
    JobStatus.RUNNING: "ExecutionStatus = 'Running' AND (Approval IS NULL OR Approval != 'pending')",
    JobStatus.AWAITING_APPROVAL: "ExecutionStatus = 'Running' AND Approval = 'pending'",
    JobStatus.SUCCESS: "ExecutionStatus = 'Completed'",
    JobStatus.ERROR: f"ExecutionStatus = 'Failed' AND {NOT_DECIDED_AGAINST}",
    JobStatus.REJECTED: "ExecutionStatus = 'Failed' AND Approval = 'rejected'",
    JobStatus.EXPIRED: "ExecutionStatus = 'Failed' AND Approval = 'expired'",
    JobStatus.CANCELLED: "ExecutionStatus = 'Canceled'",
    JobStatus.TERMINATED: "ExecutionStatus = 'Terminated'",
    JobStatus.TIMED_OUT: "ExecutionStatus = 'TimedOut'",
}


@dataclass(frozen=True)
class JobFilters:
    intent: str | None = None
    status: JobStatus | None = None
    requested_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _invalid(field: str, reason: str) -> ApiError:
    return ApiError(
        ErrorType.VALIDATION, f"{field}: {reason}", field=field, details=[{"field": field, "reason": reason}]
    )


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise _invalid(field, "must be an ISO 8601 date or time, e.g. 2026-11-21 or 2026-11-21T09:00:00Z") from None


def parse_filters(
    intent: str | None, status: str | None, requested_by: str | None, since: str | None, until: str | None
) -> JobFilters:
    if intent is not None and not INTENT_PATTERN.match(intent):
        raise _invalid("intent", "must be an intent name (letters, digits and . _ : -), e.g. memory.write")
    job_status = None
    if status is not None:
        try:
            job_status = JobStatus(status)
        except ValueError:
            raise _invalid("status", f"must be one of {', '.join(s.value for s in JobStatus)}") from None
    if requested_by is not None and not PRINCIPAL_PATTERN.match(requested_by):
        raise _invalid("requested_by", "must be 1 to 128 printable characters, without quotes or backslashes")
    after, before = _time("since", since), _time("until", until)
    if after and before and after > before:
        raise _invalid("until", "must not be before since")
    return JobFilters(intent=intent, status=job_status, requested_by=requested_by, since=after, until=before)


def parse_limit(limit: str | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not limit.strip().isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise _invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(limit)


def quote(value: str) -> str:
    """A visibility query string literal (values are validated first; quoting is the second line)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def visibility_query(filters: JobFilters, scope: str | None = None) -> str:
    """The one visibility query of a job search; `scope` (the caller's tenant clause) is ANDed here."""
    clauses = [JOBS_ONLY]
    if scope:
        clauses.append(f"({scope})")
    if filters.intent is not None:
        clauses.append(f"{sa.INTENT.name} = {quote(filters.intent)}")
    if filters.status is not None:
        clauses.append(STATUS_CLAUSE[filters.status])
    if filters.requested_by is not None:
        clauses.append(f"{sa.REQUESTED_BY.name} = {quote(filters.requested_by)}")
    if filters.since is not None:
        clauses.append(f"StartTime >= {quote(_rfc3339(filters.since))}")
    if filters.until is not None:
        clauses.append(f"StartTime <= {quote(_rfc3339(filters.until))}")
    return " AND ".join(clauses)


# --- page tokens --------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_key(api_key: str | None) -> bytes:
    return hmac.new((api_key or "").encode(), b"gpt-orchestrator job search page token", hashlib.sha256).digest()


def seal(raw: bytes, query: str, key: bytes) -> str:
    body = _b64(json.dumps({"q": hashlib.sha256(query.encode()).hexdigest()[:32], "t": _b64(raw)}).encode())
    return body + "." + _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def unseal(token: str, query: str, key: bytes) -> bytes:
    bad = _invalid("page_token", "not a page token of this search (pass next_page_token back with the same filters)")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise bad
    body, signature = token.split(".")
    try:
        expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            raise bad
        content = json.loads(_unb64(body))
        if content.get("q") != hashlib.sha256(query.encode()).hexdigest()[:32]:
            raise bad
        return _unb64(content["t"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad from None


# --- one listed job ------------------------------------------------------------------------------


def job_status(wf: WorkflowExecution) -> JobStatus:
    status = JOB_STATUS.get(wf.status, JobStatus.RUNNING) if wf.status else JobStatus.RUNNING
    approval = wf.typed_search_attributes.get(sa.APPROVAL)
    if wf.status == WorkflowExecutionStatus.RUNNING and approval == "pending":
        return JobStatus.AWAITING_APPROVAL
    if wf.status == WorkflowExecutionStatus.FAILED and approval in ("rejected", "expired"):
        return JobStatus.REJECTED if approval == "rejected" else JobStatus.EXPIRED
    return status


async def list_item(wf: WorkflowExecution) -> JobListItem:
    attrs = wf.typed_search_attributes
    intent = attrs.get(sa.INTENT)
    memo = await wf.memo()
    summary = memo.get("summary") if isinstance(memo.get("summary"), str) else None
    if summary is None:  # a job started before summaries were kept in its memo
        name = attrs.get(sa.GPT_WORKFLOW_NAME) or attrs.get(sa.FLEET)
        summary = f"{intent}: {name}" if intent and name else (intent or wf.workflow_type)
    duration = int((wf.close_time - wf.start_time).total_seconds() * 1000) if wf.close_time and wf.start_time else None
    return JobListItem(
        job_id=wf.id, kind=KIND_BY_TYPE.get(wf.workflow_type, JobKindName.INTENT), intent=intent, status=job_status(wf),
        summary=summary, requested_by=attrs.get(sa.REQUESTED_BY), started_at=wf.start_time, closed_at=wf.close_time,
        duration_ms=duration,
    )  # fmt: skip
