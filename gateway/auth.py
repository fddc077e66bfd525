"""Who is calling, and may they: bearer keys become a Principal (name, role, tenant, rate).

- Keys: the bootstrap `API_KEY` (an admin of the `default` tenant, named `api-key`) and the named keys
  of `API_KEYS_FILE` (config/api_keys.py), compared in constant time against stored hashes. The file
  is re-read when it changes (one `stat` per request), so `keys add|revoke|rotate` apply at once.
- Roles: every route declares the one Action it performs, as a handler parameter (`who: Reads`) or,
  for the open ones, `dependencies=[Depends(PUBLIC)]`. `check_routes` refuses to build an app with a
  route that declares none, so a new route cannot forget. A key outside its role gets 403 naming
  the roles that may.
- Rate: each key's token bucket (gateway/ratelimit.py) is charged once per request, before the body
  is read (gateway/limits.py calls `admit` first) or, for bodiless requests, here.
"""

from __future__ import annotations

import functools
import hmac
import os
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from config import Settings
from config.api_keys import (
    BOOTSTRAP_NAME,
    DEFAULT_TENANT,
    Action,
    KeyFileError,
    KeyStore,
    Rate,
    Role,
    load_keys,
    may,
    roles_for,
)
from gateway import oauth
from gateway.errors import ApiError
from gateway.ratelimit import STATE_KEY, RateLimiter
from infra import logs
from intents.errors import ErrorType

bearer = HTTPBearer(auto_error=False, description="An API key (a named key `gpo_…`, or the bootstrap API_KEY).")
CHALLENGE = {"WWW-Authenticate": "Bearer"}
PRINCIPAL_KEY = "principal"  # scope["state"] entry: the request's Principal once admitted


@dataclass(frozen=True)
class Principal:
    """The caller, as its key says: recorded as requested_by / approver, scoped to its tenant."""

    name: str
    role: Role
    tenant: str = DEFAULT_TENANT
    rate: Rate | None = None
    bootstrap: bool = False

    def may(self, action: Action) -> bool:
        return may(self.role, action)

    @property
    def every_tenant(self) -> bool:
        """Admins read and manage every tenant's jobs; everyone else only their own."""
        return self.role == Role.ADMIN


def _unauthorized(message: str) -> ApiError:
    return ApiError(ErrorType.UNAUTHORIZED, message, field="Authorization", headers=CHALLENGE)


class Keyring:
    """API_KEY plus the named keys of API_KEYS_FILE, re-read whenever the file changes.

    The check is one `stat` per request: inode, size and mtime/ctime in nanoseconds. `keys` rewrites the
    file by rename, so every change is a new inode. A file that stops parsing fails closed for named keys
    (503 Misconfigured naming the problem: a revocation may be in it), while API_KEY keeps working so an
    operator can still reach the gateway."""

    def __init__(self, settings: Settings) -> None:
        self.api_key = settings.api_key
        self.path = settings.api_keys_path
        self.bootstrap_rate = Rate.parse(settings.api_key_rate) if settings.api_key_rate else None
        self._lock = threading.Lock()
        self._stamp: object = object()  # never equal to a real stamp: the first call loads
        self._store = KeyStore()
        self._error: str | None = None

    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return ("unreadable", type(exc).__name__)
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def store(self) -> KeyStore:
        """The named keys as the file says now (raises 503 Misconfigured while the file is broken)."""
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                # stat before read: what is read is at least as new as the stamp remembered for it.
                try:
                    self._store, self._error = load_keys(self.path), None
                except KeyFileError as exc:
                    self._store, self._error = KeyStore(), str(exc)
                self._stamp = stamp
            store, error = self._store, self._error
        if error is not None:
            raise ApiError(ErrorType.MISCONFIGURED, f"{error}; run `gpt-orchestrator check-config`")
        return store

    def authenticate(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if self.api_key is None and not self._has_named_keys():
            message = "the gateway has no API_KEY and no named keys (API_KEYS_FILE) configured"
            raise ApiError(ErrorType.AUTH_NOT_CONFIGURED, message, headers=CHALLENGE)
        if not token or scheme.lower() != "bearer":
            raise _unauthorized("missing bearer token (Authorization: Bearer <key>)")
        is_bootstrap = self.api_key is not None and hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), self.api_key.get_secret_value().encode()
        )
        if is_bootstrap:
            return Principal(
                name=BOOTSTRAP_NAME, role=Role.ADMIN, tenant=DEFAULT_TENANT, rate=self.bootstrap_rate, bootstrap=True
            )
        key = self.store().match(token)
        if key is None:
            raise _unauthorized("invalid bearer token")
        if key.expires is not None and key.expired():
            raise _unauthorized(f"this key expired on {key.expires.isoformat()}; ask an admin to rotate it")
        return Principal(name=key.name, role=key.role, tenant=key.tenant, rate=key.bucket)

    def _has_named_keys(self) -> bool:
        try:
            return bool(self.store().keys)
        except ApiError:
            return True  # a broken file still means keys were meant to exist: say that (503), not "no auth"


