"""OAuth for clients that speak only OAuth (ChatGPT connectors, some MCP clients): the gateway is an
OAuth 2.1 *resource server*. It never issues tokens; it names its authorization server and checks the
JWT access tokens that server issues.

- `GET /.well-known/oauth-protected-resource` (and `…/mcp`, RFC 9728's path form for the /mcp
  resource) publishes the resource, its authorization server (`OAUTH_ISSUER`) and the scopes.
  A 401 carries `WWW-Authenticate: Bearer resource_metadata="…"` so a client can discover it.
- A token is checked with PyJWT against the issuer's JWKS (fetched over HTTPS, cached, re-read when a
  token names a key id it has not seen, at most once every JWKS_REFETCH_S): signature (asymmetric
  algorithms only), `iss`, `aud` (the resource, or `OAUTH_AUDIENCE`), `exp` (and `nbf`/`iat`).
- The token's subject and scopes become a grant: the highest role its scopes give
  (`OAUTH_SCOPE_ROLES`), raised by the subject's own entry (`OAUTH_SUBJECTS`); the tenant from that
  entry, else the `OAUTH_TENANT_CLAIM` claim, else `default`. A valid token that grants no role is a 403.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from mcp.shared.auth import ProtectedResourceMetadata
from starlette.requests import Request

from config import Settings
from config.api_keys import DEFAULT_TENANT, TENANT_NAME, Rate, Role
from gateway.errors import ApiError
from intents.errors import ErrorType

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
JWKS_TTL_S = 300.0
JWKS_REFETCH_S = 30.0
HTTP_TIMEOUT_S = 5.0
METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_PATH = "/mcp"
ROLE_RANK = {Role.CALLER: 1, Role.APPROVER: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Grant:
    """What a verified token grants: recorded like a key's name, role and tenant."""

    name: str
    role: Role
    tenant: str
    rate: Rate | None


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def base_url(settings: Settings, scope: Mapping[str, Any]) -> str:
    """The gateway's public base URL: PUBLIC_URL, else what the request was addressed to."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(Request(dict(scope)).base_url).rstrip("/")


def resource_url(settings: Settings, scope: Mapping[str, Any]) -> str:
    return base_url(settings, scope) + MCP_PATH


def challenge(settings: Settings, scope: Mapping[str, Any], error: str | None = None) -> dict[str, str]:
    """The WWW-Authenticate header of a 401 (RFC 6750; resource_metadata from RFC 9728 when OAuth is on)."""
    parts = []
    if settings.oauth_issuer:
        parts.append(f'resource_metadata="{base_url(settings, scope)}{METADATA_PATH}{MCP_PATH}"')
    if error:
        parts.append(f'error="{error}"')
    return {"WWW-Authenticate": "Bearer" + (" " + ", ".join(parts) if parts else "")}


def metadata(settings: Settings, scope: Mapping[str, Any]) -> dict[str, Any]:
    if not settings.oauth_issuer:
        raise ApiError(ErrorType.NOT_FOUND, "OAuth is not configured on this gateway (OAUTH_ISSUER); use an API key")
    doc = ProtectedResourceMetadata(
        resource=resource_url(settings, scope),
        authorization_servers=[settings.oauth_issuer],
        scopes_supported=sorted(settings.oauth_scope_roles),
        bearer_methods_supported=["header"],
        resource_name="gpt-orchestrator",
    )
    return doc.model_dump(mode="json", exclude_none=True)


class OAuthVerifier:
    """Verifies access tokens of the one configured issuer and maps them onto grants."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = settings.oauth_issuer
        self.rate = Rate.parse(settings.oauth_rate) if settings.oauth_rate else None
        self._jwks: jwt.PyJWKSet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.issuer is not None

    async def grant(self, token: str, scope: Mapping[str, Any]) -> Grant:
        audience = self.settings.oauth_audience or resource_url(self.settings, scope)
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(header.get("kid"))
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[a for a in ALGORITHMS if a == header.get("alg")] or ALGORITHMS[:1],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise self._invalid("the access token has expired") from None
        except jwt.InvalidAudienceError:
            raise self._invalid("the access token is not for this resource (aud)") from None
        except jwt.InvalidIssuerError:
            raise self._invalid("the access token is from another issuer (iss)") from None
        except jwt.PyJWTError as exc:
            raise self._invalid(f"invalid access token ({type(exc).__name__})") from None
        return self._grant_of(claims)

    def _grant_of(self, claims: dict[str, Any]) -> Grant:
        subject = str(claims["sub"])
        scopes = set(str(claims.get("scope", "")).split()) | set(
            claims.get("scp", []) if isinstance(claims.get("scp"), list) else []
        )
        roles = [Role(self.settings.oauth_scope_roles[s]) for s in scopes if s in self.settings.oauth_scope_roles]
        entry = self.settings.oauth_subjects.get(subject, {})
        if entry.get("role"):
            roles.append(Role(entry["role"]))
        if not roles:
            raise ApiError(
                ErrorType.FORBIDDEN,
                "the access token grants no role here; ask for one of the scopes: "
                + ", ".join(sorted(self.settings.oauth_scope_roles)),
                details={"required_scopes": sorted(self.settings.oauth_scope_roles)},
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        tenant = entry.get("tenant") or (
            claims.get(self.settings.oauth_tenant_claim) if self.settings.oauth_tenant_claim else None
        )
        tenant = str(tenant) if tenant else DEFAULT_TENANT
        if not TENANT_NAME.match(tenant):
            raise self._invalid("the access token's tenant claim is not a valid tenant name")
        role = max(roles, key=lambda r: ROLE_RANK[r])
        return Grant(name=f"oauth:{subject}"[:200], role=role, tenant=tenant, rate=self.rate)

    @staticmethod
    def _invalid(message: str) -> ApiError:
        return ApiError(
            ErrorType.UNAUTHORIZED,
            message,
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        jwks = await self._keyset(refresh=False)
        found = _find(jwks, kid)
        if found is None and time.monotonic() - self._fetched_at >= JWKS_REFETCH_S:
            found = _find(await self._keyset(refresh=True), kid)  # the issuer may have rotated its keys
        if found is None:
            raise jwt.InvalidKeyError("no key of the issuer's JWKS matches the token")
        return found

    async def _keyset(self, *, refresh: bool) -> jwt.PyJWKSet:
        async with self._lock:
            fresh = time.monotonic() - self._fetched_at < JWKS_TTL_S
            if self._jwks is not None and fresh and not refresh:
                return self._jwks
            try:
                async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as http:
                    url = self.settings.oauth_jwks_url or await _discover_jwks(http, self.issuer or "")
                    resp = await http.get(url)
                    resp.raise_for_status()
                    self._jwks = jwt.PyJWKSet.from_dict(resp.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                if self._jwks is not None:
                    return self._jwks  # keep the keys we had through a blip of the issuer
                raise ApiError(
                    ErrorType.UPSTREAM_UNAVAILABLE, f"cannot read the OAuth issuer's keys (JWKS): {type(exc).__name__}"
                ) from None
            self._fetched_at = time.monotonic()
            return self._jwks


def _find(jwks: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return jwks.keys[0] if len(jwks.keys) == 1 else None
    return next((k for k in jwks.keys if k.key_id == kid), None)


async def _discover_jwks(http: httpx.AsyncClient, issuer: str) -> str:
    """The issuer's jwks_uri from its metadata: RFC 8414 first, then OpenID Connect discovery."""
    base = issuer.rstrip("/")
    for well_known in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        resp = await http.get(base + well_known)
        if resp.status_code == 200 and isinstance(uri := resp.json().get("jwks_uri"), str):
            return uri
    raise ValueError("the issuer publishes no jwks_uri")
