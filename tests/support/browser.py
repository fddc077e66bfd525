"""Drive Debian's headless Chromium over the DevTools protocol: open a page, read the visible text of
every frame (the Temporal UI renders summaries in sandboxed frames), take a screenshot; run script in
the page, type and press keys, set the viewport; and record what the page did: every network request
(Network events) and every console message, log entry and uncaught exception (Runtime and Log events).

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
        self._pending: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self.requests: list[str] = []  # every URL the page asked for (Network.requestWillBeSent)
        self.console: list[dict] = []  # console.* calls, log entries and exceptions, as CDP reported them

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
        self._reader = asyncio.create_task(self._read())
        for domain in ("Page", "Network", "Runtime", "Log"):
            await self._call(f"{domain}.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self._ws.close()
        # Chromium forks helpers; end the whole group so none outlives the test.
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._profile.cleanup()

    async def _read(self) -> None:
        """One reader: answers go to their caller, events are recorded."""
        async for raw in self._ws:
            message = json.loads(raw)
            if "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                self._record(message.get("method", ""), message.get("params", {}))

    def _record(self, method: str, params: dict) -> None:
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append({"kind": "console", "level": params.get("type"), "text": text})
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.append({"kind": "exception", "level": "error", "text": text})
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            self.console.append(
                {
                    "kind": "log",
                    "source": entry.get("source"),
                    "level": entry.get("level"),
                    "text": entry.get("text", ""),
                    "url": entry.get("url"),
                }
            )

    def errors(self) -> list[dict]:
        """What a developer would see as errors in the console: exceptions, console.error, CSP and other
        log errors. A network entry for an API status the page expects (a 403 or 404 it handles) is not one."""
        return [e for e in self.console if e["level"] == "error" and e.get("source") != "network"]

    async def _call(self, method: str, **params):
        call_id = next(self._ids)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        message = await asyncio.wait_for(future, 60)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message["result"]

    async def evaluate(self, expression: str):
        """Run script in the page (a Promise is awaited) and return its JSON value."""
        result = await self._call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, timeout: float = 30, what: str | None = None):
        """Poll a script until it returns something truthy; return that."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what or expression} never held; the page shows:\n{(await self.text())[:3000]}")
            await asyncio.sleep(0.2)

    async def insert_text(self, text: str) -> None:
        """Type into the focused element."""
        await self._call("Input.insertText", text=text)

    async def press(self, key: str, *, shift: bool = False) -> None:
        """A key press (Tab, Enter, Escape, ...) on the focused element, as a user's keyboard sends it."""
        codes = {"Tab": 9, "Enter": 13, "Escape": 27, " ": 32}
        params = {"key": key, "code": key, "windowsVirtualKeyCode": codes.get(key, 0), "modifiers": 8 if shift else 0}
        if key == "Enter":
            params["text"] = "\r"
        await self._call("Input.dispatchKeyEvent", type="keyDown", **params)
        await self._call("Input.dispatchKeyEvent", type="keyUp", **params)

    async def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        await self._call(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile
        )

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
                    "Runtime.evaluate",
                    expression="document.body ? document.body.innerText : ''",
                    contextId=world["executionContextId"],
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
