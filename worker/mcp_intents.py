"""Worker start: list the configured MCP servers' tools and register them as `mcp.<server>.<tool>` intents.

The worker's own registry then knows each tool's schema and time limit (its workflows route by it,
and in `gpt-orchestrator dev` the gateway shares it). Gateways in other processes read the same
catalog through McpCatalogWorkflow. A slow or dead server never stops the worker from starting.
"""

from __future__ import annotations

import asyncio
import logging

from activities.mcp import McpActivities
from config import Settings
from intents.mcp import McpCatalog, McpListRequest
from intents.registry import apply_catalog

log = logging.getLogger("gpt_orchestrator.worker")


async def load_mcp_intents(settings: Settings) -> McpCatalog | None:
    if not settings.mcp_servers:
        return None
    try:
        catalog = await asyncio.wait_for(
            McpActivities(settings).list_tools(McpListRequest()), timeout=settings.mcp_catalog_timeout_s
        )
    except Exception as exc:  # noqa: BLE001 - the worker starts anyway; the gateway can refresh later
        log.warning("MCP tool lists not read at start (%s); GET /intents?refresh=1 retries", type(exc).__name__)
        return None
    change = apply_catalog(catalog, settings.mcp_servers)
    for entry in catalog.servers:
        if entry.error:
            log.warning("MCP server %s: %s", entry.server, entry.error)
    log.info("MCP intents registered: %d (%d servers)", len(change.added), len(catalog.servers))
    return catalog
