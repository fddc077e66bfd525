"""A re-read catalog updates the registry: new tools appear, gone tools go, a server's blip hides nothing."""

from __future__ import annotations

from intents import registry
from intents.mcp import McpCatalog, McpServerTools, McpToolInfo
from intents.registry import apply_catalog


def catalog(**servers: list[str] | str) -> McpCatalog:
    """servers: name -> tool names, or an error message for a server that could not be listed."""
    return McpCatalog(
        servers=[
            McpServerTools(server=name, transport="http", error=tools)
            if isinstance(tools, str)
            else McpServerTools(server=name, transport="http", tools=[McpToolInfo(name=t) for t in tools], timeout_s=5)
            for name, tools in servers.items()
        ]
    )


def mcp_names() -> set[str]:
    return {name for name in registry.names() if name.startswith("mcp.")}


def test_the_registry_follows_the_catalog():
    for name in mcp_names():
        registry.unregister(name)

    first = apply_catalog(catalog(crm=["find", "update"], files=["read"]))
    assert first.added == ["mcp.crm.find", "mcp.crm.update", "mcp.files.read"] and first.removed == []
    assert registry.get("mcp.crm.find").timeout.total_seconds() == 5 + 30, (
        "the worker's per-call limit plus connect time"
    )

    # crm dropped a tool; files is down for a moment: its tools stay (calls will say it is down).
    second = apply_catalog(catalog(crm=["find"], files="unreachable"))
    assert second.removed == ["mcp.crm.update"]
    assert mcp_names() == {"mcp.crm.find", "mcp.files.read"}

    # files was removed from the worker's configuration.
    third = apply_catalog(catalog(crm=["find", "create"]))
    assert third.added == ["mcp.crm.create"] and third.removed == ["mcp.files.read"]
    assert mcp_names() == {"mcp.crm.create", "mcp.crm.find"}
