"""McpCatalogWorkflow: read the tool lists of the worker's MCP servers, for the gateway.

The MCP servers are configured (and reachable) where the workers run, and the gateway never imports
activities, so the gateway learns which `mcp.<server>.<tool>` intents exist by running this small
workflow: one `mcp.list_tools` activity, its McpCatalog as the result.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.failures import DATA_ERRORS

with workflow.unsafe.imports_passed_through():
    from intents.mcp import MCP_LIST_ACTIVITY, McpCatalog, McpListRequest

# Listing spawns each stdio server and handshakes; servers are listed in parallel, and a dead one is
# reported in its entry rather than failing the list, so one attempt with a short retry is enough.
LIST_TIMEOUT = timedelta(seconds=90)
LIST_HEARTBEAT = timedelta(seconds=30)
LIST_RETRY = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(seconds=1))


@workflow.defn(name="McpCatalogWorkflow", failure_exception_types=DATA_ERRORS)
class McpCatalogWorkflow:
    @workflow.run
    async def run(self, req: McpListRequest) -> McpCatalog:
        return await workflow.execute_activity(
            MCP_LIST_ACTIVITY,
            req,
            result_type=McpCatalog,
            start_to_close_timeout=LIST_TIMEOUT,
            heartbeat_timeout=LIST_HEARTBEAT,
            retry_policy=LIST_RETRY,
            summary="list the tools of every configured MCP server"
            if req.server is None
            else f"list the tools of {req.server}",
        )
