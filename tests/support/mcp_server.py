"""A small MCP tool server (official SDK, FastMCP) for tests, over stdio or streamable HTTP.

    python -m tests.support.mcp_server --stdio        # what a stdio McpServerConfig spawns
    with serve_http() as server: server.url + "/mcp"   # a real HTTP endpoint on a free loopback port

Tools: add(a, b), echo(text, shout=False), fail(reason) which always raises, slow(seconds), slow_lookup(seconds), pid().
A careless server: when its environment has TOOL_API_TOKEN, `fail` quotes that credential in its error.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

from tests.support.asgi_server import BackgroundServer

STDIO_ARGS = ["-m", "tests.support.mcp_server", "--stdio"]


def build_server() -> FastMCP:
    """A fresh server each time: a streamable-HTTP session manager can only be run once."""
    server = FastMCP("orchestrator-test-tools", log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def echo(text: str, shout: bool = False) -> str:
        """Repeat the text back (upper-cased when shout is true)."""
        return text.upper() if shout else text

    @server.tool()
    def fail(reason: str = "it broke") -> str:
        """Always fails, with the given reason."""
        token = os.environ.get("TOOL_API_TOKEN")
        raise RuntimeError(f"fail tool refused: {reason}" + (f" (upstream rejected token {token})" if token else ""))

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer (for timeouts). Not marked read-only: it might change something."""
        await asyncio.sleep(seconds)
        return "done"

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    async def slow_lookup(seconds: float) -> str:
        """Sleep, then answer; read-only, so a timed-out call may safely be tried again."""
        await asyncio.sleep(seconds)
        return "found"

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def pid() -> int:
        """The server's process id (tests: is the stdio process reused?)."""
        return os.getpid()

    return server


def serve_http() -> BackgroundServer:
    """Streamable HTTP at <url>/mcp, on a free loopback port; use as a context manager."""
    return BackgroundServer(build_server().streamable_http_app())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stdio", action="store_true", help="serve over stdin/stdout")
    args = parser.parse_args()
    if not args.stdio:
        parser.error("only --stdio is runnable from the command line; tests use serve_http()")
    build_server().run(transport="stdio")
