"""Run docs/OPERATIONS.md's recipes exactly as written, the way an operator pastes them into bash.

A recipe is a ```bash block right after `<!-- recipe: NAME -->`. It runs with only what the runbook
tells operators to set (PATH with the venv, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, JOB_ID), in a clean
HOME so no personal `temporal` profile leaks in.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"
VENV_BIN = Path(sys.executable).parent
_RECIPE = re.compile(r"<!-- recipe: (?P<name>[\w-]+) -->\s*```bash\n(?P<script>.*?)```", re.S)
_QUERY_ROW = re.compile(r"^\| [^|]+ \| (?P<tick>`+) ?(?P<query>.+?) ?(?P=tick) \|$", re.M)  # `q` or `` `q` ``


def recipes(path: Path = RUNBOOK) -> dict[str, str]:
    return {m["name"]: m["script"] for m in _RECIPE.finditer(path.read_text())}


def documented_queries(path: Path = RUNBOOK) -> list[str]:
    """The visibility queries of the table after `<!-- queries -->`."""
    text = path.read_text()
    table = text[text.index("<!-- queries -->") :].split("\n\n", 1)[0]
    return [m["query"] for m in _QUERY_ROW.finditer(table)]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Shell:
    """An operator's shell: the runbook's environment, a working directory for files like history.json."""

    address: str
    namespace: str
    cwd: Path

    async def run(self, script: str, timeout: float = 60, **env: str) -> Ran:
        environ = {
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": str(self.cwd),
            "TEMPORAL_ADDRESS": self.address,
            "TEMPORAL_NAMESPACE": self.namespace,
            **env,
        }
        # Async, so workers running in the test's event loop keep heartbeating while the CLI works.
        process = await asyncio.create_subprocess_exec(
            "bash", "-euo", "pipefail", "-c", script, cwd=self.cwd, env=environ,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout)
        return Ran(process.returncode, out.decode(), err.decode())

    async def recipe(self, name: str, **env: str) -> Ran:
        return await self.run(recipes()[name], **env)
