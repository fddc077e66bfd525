"""An MCP client (the official SDK's, over streamable HTTP) on the gateway's /mcp, with a given key."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from tests.conftest import API_KEY


@contextlib.asynccontextmanager
async def mcp_session(gateway_url: str, token: str | None = API_KEY) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with streamablehttp_client(f"{gateway_url}/mcp", headers=headers, timeout=30, sse_read_timeout=60) as (
        read,
        write,
        _,
    ):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session
