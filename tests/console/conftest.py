"""The console in a real headless Chromium, against a real gateway and worker (own task queue), the
session's Temporal and sshd, and named keys of each role: `alice` approves, `chatgpt` calls, `ops` is
an admin. Separation of duties is on, as in production.

Every story ends with `browser_was_clean`: each request the page made went to this gateway (nothing from
a CDN, a font host or anywhere else), and the browser's console shows no error."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from config import Settings
from config.api_keys import add_key
from gateway.app import create_app
from tests.support.browser import Browser
from tests.support.gateway import LiveServer, api_client
from tests.support.sshd import RealSshd
from worker.run import build_worker

KEYS = {"alice": "approver", "chatgpt": "caller", "ops": "admin"}
DESKTOP = (1280, 800)
PHONE = (390, 844)


@dataclass
class Console:
    url: str
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, name: str) -> httpx.AsyncClient:
        return api_client(self.url, self.tokens[name])

    @property
    def page(self) -> str:
        return f"{self.url}/console"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory) -> RealSshd:
    with RealSshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def marker(sshd: RealSshd) -> Path:
    return sshd.marker_dir / f"ran-{uuid.uuid4().hex}"


@contextlib.asynccontextmanager
async def console_stack(
    client, settings: Settings, tmp_path: Path, sshd: RealSshd, **overrides
) -> AsyncIterator[Console]:
    hosts = sshd.write_inventory(tmp_path / "ssh_hosts.yaml", {"web-1": sshd.host_entry()})
    local = settings.model_copy(
        update={
            "task_queue": f"console-{uuid.uuid4().hex[:8]}",
            "api_keys_file": tmp_path / "api_keys.yaml",
            "allow_self_approval": False,
            "ssh_hosts_file": hosts,
            **overrides,
        }
    )
    console = Console(url="", settings=local)
    for name, role in KEYS.items():
        console.tokens[name], _ = add_key(local.api_keys_path, name, role, rate="100000/min")
    async with build_worker(client, local):
        async with LiveServer(create_app(local, client=client)) as server:
            console.url = server.url
            yield console


@pytest.fixture
async def console(client, settings, tmp_path, sshd) -> AsyncIterator[Console]:
    async with console_stack(client, settings, tmp_path, sshd) as stack:
        yield stack


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with Browser() as chromium:
        await chromium.viewport(*DESKTOP)
        yield chromium


def shots_dir(tmp_path: Path) -> Path:
    """`make ui-check` sets UI_SCREENSHOT_DIR=docs to refresh the committed screenshots."""
    target = Path(os.environ.get("UI_SCREENSHOT_DIR", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    return target


async def sign_in(browser: Browser, console: Console, name: str) -> None:
    """As a person does it: open /console, type the key into the focused field, press Enter."""
    await browser.open(console.page)
    await browser.wait_for(
        "document.activeElement && document.activeElement.id === 'api-key'", what="the key field has focus"
    )
    await browser.insert_text(console.tokens[name])
    await browser.press("Enter")
    await browser.wait_for(
        f"document.querySelector('#identity .who')?.textContent.includes({name!r})", what=f"signed in as {name}"
    )


def browser_was_clean(browser: Browser, console: Console) -> None:
    origin = urlsplit(console.url)
    outside = [
        u for u in browser.requests if urlsplit(u).netloc != origin.netloc and not u.startswith(("data:", "about:"))
    ]
    assert browser.requests and not outside, f"the page loaded from outside the gateway: {outside}"
    assert not browser.errors(), f"errors in the browser console: {browser.errors()}"
