"""The gateway's view of the MCP tool catalog: read through Temporal, applied to the intent registry.

The MCP servers are configured where the workers run, so the gateway asks a worker: it runs
McpCatalogWorkflow (one `mcp.list_tools` activity) and registers what comes back as
`mcp.<server>.<tool>` intents. When: on `GET /intents?refresh=1`, on the first `GET /intents`, and
when an unknown `mcp.*` intent arrives (at most once per LAZY_REFRESH_EVERY, so a client cannot
turn typos into a stream of listings).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio.common import WorkflowIDConflictPolicy

from config import Settings
from gateway.errors import ApiError
from gateway.temporal import TemporalLink
from intents.errors import ErrorType
from intents.mcp import INTENT_PREFIX, CatalogChange, McpCatalog, McpListRequest
from intents.registry import apply_catalog
from workflows.mcp_catalog import McpCatalogWorkflow

log = logging.getLogger("gpt_orchestrator.gateway")
LAZY_REFRESH_EVERY = 30.0


class McpCatalogUnavailable(ApiError):
    def __init__(self, message: str):
        super().__init__(ErrorType.MCP_CATALOG_UNAVAILABLE, message)


class McpCatalogCache:
    """Per app: when the catalog was last read, what each server said, one listing at a time."""

    def __init__(self, settings: Settings, temporal: TemporalLink):
        self._settings = settings
        self._temporal = temporal
        self._lock = asyncio.Lock()
        self._last_try = float("-inf")
        self.catalog: McpCatalog | None = None
        self.refreshed_at: datetime | None = None
        self.last_change = CatalogChange()

    @property
    def workflow_id(self) -> str:
        # One listing per task queue at a time: concurrent refreshes (from any gateway) share a run.
        return f"mcp-catalog-{self._settings.task_queue}"

    async def refresh(self) -> McpCatalog:
        """Read the catalog now and apply it; McpCatalogUnavailable (503) when no worker answers in time."""
        async with self._lock:
            self._last_try = time.monotonic()
            client = await self._temporal.client()
            timeout = self._settings.mcp_catalog_timeout_s
            try:
                catalog = await asyncio.wait_for(
                    client.execute_workflow(
                        McpCatalogWorkflow.run,
                        McpListRequest(),
                        id=self.workflow_id,
                        task_queue=self._settings.task_queue,
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        execution_timeout=timedelta(seconds=timeout + 100),
                        static_summary="MCP tool catalog for the gateway",
                    ),
                    timeout=timeout,
                )
            except ApiError:  # TemporalUnavailable: said as it is
                raise
            except asyncio.TimeoutError:
                raise McpCatalogUnavailable(
                    f"no worker listed the MCP tools within {timeout:g}s; is a worker running?"
                ) from None
            except Exception as exc:  # a failed listing run: say so, do not 500
                raise McpCatalogUnavailable(f"reading the MCP tool catalog failed: {exc}") from None
            self.last_change = apply_catalog(catalog)
            self.catalog, self.refreshed_at = catalog, datetime.now(timezone.utc)
            if self.last_change.added or self.last_change.removed:
                log.info("MCP catalog: +%d -%d intents", len(self.last_change.added), len(self.last_change.removed))
            return catalog

    async def ensure_loaded(self) -> None:
        """The first time anyone asks: read the catalog once; a failure leaves MCP intents as they are.
        A gateway configured with no MCP servers (the default) skips this implicit read, so listing
        intents never waits on a worker; `?refresh=1` still asks the workers explicitly."""
        if not self._settings.mcp_servers:
            return
        if self.catalog is None and self._last_try == float("-inf"):
            await self._quietly_refresh()

    async def refresh_for(self, intent: str) -> None:
        """An unknown `mcp.*` intent arrived: the tool may be new, so re-read the catalog (rate-limited)."""
        if intent.startswith(INTENT_PREFIX) and time.monotonic() - self._last_try >= LAZY_REFRESH_EVERY:
            await self._quietly_refresh()

    async def _quietly_refresh(self) -> None:
        try:
            await self.refresh()
        except ApiError as exc:
            log.warning("MCP catalog not refreshed: %s", exc.message)

    def public(self) -> dict[str, Any]:
        """The catalog's state for GET /intents: each server, its tool count and any listing error."""
        servers = [
            {
                "server": s.server,
                "transport": s.transport,
                "tools": len(s.tools),
                **({"error": s.error} if s.error else {}),
            }
            for s in (self.catalog.servers if self.catalog else [])
        ]
        return {"refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None, "servers": servers}
