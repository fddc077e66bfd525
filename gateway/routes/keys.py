"""GET /whoami (any key) and the admin's key management over HTTP: the same store and rules as
`gpt-orchestrator keys` (config/api_keys.py). A new or rotated key is in the answer once; the file
keeps its hash. Operator routes: not in the ChatGPT Actions schema."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from config.api_keys import (
    DEFAULT_RATE,
    DEFAULT_TENANT,
    KEY_NAME,
    TENANT_NAME,
    ApiKey,
    KeyExists,
    KeyFileError,
    KeyNotFound,
    Role,
    add_key,
    load_keys,
    revoke_key,
    rotate_key,
)
from gateway.auth import Manages, Reads
from gateway.errors import ApiError
from gateway.openapi import ContractRoute
from gateway.schemas import ErrorResponse
from intents.errors import ErrorType

router = APIRouter(route_class=ContractRoute, tags=["keys"])
OPERATOR = {"x-operator-only": True}
KeyName = Path(description="The key's name.", max_length=64)


class WhoAmI(BaseModel):
    name: str = Field(description="Recorded as requested_by on the jobs this key starts, and as approver.")
    role: Role
    tenant: str
    rate: str | None = Field(description="The key's token bucket; null = not limited.")


class KeyInfo(BaseModel):
    name: str
    role: Role
    tenant: str
    rate: str
    created: str
    expires: str = Field(description="Last day (UTC) the key works; empty = no expiry.")


class NewKey(BaseModel):
    name: str = Field(pattern=KEY_NAME.pattern, description="Recorded as requested_by and approver.")
    role: Role
    tenant: str = Field(default=DEFAULT_TENANT, pattern=TENANT_NAME.pattern)
    rate: str = Field(default=DEFAULT_RATE, max_length=32, description="N/s, N/min or N/h.")
    expires: date | None = None


class IssuedKey(KeyInfo):
    key: str = Field(description="The key itself: shown this once, never stored (only its hash is).")


@router.get(
    "/whoami",
    operation_id="whoAmI",
    summary="The calling key: name, role, tenant and rate limit",
    response_model=WhoAmI,
)
async def whoami(who: Reads) -> WhoAmI:
    return WhoAmI(name=who.name, role=who.role, tenant=who.tenant, rate=str(who.rate) if who.rate else None)


def _path(request: Request):
    return request.app.state.settings.api_keys_path


def _issued(token: str, key: ApiKey) -> IssuedKey:
    return IssuedKey(key=token, **key.listing())


def _misconfigured(exc: KeyFileError) -> ApiError:
    return ApiError(ErrorType.MISCONFIGURED, str(exc))


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "NotFound: no key of that name."}
}


@router.get(
    "/keys",
    operation_id="listKeys",
    summary="Every named key (never the key itself)",
    response_model=list[KeyInfo],
    openapi_extra=OPERATOR,
)
async def list_keys(request: Request, who: Manages) -> list[KeyInfo]:
    try:
        return [KeyInfo(**k.listing()) for k in load_keys(_path(request)).keys]
    except KeyFileError as exc:
        raise _misconfigured(exc) from None


@router.post(
    "/keys",
    operation_id="addKey",
    summary="Make a named key; the answer shows it once",
    status_code=201,
    response_model=IssuedKey,
    responses={
        409: {"model": ErrorResponse, "description": "KeyExists: a key has that name (rotate it, or revoke it first)."}
    },
    openapi_extra=OPERATOR,
)
async def create_key(request: Request, who: Manages, body: NewKey) -> IssuedKey:
    try:
        token, key = add_key(
            _path(request), body.name, body.role, tenant=body.tenant, rate=body.rate, expires=body.expires
        )
    except KeyExists:
        raise ApiError(
            ErrorType.KEY_EXISTS, "a key with this name exists (rotate it, or revoke it first)", field="name"
        ) from None
    except KeyFileError as exc:
        raise _misconfigured(exc) from None
    except ValueError as exc:  # the rate, say: "rate: must look like N/min ..." (the value is not repeated)
        field = str(exc).split(":", 1)[0]
        raise ApiError(ErrorType.VALIDATION, str(exc), field=field) from None
    return _issued(token, key)


@router.post(
    "/keys/{name}/rotate",
    operation_id="rotateKey",
    summary="A new secret for the same name and grants; the old one stops working",
    response_model=IssuedKey,
    responses=_NOT_FOUND,
    openapi_extra=OPERATOR,
)
async def rotate(request: Request, who: Manages, name: str = KeyName) -> IssuedKey:
    try:
        token, key = rotate_key(_path(request), name)
    except KeyNotFound:
        raise ApiError(ErrorType.NOT_FOUND, "no key of that name", field="name") from None
    except KeyFileError as exc:
        raise _misconfigured(exc) from None
    return _issued(token, key)


@router.delete(
    "/keys/{name}",
    operation_id="revokeKey",
    summary="Revoke a key; it stops working at once",
    response_model=KeyInfo,
    responses=_NOT_FOUND,
    openapi_extra=OPERATOR,
)
async def revoke(request: Request, who: Manages, name: str = KeyName) -> KeyInfo:
    try:
        key = revoke_key(_path(request), name)
    except KeyNotFound:
        raise ApiError(ErrorType.NOT_FOUND, "no key of that name", field="name") from None
    except KeyFileError as exc:
        raise _misconfigured(exc) from None
    return KeyInfo(**key.listing())
