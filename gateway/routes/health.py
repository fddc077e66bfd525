"""GET /health (no auth): the gateway, the Temporal connection, and whether a worker polls the queue."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from gateway.auth import PUBLIC
from gateway.errors import ApiError
from gateway.openapi import ContractRoute
from gateway.schemas import Health

router = APIRouter(route_class=ContractRoute, tags=["health"], dependencies=[Depends(PUBLIC)])
# A poller is listed for minutes after it goes away; one seen within a long-poll is really there.
POLLER_FRESHNESS = timedelta(seconds=75)


@router.get(
    "/health",
    operation_id="health",
    summary="Liveness of the gateway, Temporal and the worker",
    responses={
        200: {"model": Health, "description": "ok, or degraded: no worker polls the task queue."},
        503: {"model": Health, "description": "unavailable: Temporal does not answer."},
    },
)
async def health(request: Request):
    settings = request.app.state.settings
    body: dict[str, Any] = {
        "status": "ok",
        "gateway": "ok",
        "temporal": {"ok": False, "address": settings.temporal_address, "namespace": settings.temporal_namespace},
        "worker": {"polling": False, "task_queue": settings.task_queue},
    }
    try:
        client = await request.app.state.temporal.client()
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        resp = await asyncio.wait_for(
            client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=settings.temporal_namespace,
                    task_queue=TaskQueue(name=settings.task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            ),
            timeout=3,
        )
    except (ApiError, Exception):
        body["status"] = "unavailable"
        return JSONResponse(body, status_code=503)
    body["temporal"]["ok"] = True
    now = datetime.now(timezone.utc)
    fresh = [p for p in resp.pollers if now - p.last_access_time.ToDatetime(timezone.utc) < POLLER_FRESHNESS]
    body["worker"]["polling"] = bool(fresh)
    body["worker"]["pollers"] = len(fresh)
    if not fresh:
        body["status"] = "degraded"
    return JSONResponse(body)
