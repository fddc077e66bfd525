"""The published contract, completed in one place: every status an operation can answer, with its body.

FastAPI documents what a route declares (its models, the 409s it raises itself). What every route
shares is added here, from what the route *is*, so no route documents it by hand and none forgets it:

- behind the bearer token: 401 `Unauthorized`, 403 `Forbidden` (the key's role may not do this; the
  operation lists the roles that may in `x-required-roles`), 429 `RateLimited` (the key's token bucket
  is empty; `Retry-After` and the RateLimit fields), and 503 (`AuthNotConfigured`, `TemporalUnavailable`,
  `WorkerUnavailable`, `McpCatalogUnavailable`: the gateway cannot reach what it needs);
- an id in the path: 404 (an unknown id, or one that is not an id at all: nothing is echoed); every
  path parameter is documented as one path segment (its pattern);
- a request body: 408 `RequestTimeout`, 413 `PayloadTooLarge` and 422 (the body is not UTF-8 JSON, or fails the model);
- any parameter: 422 with the gateway's own error body (not FastAPI's `HTTPValidationError`);
- an operation that answers with a job's outcome (`x-job-outcome`): that job's error statuses.

`ContractRoute` makes the body rule
true: a body that is not UTF-8 JSON is a 422 naming the field `body` and the byte position, never
FastAPI's 400, and never the offending text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from config.api_keys import roles_for
from gateway.auth import RoleCheck, access_of, api_routes, bearer
from gateway.errors import ApiError
from intents.canonical import JOB_ID_PATTERN
from intents.errors import ErrorType
from intents.schedules import SCHEDULE_ID_PATTERN

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
JOB_OUTCOME = "x-job-outcome"
REQUIRED_ROLES = "x-required-roles"
# Path parameters are one path segment; ids are Temporal workflow ids the gateway made. Values outside
# these patterns are answered 404 (documented), never echoed.
ID_PARAMS = {
    "job_id": JOB_ID_PATTERN.pattern,
    "workflow_id": JOB_ID_PATTERN.pattern,
    "schedule_id": SCHEDULE_ID_PATTERN,
}
SEGMENT_PATTERN = r"^[^/.][^/]*$"

STANDARD: dict[int, str] = {
    401: "Unauthorized: missing, wrong or expired key (compared in constant time). Header WWW-Authenticate: Bearer.",
    403: "Forbidden: this key's role may not do this (x-required-roles lists the roles that may); error.details "
    "names them and the key's role.",
    404: "NotFound: no such job, workflow or schedule (unknown, older than the namespace retention, or not an id).",
    408: "RequestTimeout: the body did not arrive within BODY_READ_TIMEOUT_S; the connection is closed.",
    413: "PayloadTooLarge: the body is over MAX_BODY_BYTES, declared or streamed.",
    422: "ValidationError: the body is not UTF-8 JSON, or a parameter or field fails its model; "
    "error.field names it (`body` for the body itself, with the byte position), details lists every problem.",
    429: "RateLimited: this key's token bucket is empty. Retry-After says when to come back; RateLimit-Policy and "
    "RateLimit (draft-ietf-httpapi-ratelimit-headers) describe the quota.",
    503: "AuthNotConfigured, TemporalUnavailable, WorkerUnavailable, McpCatalogUnavailable: the gateway "
    "cannot serve it now; retry later.",
}
# What a job's own failure answers (gateway.errors.STATUS_BY_ERROR_TYPE), on operations that wait for one.
JOB_OUTCOME_STATUSES: dict[int, str] = {
    400: "The job failed a policy check at run time (UnsafeCommand, UnknownHost, CallbackUrlRejected, InvalidDefinition).",
    409: "The job ended rejected, expired, cancelled or terminated (`job_status` says which).",
    422: "The job's inputs failed its handler's validation (ValidationError).",
    502: "A peer failed for good: bad request or auth (UpstreamBadRequest, UpstreamAuth, SshAuthError, "
    "HostKeyMismatch, ToolError, StepFailed).",
    503: "A peer is unavailable after retries (UpstreamUnavailable).",
    504: "A peer or command timed out (SshCommandTimeout, ActivityTimeout).",
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": dict(ERROR_REF)}}}


def _add(responses: dict[str, Any], status: int, description: str) -> None:
    """Add a documented error status; a route's own description (when it declares one) is kept."""
    key = str(status)
    if key not in responses:
        responses[key] = _error_response(description)
        return
    schema = responses[key].get("content", {}).get("application/json", {}).get("schema", {})
    if not schema or schema.get("$ref", "").endswith("/HTTPValidationError"):
        responses[key]["content"] = {"application/json": {"schema": dict(ERROR_REF)}}
    if responses[key].get("description") in (None, "", "Validation Error", "Successful Response"):
        responses[key]["description"] = description


