"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

One trace per request: the gateway's HTTP span -> StartWorkflow -> RunWorkflow -> StartActivity ->
RunActivity (temporalio.contrib.opentelemetry.TracingInterceptor carries the context through workflow
and activity headers). The provider is passed around explicitly rather than installed globally, so a
test can hand in its own (in-memory) provider and several apps can live in one process.
"""

from __future__ import annotations

import os
from functools import lru_cache

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from config.settings import Settings

TRACES_PATH = "/v1/traces"  # the OTLP/HTTP signal path appended to the generic endpoint (OTel spec)


def traces_url(endpoint: str) -> str:
    return endpoint.rstrip("/") + TRACES_PATH


@lru_cache(maxsize=None)
def _exporting_provider(endpoint: str, service: str) -> TracerProvider:
    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES still win: Resource.create reads them.
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))  # flushes at interpreter exit
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    return provider


def tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """The process's provider exporting to the configured collector (one per service name), or None."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    return _exporting_provider(settings.otel_exporter_otlp_endpoint, service)


def temporal_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """Client interceptors that trace starts, workflows and activities; workers inherit them from the client."""
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("temporalio"))]
