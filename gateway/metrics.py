"""Gateway metrics for Prometheus, served on GET /metrics.

Each app owns its CollectorRegistry (not the process-global one), so many apps in one process
(tests, the dev launcher) never clash. Labels stay bounded: routes are templates (`/jobs/{job_id}`),
never raw paths, and intents come from the registry.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from gateway.auth import PUBLIC
from gateway.errors import ApiError
from intents.errors import ErrorType

# Not behind an API key: METRICS_TOKEN is its own credential (or none), checked by the route.
router = APIRouter(tags=["metrics"], dependencies=[Depends(PUBLIC)])


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "gateway_request_duration_seconds",
            "HTTP request latency (POST /orchestrate includes the sync wait for the result).",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.jobs_started = Counter(
            "gateway_jobs_started",
            "Workflows started by intent and mode (idempotent re-sends that attach to a run are not counted).",
            ["intent", "mode"],
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.duration.labels(route=route, method=method).observe(seconds)


def count_job_started(request: Request, intent: str, mode: str) -> None:
    """Called by routes right after a real start (not an attach)."""
    metrics: GatewayMetrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.jobs_started.labels(intent=intent, mode=mode).inc()


def _check_scraper(request: Request) -> None:
    """METRICS_TOKEN, when set, is its own credential: a scraper never holds the key that runs jobs."""
    expected = request.app.state.settings.metrics_token
    if expected is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise ApiError(ErrorType.UNAUTHORIZED, "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>",
                       field="Authorization", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


@router.get("/metrics", include_in_schema=False)  # operators' endpoint: not part of the Actions schema
async def metrics(request: Request) -> Response:
    _check_scraper(request)
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
