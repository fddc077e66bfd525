"""Tenants reach intents at one boundary: an input field named `tenant`, set from the caller's key.

An intent whose input model declares `tenant` (memory.* once memories are per tenant) is given the
requesting key's tenant there by whoever starts it: the gateway for /orchestrate, the GPT workflow
runner for its steps (from the run's `Tenant` search attribute). Whatever a client put in `tenant` is
replaced, so a search can never be pointed at another tenant's memories. MCP tools are left alone:
their schemas are the tool's own, and a `tenant` argument there means whatever the tool says.
"""

from __future__ import annotations

from typing import Any

from config.api_keys import DEFAULT_TENANT
from intents.spec import IntentSpec, Mode

TENANT_FIELD = "tenant"


def tenant_scoped(spec: IntentSpec) -> bool:
    return spec.mode != Mode.MCP and TENANT_FIELD in spec.input_model.model_fields


def with_tenant(spec: IntentSpec, inputs: dict[str, Any], tenant: str | None) -> dict[str, Any]:
    """`inputs` with the caller's tenant in `tenant` (for tenant-scoped intents; others unchanged)."""
    if not tenant_scoped(spec):
        return inputs
    return {**inputs, TENANT_FIELD: tenant or DEFAULT_TENANT}


def public_schema(spec: IntentSpec) -> dict[str, Any]:
    """The input JSON schema a client sees: without `tenant`, which is never the client's to set."""
    schema = spec.input_model.model_json_schema()
    if tenant_scoped(spec):
        schema.get("properties", {}).pop(TENANT_FIELD, None)
        if TENANT_FIELD in schema.get("required", []):
            schema["required"] = [f for f in schema["required"] if f != TENANT_FIELD]
    return schema
