"""A gateway with named keys of every role, in two tenants, sharing the session's Temporal and worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from config import Settings
from config.api_keys import add_key
from gateway.app import create_app
from tests.support.gateway import LiveServer, api_client

# name -> (role, tenant); the names are what jobs record as requested_by and approver.
KEYS = {
    "acme-gpt": ("caller", "acme"),
    "acme-lead": ("approver", "acme"),
    "acme-ops": ("admin", "acme"),
    "globex-gpt": ("caller", "globex"),
    "globex-lead": ("approver", "globex"),
}


@dataclass
class Keyed:
    url: str
    settings: Settings
    path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, name: str) -> httpx.AsyncClient:
        """An HTTP client holding the named key (or `api-key`: the bootstrap API_KEY; None: no key)."""
        token = {"api-key": "test-api-key", None: None}.get(name, self.tokens.get(name))
        return api_client(self.url, token)


@contextlib.asynccontextmanager
async def keyed_gateway(client, settings: Settings, path: Path, **overrides) -> AsyncIterator[Keyed]:
    local = settings.model_copy(update={"api_keys_file": path, "allow_self_approval": False, **overrides})
    keyed = Keyed(url="", settings=local, path=path)
    for name, (role, tenant) in KEYS.items():
        keyed.tokens[name], _ = add_key(path, name, role, tenant=tenant, rate="100000/min")
    async with LiveServer(create_app(local, client=client)) as server:
        keyed.url = server.url
        yield keyed


@pytest.fixture
async def keyed(client, settings, worker, tmp_path) -> AsyncIterator[Keyed]:
    async with keyed_gateway(client, settings, tmp_path / "api_keys.yaml") as gateway:
        yield gateway
