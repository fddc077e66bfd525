"""Documents clients fetch before they hold a key: the Actions schema ChatGPT imports from a URL, and
the OAuth protected-resource metadata (RFC 9728) MCP clients read to find the authorization server."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gateway import oauth
from gateway.actions_schema import actions_schema, check_server_url
from gateway.auth import PUBLIC
from gateway.errors import ApiError
from intents.errors import ErrorType

router = APIRouter(dependencies=[Depends(PUBLIC)], include_in_schema=False)


@router.get("/actions/openapi.json")
async def actions_openapi(request: Request) -> JSONResponse:
    """The fitted ChatGPT Actions schema (a caller key's operations), with this gateway's public URL as
    its server: PUBLIC_URL, else the URL this request came to. ChatGPT needs https, so a plain-http URL
    is refused unless it is loopback (local testing)."""
    settings = request.app.state.settings
    server_url = oauth.base_url(settings, request.scope)
    try:
        check_server_url(server_url, allow_loopback_http=True)
    except ValueError:
        raise ApiError(
            ErrorType.MISCONFIGURED,
            "PUBLIC_URL: this gateway is reached over plain http; set PUBLIC_URL to its https:// URL "
            "(ChatGPT imports and calls Actions over HTTPS only)",
        ) from None
    return JSONResponse(actions_schema(request.app, server_url, role="caller"))


@router.get("/.well-known/oauth-protected-resource")
@router.get("/.well-known/oauth-protected-resource/mcp")
async def protected_resource_metadata(request: Request) -> JSONResponse:
    return JSONResponse(oauth.metadata(request.app.state.settings, request.scope))
