"""Drive Debian's headless Chromium over the DevTools protocol: open a page, read the visible text of
every frame (the Temporal UI renders summaries in sandboxed frames), take a screenshot.

No browser download, no driver: Chromium plus the `websockets` client already in the venv.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import httpx
import websockets

from worker.devserver import free_port

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
]  # fmt: skip


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise RuntimeError("Chromium is missing: `apt-get install chromium` (.ci/run does this)")


class Browser:
    def __init__(self) -> None:
        self.port = free_port()
        self._profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self._proc: subprocess.Popen | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        self._proc = subprocess.Popen(
            [chromium_binary(), *CHROMIUM_FLAGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    targets = (await http.get(f"http://127.0.0.1:{self.port}/json/list")).json()
                    page = next(t for t in targets if t["type"] == "page")
                    break
                except (httpx.HTTPError, StopIteration):
                    await asyncio.sleep(0.05)
            else:
                raise RuntimeError("Chromium's DevTools endpoint never came up")
        self._ws = await websockets.connect(page["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        await self._call("Page.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()
        # Chromium forks helpers; end the whole group so none outlives the test.
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._profile.cleanup()

    async def _call(self, method: str, **params):
        call_id = next(self._ids)
        await self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self._ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def open(self, url: str) -> None:
        await self._call("Page.navigate", url=url)

    async def text(self) -> str:
        """Visible text of the page and of every frame in it."""
        tree = (await self._call("Page.getFrameTree"))["frameTree"]
        frames, texts = [tree], []
        while frames:
            node = frames.pop()
            frames += node.get("childFrames", [])
            try:
                world = await self._call("Page.createIsolatedWorld", frameId=node["frame"]["id"])
                result = await self._call(
                    "Runtime.evaluate", expression="document.body ? document.body.innerText : ''", contextId=world["executionContextId"]
                )
            except RuntimeError:  # the page re-rendered and that frame is gone; the next poll sees the new one
                continue
            texts.append(result["result"].get("value") or "")
        return "\n".join(texts)

    async def wait_for_text(self, *needles: str, timeout: float = 30) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            text = await self.text()
            if all(n in text for n in needles):
                return text
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{needles} not on the page; it shows:\n{text[:3000]}")
            await asyncio.sleep(0.25)

    async def screenshot(self, path: Path) -> Path:
        shot = await self._call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
