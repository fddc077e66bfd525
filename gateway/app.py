"""The FastAPI app factory. Stateless: Temporal is the job store."""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from config import Settings, get_settings
from gateway import errors
from gateway.limits import BodySizeLimit
from gateway.routes import health, intents, jobs, orchestrate
from gateway.temporal import TemporalLink
from intents import registry

DESCRIPTION = """Durable orchestration for ChatGPT Actions and any HTTP client.
Every call is a Temporal workflow: it survives restarts, retries failed steps and never runs twice."""


def create_app(settings: Settings | None = None, *, client: Client | None = None, eager_start: bool = False) -> FastAPI:
    """`client` lets a process that also hosts a worker share its connection; `eager_start` then
    lets Temporal hand the first workflow task straight to that worker (one round trip less)."""
    settings = settings or get_settings()
    registry.load_extra_modules(settings.extra_intent_modules)
    app = FastAPI(title="gpt-orchestrator", version="0.1.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.temporal = TemporalLink(settings, client)
    app.state.eager_start = eager_start and client is not None
    errors.install(app)
    for module in (orchestrate, jobs, intents, health):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
