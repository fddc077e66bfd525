"""Stdio MCP session reuse: what one tool call costs through `mcp.call_tool` (one long-lived session per
server per worker) against the raw SDK, with a fresh process per call (what every call cost before) and
with one session held open by hand (the floor). The server is the real `mcp-server-time` from PyPI.

Run alone: `uv run python -m bench mcp_stdio_sessions`.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from temporalio.testing import ActivityEnvironment

from activities.mcp import McpActivities
from bench.common import report, summarize
from config import Settings
from intents.mcp import McpToolCall

FRESH_CALLS = 8
POOLED_CALLS = 60
ARGS = {"timezone": "Europe/Lisbon"}


def server_argv() -> list[str]:
    found = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent)) or shutil.which("mcp-server-time")
    if not found:
        raise SystemExit("mcp-server-time is not installed (it is a dev dependency: uv sync)")
    return [found, "--local-timezone", "UTC"]


async def raw_fresh_call(params: StdioServerParameters) -> float:
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("get_current_time", ARGS)
    return time.perf_counter() - started


async def run() -> None:
    argv = server_argv()
    params = StdioServerParameters(command=argv[0], args=argv[1:])
    fresh = [await raw_fresh_call(params) for _ in range(FRESH_CALLS)]

    held: list[float] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("get_current_time", ARGS)  # warm
        for _ in range(POOLED_CALLS):
            started = time.perf_counter()
            await session.call_tool("get_current_time", ARGS)
            held.append(time.perf_counter() - started)

    mcp = McpActivities(Settings(mcp_servers={"time": {"command": argv}}))
    env = ActivityEnvironment()
    call = McpToolCall(server="time", tool="get_current_time", arguments=ARGS)
    first_started = time.perf_counter()
    await env.run(mcp.call_tool, call)  # opens the pooled session
    first = time.perf_counter() - first_started
    ours: list[float] = []
    for _ in range(POOLED_CALLS):
        started = time.perf_counter()
        await env.run(mcp.call_tool, call)
        ours.append(time.perf_counter() - started)
    await mcp.pool.aclose()

    report(
        "stdio MCP tool call (mcp-server-time get_current_time), per call",
        {
            "raw SDK: one session held open (floor)": summarize(held),
            "raw SDK: fresh process + handshake per call": summarize(fresh),
            "ours: mcp.call_tool, pooled session": summarize(ours),
        },
        baseline="raw SDK: one session held open (floor)",
    )
    fresh_p50, ours_p50 = summarize(fresh)["p50"], summarize(ours)["p50"]
    print(f"   first call through the pool (spawn + handshake): {first * 1000:.0f} ms; "
          f"later calls {fresh_p50 / ours_p50:.0f}x cheaper than a fresh process per call")  # fmt: skip
