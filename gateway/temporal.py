"""The gateway's Temporal connection: opened lazily, so the gateway starts (and /health answers 503)
even while Temporal is down, and reconnects when it comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.client import Client, Interceptor

from config import Settings
from config.temporal import connect
from gateway.errors import ApiError


class TemporalLink:
    def __init__(self, settings: Settings, client: Client | None = None, *, interceptors: Sequence[Interceptor] = ()):
        self._settings = settings
        self._client = client
        self._interceptors = interceptors  # used only when this link opens the connection itself
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(connect(self._settings, interceptors=self._interceptors), timeout=5)
                except Exception as exc:
                    raise ApiError(
                        503, "TemporalUnavailable", f"cannot reach Temporal at {self._settings.temporal_address}"
                    ) from exc
        return self._client
