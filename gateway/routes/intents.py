"""GET /intents: every intent with its mode, route, description and JSON schema, from the one registry.

MCP tools join the registry as `mcp.<server>.<tool>` intents when the catalog is read (first call,
`?refresh=1`, or an unknown mcp.* intent; see gateway/mcp_catalog_cache.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from gateway.auth import Reads
from gateway.openapi import ContractRoute
from intents import registry
from intents.canonical import canonical_json
from intents.tenancy import public_schema

router = APIRouter(route_class=ContractRoute, tags=["intents"])


def fit(body: dict[str, Any], limit: int) -> dict[str, Any]:
    """Keep the listing under the response limit ChatGPT imposes: drop output schemas first, then
    input schemas, and say so (a `prefix` query gets one family's schemas in full)."""
    for drop in ("output_schema", "input_schema"):
        if len(canonical_json(body)) <= limit:
            return body
        for intent in body["intents"]:
            intent.pop(drop, None)
        body["schemas_omitted"] = body.get("schemas_omitted", []) + [drop]
    return body


@router.get(
    "/intents",
    operation_id="listIntents",
    summary="List the intents this gateway can run, with input schemas and examples",
    description="Each intent's name, mode, route, input JSON schema and an example. refresh=true re-reads the "
    "MCP servers' tool lists. Use prefix (e.g. 'gmail.') to list one family.",
)
async def list_intents(
    request: Request,
    who: Reads,
    refresh: bool = Query(
        False, description="Re-read the tool lists of the MCP servers first (mcp.<server>.<tool> intents)."
    ),
    prefix: str | None = Query(
        None, max_length=200, description="Only intents whose name starts with this, e.g. 'mcp.' or 'gmail.'."
    ),
) -> dict:
    catalog = request.app.state.mcp_catalog
    if refresh:
        await catalog.refresh()
    else:
        await catalog.ensure_loaded()
    table = request.app.state.routes
    intents = []
    for spec in registry.all_intents():
        if prefix and not spec.name.startswith(prefix):
            continue
        route = table.route_for(spec.name)
        # `tenant` (memory.*) is set from the key, never by a client: it is not shown as an input.
        intents.append(spec.public() | {"input_schema": public_schema(spec), "route": route.pattern if route else None})
    body = {"intents": intents, "routes": [r.public() for r in table.routes], "mcp": catalog.public()}
    return fit(body, request.app.state.settings.max_result_chars)