def complete_operation(op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    params = op.get("parameters", [])
    if op.get("security"):
        for status in (401, 403, 429, 503):
            _add(responses, status, STANDARD[status])
    for p in params:
        if p.get("in") == "path":
            p["schema"].setdefault("pattern", ID_PARAMS.get(p["name"], SEGMENT_PATTERN))
            if p["name"] in ID_PARAMS:
                _add(responses, 404, STANDARD[404])
    if "requestBody" in op:
        _add(responses, 408, STANDARD[408])
        _add(responses, 413, STANDARD[413])
    if "requestBody" in op or params:
        _add(responses, 422, STANDARD[422])
    if op.pop(JOB_OUTCOME, False):
        for status, description in JOB_OUTCOME_STATUSES.items():
            _add(responses, status, description)


def _mark_roles(app: FastAPI, doc: dict[str, Any]) -> None:
    """`x-required-roles` on every operation behind a key: the roles that may call it (config/api_keys.py)."""
    for path, methods, route in api_routes(app):
        checks = [a for a in access_of(route) if isinstance(a, RoleCheck)]
        item = doc.get("paths", {}).get(path, {})
        for method in methods if checks else ():
            if (op := item.get(method.lower())) is not None:
                op[REQUIRED_ROLES] = [str(r) for r in roles_for(checks[0].action)]


def contract(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, completed. Cached on the app like FastAPI's own."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        for item in doc.get("paths", {}).values():
            for op in item.values():
                if isinstance(op, dict) and "responses" in op:
                    complete_operation(op)
        _mark_roles(app, doc)
        schemas = doc.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in schemas and f'"#/components/schemas/{unused}"' not in json.dumps(doc["paths"]):
                del schemas[unused]
        app.openapi_schema = doc
    return app.openapi_schema


def install(app: FastAPI) -> None:
    app.openapi = lambda: contract(app)  # type: ignore[method-assign]


def body_problem(body: bytes) -> str | None:
    """Why `body` is not a JSON text (RFC 8259: UTF-8), by position only: its content is never quoted."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte position {exc.start})"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}, character position {exc.pos})"
    except RecursionError:
        return "invalid JSON: nested too deeply"
    return None


class ContractRoute(APIRoute):
    """A route whose body, when it takes one, must be UTF-8 JSON: else 422 naming `body`, before FastAPI
    parses it (FastAPI answers a non-UTF-8 body 400, and names a JSON syntax error by its position alone)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        checks = [a for a in access_of(self) if isinstance(a, RoleCheck)]

        async def checked(request: Request) -> Response:
            body = await request.body()
            if body and (problem := body_problem(body)) is not None:
                for (
                    check
                ) in checks:  # a caller without the key or the role learns that, not what is wrong with its body
                    await check(request, await bearer(request))
                raise ApiError(
                    ErrorType.VALIDATION,
                    f"body: {problem}",
                    field="body",
                    details=[{"field": "body", "reason": problem}],
                )
            return await handler(request)

        return checked
