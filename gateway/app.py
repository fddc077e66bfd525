"""The FastAPI app factory. Stateless: Temporal is the job store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from starlette.routing import Route
from temporalio.client import Client

from config import Settings, get_settings
from gateway import errors, openapi, telemetry
from gateway.auth import Gatekeeper, check_routes
from gateway.limits import BodyGuard
from gateway.mcp_catalog_cache import McpCatalogCache
from gateway.mcp_server import McpEndpoint
from gateway.ratelimit import RateLimitHeaders
from gateway.routes import (
    approvals,
    console,
    events,
    gpt,
    health,
    intents,
    jobs,
    keys,
    orchestrate,
    schedules,
    wellknown,
)
from gateway.streams import Watches
from gateway.temporal import TemporalLink
from infra import tracing
from intents import registry
from intents.routing import RoutingTable
from policies.url import check_callback_url

DESCRIPTION = """Durable orchestration for ChatGPT Actions and any HTTP client.
Every call is a Temporal workflow: it survives restarts, retries failed steps and never runs twice."""


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    eager_start: bool = False,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """`client` lets a process that also hosts a worker share its connection; `eager_start` then
    lets Temporal hand the first workflow task of a job whose caller waits straight to that worker (one
    dispatch less; with a fast-path handler the whole job is that one task). The worker must poll the
    same task queue on the same client.
    `tracer_provider` overrides the one OTEL_EXPORTER_OTLP_ENDPOINT configures (tests, the dev launcher)."""
    settings = settings or get_settings()
    registry.load_extra_modules(settings.extra_intent_modules)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The MCP session manager's task group lives as long as the app (started lazily without a lifespan).
        await app.state.mcp.start()
        try:
            yield
        finally:
            await app.state.mcp.stop()

    app = FastAPI(title="gpt-orchestrator", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    tracer_provider = tracer_provider or tracing.tracer_provider(settings, telemetry.SERVICE_NAME)
    app.state.temporal = TemporalLink(settings, client, interceptors=tracing.temporal_interceptors(tracer_provider))
    app.state.eager_start = eager_start and client is not None
    app.state.check_callback_url = partial(check_callback_url, settings=settings)  # 400s at request time
    app.state.routes = RoutingTable.with_overrides(settings.intent_routes)
    app.state.routes.check_intents(registry.all_intents())  # an INTENT_ROUTES contradiction stops start-up
    app.state.mcp_catalog = McpCatalogCache(settings, app.state.temporal)
    app.state.watches = Watches(app.state.temporal.client, settings.stream_max_concurrent, settings.max_result_chars)
    app.state.gatekeeper = Gatekeeper(settings)  # keys (API_KEY + API_KEYS_FILE), roles, rate limits
    errors.install(app)
    openapi.install(app)
    for module in (orchestrate, jobs, events, schedules, approvals, gpt, intents, keys, health, console, wellknown):
        app.include_router(module.router)
    app.state.mcp = McpEndpoint(app)  # /mcp: the platform as a remote MCP server (gateway/mcp_server.py)
    app.router.routes.append(Route("/mcp", endpoint=app.state.mcp, methods=["GET", "POST", "DELETE"]))
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.max_body_bytes,
        read_timeout_s=settings.body_read_timeout_s,
        gatekeeper=app.state.gatekeeper,
    )
    app.add_middleware(RateLimitHeaders)  # outside the body guard: its 429s carry the headers too
    telemetry.install(app, tracer_provider)  # last = outermost
    check_routes(app)  # every route says who may call it, including /metrics (added by telemetry)
    return app
