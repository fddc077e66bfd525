"""The one way every role (gateway, worker, CLI, tests, bench) opens a Temporal client."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from config.settings import Settings


async def connect(settings: Settings, *, interceptors: Sequence[Interceptor] = (), **kwargs) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=list(interceptors),
        **kwargs,
    )
