"""How an HTTP peer's failure becomes a typed activity error (n8n webhooks, callback receivers).

Transient, so retried: timeouts, connection errors, 408, 429 and 5xx. Permanent: 401/403 (fix the
credentials), 3xx (redirects are never followed: they could lead anywhere) and other 4xx.
"""

from __future__ import annotations

import httpx

from intents.errors import ErrorType, app_error
from intents.text import one_line
from policies.redact import Scrubber

BODY_SNIPPET_CHARS = 300


def body_snippet(response: httpx.Response, scrub: Scrubber, limit: int = BODY_SNIPPET_CHARS) -> str:
    """The start of a peer's body for an error message, on one line; scrubbed of configured secrets
    before it is cut, so a secret is never half-shown."""
    return one_line(scrub.text(response.text), limit) or "(empty body)"


def transport_failure(err: httpx.HTTPError, where: str, timeout_s: float):
    if isinstance(err, httpx.TimeoutException):
        return app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"{where} timed out after {timeout_s}s", retryable=True)
    return app_error(
        ErrorType.UPSTREAM_UNAVAILABLE, f"{where} unreachable: {type(err).__name__}: {err}", retryable=True
    )


def status_failure(status: int, where: str, *, detail: str = "", auth_hint: str = ""):
    """The error for a non-2xx answer, or None for 2xx."""
    if 200 <= status < 300:
        return None
    said = f"{where} answered {status}" + (f": {detail}" if detail else "")
    if status in (408, 429) or status >= 500:
        return app_error(ErrorType.UPSTREAM_UNAVAILABLE, said, retryable=True)
    if status in (401, 403):
        return app_error(ErrorType.UPSTREAM_AUTH, said + auth_hint)
    if 300 <= status < 400:
        return app_error(ErrorType.UPSTREAM_BAD_REQUEST, f"{said}; redirects are not followed")
    return app_error(ErrorType.UPSTREAM_BAD_REQUEST, said)