class Gatekeeper:
    """Admission of one request: authenticate once, charge the key's bucket once, remember both.

    A bearer token is an API key, or (with OAUTH_ISSUER set) a JWT access token of that issuer
    (gateway/oauth.py), which becomes a Principal named `oauth:<subject>` with the role and tenant it grants."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keyring = Keyring(settings)
        self.oauth = oauth.OAuthVerifier(settings)
        self.limiter = RateLimiter()

    async def authenticate(self, scope: MutableMapping[str, Any], authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        try:
            if self.oauth.enabled and scheme.lower() == "bearer" and oauth.looks_like_jwt(token):
                grant = await self.oauth.grant(token, scope)
                return Principal(name=grant.name, role=grant.role, tenant=grant.tenant, rate=grant.rate)
            if self.oauth.enabled and self.keyring.api_key is None and not token:
                raise _unauthorized("missing bearer token (Authorization: Bearer <key or OAuth access token>)")
            return self.keyring.authenticate(authorization)
        except ApiError as refused:
            if refused.error_type == ErrorType.UNAUTHORIZED:
                # Say where to get a token (RFC 9728), keeping any error code the refusal carries.
                error = (refused.headers or {}).get("WWW-Authenticate", "").partition('error="')[2].rstrip('"') or None
                refused.headers = oauth.challenge(self.settings, scope, error)
            raise

    async def admit(self, scope: MutableMapping[str, Any], authorization: str | None) -> Principal:
        state = scope.setdefault("state", {})
        if (known := state.get(PRINCIPAL_KEY)) is not None:
            return known
        principal = await self.authenticate(scope, authorization)
        logs.bind(key_name=principal.name, tenant=principal.tenant)
        if principal.rate is not None:
            verdict = self.limiter.take(principal.name, principal.rate)
            state[STATE_KEY] = verdict.headers()
            if not verdict.allowed:
                raise ApiError(
                    ErrorType.RATE_LIMITED,
                    f"this key is over its rate of {principal.rate}; retry in {verdict.retry_after_s} s",
                    headers=verdict.headers(),
                )
        state[PRINCIPAL_KEY] = principal
        return principal


def gatekeeper(app: FastAPI) -> Gatekeeper:
    return app.state.gatekeeper


# --- every route declares who may call it --------------------------------------------------------


class Access:
    """Base of the one dependency every route has: a RoleCheck (an Action) or PUBLIC."""


class RoleCheck(Access):
    def __init__(self, action: Action) -> None:
        self.action: Action = action

    async def __call__(
        self, request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> Principal:
        principal = await gatekeeper(request.app).admit(request.scope, request.headers.get("authorization"))
        if not principal.may(self.action):
            raise forbidden(principal, self.action)
        return principal

    def __repr__(self) -> str:
        return f"allow({self.action})"


class Public(Access):
    """Open to anyone (GET /health; GET /metrics checks its own METRICS_TOKEN)."""

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC = Public()


@functools.cache
def allow(action: Action) -> RoleCheck:
    """One instance per action, so FastAPI resolves it once per request however often it is named."""
    return RoleCheck(action)


def forbidden(principal: Principal, action: Action) -> ApiError:
    needed = roles_for(action)
    names = " or ".join(str(r) for r in needed)
    return ApiError(
        ErrorType.FORBIDDEN,
        f"this operation needs the {names} role; this key ({principal.name}) has the {principal.role} role",
        details={"required_roles": [str(r) for r in needed], "role": str(principal.role)},
    )


# What a handler names to declare its route's role and receive the caller.
Runs = Annotated[Principal, Depends(allow(Action.RUN))]
Reads = Annotated[Principal, Depends(allow(Action.READ))]
Cancels = Annotated[Principal, Depends(allow(Action.CANCEL))]
Decides = Annotated[Principal, Depends(allow(Action.DECIDE))]
Manages = Annotated[Principal, Depends(allow(Action.MANAGE))]


def access_of(route) -> list[Access]:
    """The Access dependencies of a route (an APIRoute, or FastAPI's RouteContext of an included one)."""
    dependant = getattr(route, "dependant", None)
    return [dep.call for dep in (dependant.dependencies if dependant else []) if isinstance(dep.call, Access)]


def api_routes(app: FastAPI):
    """(path, methods, route) for every route the app serves, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        yield context.path_format, set(context.methods or ()), context


def check_routes(app: FastAPI) -> None:
    """Refuse an app with a route that does not say who may call it (or says it twice)."""
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    for path, methods, context in api_routes(app):
        if isinstance(context.original_route, APIRoute):
            declared = access_of(context)
            if len(declared) != 1:
                problem = "declares no role" if not declared else f"declares {len(declared)} roles ({declared})"
                raise RuntimeError(
                    f"route {','.join(sorted(methods))} {path} {problem}: give its handler one of "
                    "`who: Runs|Reads|Cancels|Decides|Manages` (gateway/auth.py), or `dependencies=[Depends(PUBLIC)]` "
                    "if it is open to anyone"
                )
        elif getattr(getattr(context.original_route, "endpoint", None), "admits_itself", False):
            continue  # an ASGI endpoint (/mcp) that runs the same admission and role checks itself
        elif path not in docs:
            raise RuntimeError(f"route {path} is not a FastAPI route, so it cannot declare a role")


def principal(request: Request) -> Principal:
    """The admitted caller of this request (after its route's RoleCheck ran)."""
    found = request.scope.get("state", {}).get(PRINCIPAL_KEY)
    if found is None:
        raise RuntimeError("principal() called on a request no RoleCheck admitted")
    return found
