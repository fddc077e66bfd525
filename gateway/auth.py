"""Bearer-token auth as a dependency, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from gateway.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="The gateway's API_KEY.")


def token_error(expected: SecretStr | None, scheme: str | None, credentials: str | None) -> ApiError | None:
    """Why a request's bearer token is refused (None: it is accepted). Shared by the dependency and the
    body guard (gateway/limits.py), which checks it before reading any body."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if expected is None:
        return ApiError(503, "AuthNotConfigured", "the gateway has no API_KEY configured", headers=challenge)
    if not credentials or (scheme or "").lower() != "bearer":
        return ApiError(401, "Unauthorized", "missing bearer token (Authorization: Bearer <API_KEY>)", field="Authorization", headers=challenge)
    if not hmac.compare_digest(credentials.encode(), expected.get_secret_value().encode()):
        return ApiError(401, "Unauthorized", "invalid bearer token", field="Authorization", headers=challenge)
    return None


def token_error_for_header(expected: SecretStr | None, authorization: str | None) -> ApiError | None:
    scheme, _, credentials = (authorization or "").partition(" ")
    return token_error(expected, scheme, credentials.strip())


async def require_token(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    # async: no I/O here, and a plain `def` dependency costs every request a hop through a worker thread.
    error = token_error(
        request.app.state.settings.api_key, creds.scheme if creds else None, creds.credentials if creds else None
    )
    if error is not None:
        raise error


# The gateway has one shared API key, so every caller is the same principal. Per-user identities
# replace this one function; everything that records who asked (approvals' `requested_by`) calls it.
SHARED_KEY_PRINCIPAL = "api-key"


def principal(request: Request) -> str:
    """Who is calling (after require_token)."""
    return SHARED_KEY_PRINCIPAL
