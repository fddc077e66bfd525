"""Bearer-token auth as a dependency, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="The gateway's API_KEY.")


def require_token(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    expected = request.app.state.settings.api_key
    challenge = {"WWW-Authenticate": "Bearer"}
    if expected is None:
        raise ApiError(503, "AuthNotConfigured", "the gateway has no API_KEY configured", headers=challenge)
    if creds is None or creds.scheme.lower() != "bearer":
        raise ApiError(401, "Unauthorized", "missing bearer token (Authorization: Bearer <API_KEY>)", field="Authorization", headers=challenge)
    if not hmac.compare_digest(creds.credentials.encode(), expected.get_secret_value().encode()):
        raise ApiError(401, "Unauthorized", "invalid bearer token", field="Authorization", headers=challenge)


# The gateway has one shared API key, so every caller is the same principal. Per-user identities
# replace this one function; everything that records who asked (approvals' `requested_by`) calls it.
SHARED_KEY_PRINCIPAL = "api-key"


def principal(request: Request) -> str:
    """Who is calling (after require_token)."""
    return SHARED_KEY_PRINCIPAL
