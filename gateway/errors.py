"""One place that turns every failure into a JSON 4xx/5xx body: `{"status":"error","error":{...}}`.

Nothing a client can send produces a 500 or a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from config.agents import AgentConfigError
from config.hosts import InventoryError
from infra.logs import bind, current
from intents.canonical import JOB_ID_PATTERN
from intents.errors import ErrorType
from intents.spec import RequestRejected

log = logging.getLogger("gpt_orchestrator.gateway")

# The one table from error type (raised by activities, workflows or the gateway itself) to HTTP status.
# tests/gateway/test_error_table.py checks that every ErrorType has a row.
STATUS_BY_ERROR_TYPE: dict[ErrorType, int] = {
    ErrorType.VALIDATION: 422,
    ErrorType.UNKNOWN_INTENT: 400,
    ErrorType.MODE_MISMATCH: 400,
    ErrorType.UNSAFE_COMMAND: 400,
    ErrorType.UNKNOWN_HOST: 400,
    ErrorType.UNKNOWN_AGENT: 400,
    ErrorType.NOT_FOUND: 404,
    ErrorType.REJECTED: 409,
    ErrorType.EXPIRED: 409,
    ErrorType.APPROVAL_MISMATCH: 409,
    ErrorType.IDEMPOTENCY_KEY_REUSED: 409,
    ErrorType.UPSTREAM_BAD_REQUEST: 502,
    ErrorType.UPSTREAM_AUTH: 502,
    ErrorType.UPSTREAM_UNAVAILABLE: 503,
    ErrorType.HOST_KEY_MISMATCH: 502,
    ErrorType.SSH_AUTH: 502,
    ErrorType.SSH_COMMAND_TIMEOUT: 504,
    ErrorType.TOOL_ERROR: 502,
    ErrorType.TOOL_OUTCOME_UNKNOWN: 502,
    ErrorType.UPSTREAM_PROTOCOL: 502,
    ErrorType.CALLBACK_URL_REJECTED: 400,
    ErrorType.INVALID_DEFINITION: 400,
    ErrorType.SCHEDULE_EXISTS: 409,
    ErrorType.STEP_INPUT_TOO_LARGE: 422,
    ErrorType.RESULT_TOO_LARGE: 502,
    ErrorType.BUDGET_EXCEEDED: 429,
    ErrorType.TEMPORAL_UNAVAILABLE: 503,
    ErrorType.MISCONFIGURED: 503,
    ErrorType.INTERNAL: 500,
    ErrorType.CANCELLED: 409,
    ErrorType.TERMINATED: 409,
    ErrorType.TIMED_OUT: 504,
    ErrorType.ACTIVITY_TIMEOUT: 504,
    ErrorType.STEP_FAILED: 502,
    ErrorType.ERROR: 502,  # a job failed without saying how: its work, not the gateway, failed
    ErrorType.UNAUTHORIZED: 401,
    ErrorType.FORBIDDEN: 403,
    ErrorType.SELF_APPROVAL: 403,
    ErrorType.KEY_EXISTS: 409,
    ErrorType.AUTH_NOT_CONFIGURED: 503,
    ErrorType.RATE_LIMITED: 429,
    ErrorType.INVALID_IDEMPOTENCY_KEY: 400,
    ErrorType.NOT_AWAITING_APPROVAL: 409,
    ErrorType.ALREADY_EXECUTED: 409,
    ErrorType.WORKFLOW_CLOSED: 409,
    ErrorType.JOB_CLOSED: 409,
    ErrorType.WORKFLOW_UNRESPONSIVE: 503,
    ErrorType.WORKER_UNAVAILABLE: 503,
    ErrorType.MCP_CATALOG_UNAVAILABLE: 503,
    ErrorType.TOO_MANY_STREAMS: 503,
    ErrorType.REQUEST_TIMEOUT: 408,
    ErrorType.PAYLOAD_TOO_LARGE: 413,
    ErrorType.METHOD_NOT_ALLOWED: 405,
    ErrorType.HTTP_ERROR: 400,
}
# Types the gateway did not name (a peer's, or an MCP tool's own): an upstream failure.
UNKNOWN_TYPE_STATUS = 502

# 503s that clear by themselves (Temporal back) or by an operator (a fixed config): when to ask again.
RETRY_AFTER_S: dict[str, int] = {
    ErrorType.TEMPORAL_UNAVAILABLE: 5,
    ErrorType.MISCONFIGURED: 60,
    ErrorType.TOO_MANY_STREAMS: 5,
}
# RPC statuses that mean "Temporal is not there" rather than "this request is wrong".
OUTAGE_STATUSES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


def status_for(error_type: str | None, default: int = UNKNOWN_TYPE_STATUS) -> int:
    try:
        return STATUS_BY_ERROR_TYPE[ErrorType(error_type or "")]
    except ValueError:
        return default


class ApiError(Exception):
    """An answer other than success. Its HTTP status comes from STATUS_BY_ERROR_TYPE, never from the caller."""

    def __init__(
        self,
        error_type: ErrorType,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
        job_id: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.error_type, self.message = STATUS_BY_ERROR_TYPE[error_type], str(error_type), message
        self.field, self.details, self.job_id, self.headers = field, details, job_id, headers


def rejected(exc: RequestRejected, *, field: str | None = None) -> ApiError:
    """The one translation of a request the intents floor refused (unknown host, unsafe command...)."""
    return ApiError(ErrorType(exc.error_type), str(exc), field=field or exc.field, details=exc.details)


def error_body(error_type: str, message: str, *, field=None, details=None, job_id=None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": str(error_type), "message": message}
    if field is not None:
        error["field"] = field
    if details is not None:
        error["details"] = details
    return {"status": "error", "job_id": job_id, "error": error}


def _loc(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def validation_details(errors: Sequence[Any], prefix: str = "") -> list[dict[str, str]]:
    """pydantic errors -> [{field, reason}] without echoing the submitted values (they may be secrets)."""
    out = []
    for err in errors:
        field = _loc(err.get("loc", ()))
        out.append({"field": f"{prefix}{field}" if prefix else field, "reason": err.get("msg", "invalid")})
    return out


def _job_id(request: Request) -> str | None:
    """The job the failed request was about: from the path, or bound by the route once it knew it."""
    params = request.path_params or {}
    sent = params.get("job_id") or params.get("workflow_id")
    if sent is not None and not JOB_ID_PATTERN.match(sent):
        sent = None  # not an id at all: nothing submitted is echoed back
    return sent or current().get("job_id")


def _api_error_response(request: Request, exc: ApiError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.error_type in RETRY_AFTER_S:
        headers.setdefault("Retry-After", str(RETRY_AFTER_S[exc.error_type]))
        # Said once, on the request's access line (gateway/telemetry.py): no traceback, no second line.
        bind(error_type=exc.error_type, error=exc.message)
    # A 404 names no job: the id it was asked for does not exist, and nothing submitted is echoed.
    job_id = exc.job_id or (None if exc.status == 404 else _job_id(request))
    body = error_body(exc.error_type, exc.message, field=exc.field, details=exc.details, job_id=job_id)
    return JSONResponse(body, status_code=exc.status, headers=headers or None)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _api_error_response(request, exc)

    @app.exception_handler(RPCError)
    async def _rpc_error(request: Request, exc: RPCError):
        if exc.status in OUTAGE_STATUSES:
            kind = ErrorType.TEMPORAL_UNAVAILABLE
            outage = ApiError(kind, f"Temporal is unavailable ({exc.status.name.lower()}); retry later")
            return _api_error_response(request, outage)
        log.error("Temporal refused a gateway call: %s %s", exc.status.name, exc.message)
        return JSONResponse(error_body(ErrorType.INTERNAL, "internal error; see gateway logs"), status_code=500)

    async def _misconfigured(request: Request, exc: Exception):
        """A config file a route needs is wrong: the operator's to fix (`gpt-orchestrator check-config`)."""
        message = str(exc) if isinstance(exc, InventoryError) else f"AGENTS_FILE: {exc}"
        kind = ErrorType.MISCONFIGURED
        return _api_error_response(request, ApiError(kind, message))

    app.add_exception_handler(InventoryError, _misconfigured)
    app.add_exception_handler(AgentConfigError, _misconfigured)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        details = validation_details(exc.errors())
        first = details[0] if details else {"field": "body", "reason": "invalid"}
        message = f"{first['field']}: {first['reason']}"
        body = error_body(ErrorType.VALIDATION, message, field=first["field"], details=details)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        error_type = {
            401: ErrorType.UNAUTHORIZED, 404: ErrorType.NOT_FOUND, 405: ErrorType.METHOD_NOT_ALLOWED, 413: ErrorType.PAYLOAD_TOO_LARGE,
        }.get(exc.status_code, ErrorType.HTTP_ERROR)  # fmt: skip
        return JSONResponse(error_body(error_type, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        # Logged with its type only: the message may carry request data.
        log.error("unhandled %s in gateway", type(exc).__name__, exc_info=exc)
        return JSONResponse(error_body(ErrorType.INTERNAL, "internal error; see gateway logs"), status_code=500)
