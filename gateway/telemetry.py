"""Per request: an HTTP server span (the parent of the StartWorkflow span, so one trace runs from the
request through the workflow to its activities), a log context, one access line, and the metrics.

A pure ASGI middleware rather than BaseHTTPMiddleware: bodies stream through untouched and the route
handler runs in this middleware's context, so the span and log context are current inside it.
"""

from __future__ import annotations

import contextlib
import logging
import time

from fastapi import FastAPI
from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from infra.logs import log_context

SERVICE_NAME = "gpt-orchestrator-gateway"
UNMATCHED = "<unmatched>"  # one label for every unknown path, so scanners cannot explode the series
QUIET_ROUTES = {"/health", "/metrics"}  # probes and scrapes: logged at DEBUG only

access_log = logging.getLogger("gpt_orchestrator.gateway.access")


def route_template(scope: Scope) -> str:
    """The matched route's template (`/jobs/{job_id}`), which FastAPI leaves in the scope."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


class RequestTelemetry:
    def __init__(self, app: ASGIApp, *, gateway_metrics: metrics.GatewayMetrics, tracer: Tracer | None) -> None:
        self.app, self.metrics, self.tracer = app, gateway_metrics, tracer

    def _span(self, scope: Scope):
        if self.tracer is None:
            return contextlib.nullcontext()
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        return self.tracer.start_as_current_span(
            scope["method"],  # renamed to "METHOD /route/template" once routing has matched
            context=propagate.extract(carrier),  # continue a caller's trace (traceparent header)
            kind=SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": scope.get("path", "")},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method = scope["method"]
        status = 500  # what the client gets if the app dies before answering
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with log_context() as context, self._span(scope) as span:
            try:
                await self.app(scope, receive, send_and_note_status)
            finally:
                seconds = time.perf_counter() - started
                route = route_template(scope)
                self.metrics.observe_request(route, method, status, seconds)
                if span is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                job_id = (scope.get("path_params") or {}).get("job_id")
                if job_id and "job_id" not in context:
                    context["job_id"] = context["workflow_id"] = job_id
                access_log.log(
                    logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={
                        "http_method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )


def install(app: FastAPI, tracer_provider: TracerProvider | None) -> None:
    """Metrics registry + GET /metrics + the middleware. Call last, so the middleware is outermost and
    also times and counts what other middleware answers itself (413s)."""
    app.state.metrics = metrics.GatewayMetrics()
    app.include_router(metrics.router)
    tracer = tracer_provider.get_tracer("gpt_orchestrator.gateway") if tracer_provider else None
    app.add_middleware(RequestTelemetry, gateway_metrics=app.state.metrics, tracer=tracer)
