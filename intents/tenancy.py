"""Tenants reach a handler at one boundary: the `tenant` of its argument, set where it is called.

An intent whose handler keeps tenants apart (`IntentSpec.tenant_scoped`, e.g. memory.*; or any
non-MCP intent whose input model declares a `tenant` field) gets the job's tenant added to its
activity argument by the workflow that calls it: IntentWorkflow for /orchestrate jobs, the GPT
workflow runner for steps and memory lookups. The job's tenant is its `Tenant` search attribute, which
the gateway sets from the requesting key and child runs inherit. Whatever a client put in `tenant` is
replaced there, and the public input models of memory.* do not even have the field (a client sending
it gets a 422), so a search can never be pointed at another tenant's memories. MCP tools are left
alone: their schemas are the tool's own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from config.api_keys import DEFAULT_TENANT
from intents.spec import IntentSpec, Mode

TENANT_FIELD = "tenant"


def tenant_scoped(spec: IntentSpec) -> bool:
    return spec.tenant_scoped or (spec.mode != Mode.MCP and TENANT_FIELD in spec.input_model.model_fields)


def with_tenant(spec: IntentSpec, call: Any, tenant: str | None) -> Any:
    """The handler's argument with the job's tenant in `tenant` (tenant-scoped intents; others unchanged)."""
    if not tenant_scoped(spec):
        return call
    tenant = tenant or DEFAULT_TENANT
    if isinstance(call, BaseModel):
        return call.model_copy(update={TENANT_FIELD: tenant})
    if isinstance(call, dict):
        return {**call, TENANT_FIELD: tenant}
    return call


def public_schema(spec: IntentSpec) -> dict[str, Any]:
    """The input JSON schema a client sees: never a `tenant`, which is not the client's to set."""
    schema = spec.input_model.model_json_schema()
    if tenant_scoped(spec):
        schema.get("properties", {}).pop(TENANT_FIELD, None)
        if TENANT_FIELD in schema.get("required", []):
            schema["required"] = [f for f in schema["required"] if f != TENANT_FIELD]
    return schema
