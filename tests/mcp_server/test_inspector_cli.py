"""A third-party MCP client, the MCP Inspector's CLI (npm @modelcontextprotocol/inspector, installed once
into ~/.cache by scripts/mcp-inspector-install.sh), lists the gateway's tools and runs one with a key."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import API_KEY

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "mcp-inspector-install.sh"


@pytest.fixture(scope="session")
def inspector() -> list[str]:
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    home = Path(done.stdout.strip().splitlines()[-1])
    node = home / "node22" / "node_modules" / "node" / "bin" / "node"
    return [
        str(node),
        str(
            home
            / "node_modules"
            / "@modelcontextprotocol"
            / "inspector"
            / "clients"
            / "launcher"
            / "build"
            / "index.js"
        ),
        "--cli",
    ]


async def inspect(
    inspector: list[str], url: str, tmp_path: Path, *args: str, token: str = API_KEY
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *inspector, f"{url}/mcp", "--transport", "http", "--header", f"Authorization: Bearer {token}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"MCP_CATALOG_PATH": str(tmp_path / "catalog.json"), "HOME": str(tmp_path)},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_inspector_lists_the_tools_and_runs_memory_write(inspector, gateway, tmp_path, unique):
    rc, out, err = await inspect(inspector, gateway, tmp_path, "--method", "tools/list")
    assert rc == 0, err
    names = {tool["name"] for tool in json.loads(out)["tools"]}
    assert {"memory_write", "memory_search", "run_gpt_workflow", "get_job"} <= names

    rc, out, err = await inspect(
        inspector,
        gateway,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "memory_write",
        "--tool-arg",
        f"text=inspected {unique}",
    )
    assert rc == 0, err
    result = json.loads(out)
    assert result.get("isError") in (None, False) and result["structuredContent"]["status"] == "success"


async def test_the_inspector_without_a_key_is_refused(inspector, gateway, tmp_path):
    rc, out, err = await inspect(inspector, gateway, tmp_path, "--method", "tools/list", token="wrong")
    # The 401 sends the Inspector to OAuth, which a non-interactive run cannot do: it stops there.
    assert rc != 0 and any(word in err + out for word in ("401", "nauthorized", "auth_required")), err + out
