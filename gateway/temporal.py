"""The gateway's Temporal connection: opened lazily, so the gateway starts (and /health answers 503)
even while Temporal is down, and reconnects when it comes back.

Every call the gateway makes has a deadline (TEMPORAL_RPC_TIMEOUT_S, the SDK's own retries included), so
no route hangs on an outage: past it the call raises `TemporalUnavailable`, which gateway/errors.py
answers as 503 with Retry-After. Long polls (waiting for a result or an update) are left to the route's
own wait; when Temporal is down they fail with RPCError UNAVAILABLE, which maps to the same 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import google.protobuf.message
from temporalio.client import Client, Interceptor
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RetryConfig, ServiceClient

from config import Settings
from gateway.errors import ApiError
from infra.temporal import connect
from intents.errors import ErrorType

# The gateway's own connection gives up on an unreachable Temporal after ~1 s of retries (the client is
# told 503 + Retry-After) rather than retrying for 10 s, and so before the SDK core starts logging a
# warning per retry. A connection shared with a worker (`make dev`) keeps the worker's retries.
GATEWAY_RETRIES = RetryConfig(max_retries=4)
_runtime: Runtime | None = None


def gateway_runtime() -> Runtime:
    """The SDK runtime of the gateway's own connection, made once per process: the default one, less the
    core's warning per retried call (an outage is reported once per request, on its access line)."""
    global _runtime
    if _runtime is None:
        quiet = TelemetryFilter(core_level="WARN", other_level="ERROR").formatted() + ",temporalio_client::retry=ERROR"
        _runtime = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet)))
    return _runtime


# RPCs that wait server-side for something to happen; the route bounds how long it waits for them.
LONG_POLLS = frozenset({"poll_workflow_execution_update", "update_workflow_execution", "execute_multi_operation"})


class TemporalUnavailable(ApiError):
    def __init__(self, message: str):
        super().__init__(ErrorType.TEMPORAL_UNAVAILABLE, message)


class DeadlineServiceClient(ServiceClient):
    """The same connection, with a deadline on each call that is not a long poll."""

    def __init__(self, inner: ServiceClient, deadline_s: float):
        super().__init__(inner.config)
        self._inner, self._deadline_s = inner, deadline_s

    @property
    def worker_service_client(self):
        return self._inner.worker_service_client

    def update_rpc_metadata(self, metadata: Mapping[str, str | bytes]) -> None:
        self._inner.update_rpc_metadata(metadata)

    def update_api_key(self, api_key: str | None) -> None:
        self._inner.update_api_key(api_key)

    async def _rpc_call(
        self,
        rpc: str,
        req: google.protobuf.message.Message,
        resp_type,
        *,
        service: str,
        retry: bool,
        metadata: Mapping[str, str | bytes],
        timeout: timedelta | None,
    ):
        call: dict[str, Any] = dict(service=service, retry=retry, metadata=metadata)
        if rpc in LONG_POLLS or getattr(req, "wait_new_event", False):
            return await self._inner._rpc_call(rpc, req, resp_type, timeout=timeout, **call)
        deadline = timedelta(seconds=self._deadline_s)
        try:
            async with asyncio.timeout(self._deadline_s):
                return await self._inner._rpc_call(
                    rpc, req, resp_type, timeout=min(timeout or deadline, deadline), **call
                )
        except TimeoutError:
            raise TemporalUnavailable(f"Temporal did not answer {rpc} within {self._deadline_s:g}s") from None


def with_deadline(client: Client, deadline_s: float) -> Client:
    """A client sharing `client`'s connection (and so its worker, for eager start) whose calls have a deadline."""
    config = client.config()
    config["service_client"] = DeadlineServiceClient(client.service_client, deadline_s)
    return Client(**config)


class TemporalLink:
    def __init__(self, settings: Settings, client: Client | None = None, *, interceptors: Sequence[Interceptor] = ()):
        self._settings = settings
        self._deadline_s = settings.temporal_rpc_timeout_s
        self._client = with_deadline(client, self._deadline_s) if client is not None else None
        self._interceptors = interceptors  # used only when this link opens the connection itself
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    opened = await asyncio.wait_for(
                        connect(
                            self._settings,
                            interceptors=self._interceptors,
                            retry_config=GATEWAY_RETRIES,
                            runtime=gateway_runtime(),
                        ),
                        timeout=self._deadline_s,
                    )
                except Exception as exc:
                    raise TemporalUnavailable(f"cannot reach Temporal at {self._settings.temporal_address}") from exc
                self._client = with_deadline(opened, self._deadline_s)
        return self._client
