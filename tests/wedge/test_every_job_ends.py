"""Every input that once wedged a job is now refused up front (4xx naming the field) or accepted and
ended: through create + execute and through POST /orchestrate (gpt.workflow), each within 60 s."""

import asyncio
import json
import sys

import pytest

from tests.wedge.corpus import CASES, FLEET_CASES

TERMINAL_GPT = ("succeeded", "failed", "cancelled")
TERMINAL_JOB = ("success", "error", "cancelled", "terminated", "timed_out")
JOB_STATE = {"succeeded": "success", "failed": "error"}


async def _until(read, done, timeout: float = 60):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = await read()
        if done(body):
            return body
        assert asyncio.get_running_loop().time() < deadline, f"not ended within {timeout} s: {body}"
        await asyncio.sleep(0.25)


def _failed_step_type(status: dict) -> str | None:
    return next((s["error_type"] for s in status["steps"] if s["state"] == "failed"), None)


def _post(api, url: str, body: dict):
    """POST JSON that may nest deeper than the client's own encoder allows by default."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5_000))
    try:
        content = json.dumps(body)
    finally:
        sys.setrecursionlimit(limit)
    return api.post(url, content=content, headers={"Content-Type": "application/json"})


async def _through_create(api, name, definition, expected):
    resp = await _post(api, "/api/gpt-workflows/create", definition)
    kind, *rest = expected
    if kind == "refused":
        status, field = rest
        assert resp.status_code == status, (name, resp.text[:500])
        assert resp.json()["error"]["field"] == field, (name, resp.json()["error"])
        return
    assert resp.status_code == 201, (name, resp.text[:500])
    workflow_id = resp.json()["workflow_id"]
    executed = await api.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
    assert executed.status_code in (200, 202), (name, executed.text[:500])  # never 409 on an open run
    state, error_type = rest
    ended = await _until(
        lambda: _json(api.get(f"/api/gpt-workflows/{workflow_id}")), lambda s: s["state"] in TERMINAL_GPT
    )
    assert ended["state"] == state, (name, ended)
    if error_type:
        assert _failed_step_type(ended) == error_type, (name, ended["steps"])


async def _through_orchestrate(api, name, definition, expected):
    resp = await _post(api, "/orchestrate", {"intent": "gpt.workflow", "inputs": definition, "async": True})
    kind, *rest = expected
    if kind == "refused":
        status, field = rest
        assert resp.status_code == status, (name, resp.text[:500])
        assert resp.json()["error"]["field"] == (field if field == "body" else f"inputs.{field}"), (name, resp.json())
        return
    assert resp.status_code == 202, (name, resp.text[:500])
    job_id = resp.json()["job_id"]
    ended = await _until(lambda: _json(api.get(f"/jobs/{job_id}")), lambda j: j["status"] in TERMINAL_JOB)
    assert ended["status"] == JOB_STATE[rest[0]], (name, ended)


async def _json(request):
    resp = await request
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()


async def test_every_wedge_input_is_refused_or_its_job_ends_within_a_minute(api):
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(_through_create(api, *case) for case in CASES))
    await asyncio.gather(*(_through_orchestrate(api, *case) for case in CASES))
    assert asyncio.get_running_loop().time() - started < 120


@pytest.mark.parametrize(("name", "body", "expected"), FLEET_CASES, ids=[c[0] for c in FLEET_CASES])
async def test_a_fleet_timeout_too_small_to_run_is_refused(api, name, body, expected):
    _, status, field = expected
    resp = await api.post("/api/gpt-fleets/Creative/orchestrate", json=body)
    assert resp.status_code == status and resp.json()["error"]["field"] == field, resp.text
    resp = await api.post(
        "/orchestrate", json={"intent": "fleet.orchestrate", "inputs": {"category": "Creative", **body}}
    )
    assert resp.status_code == status and resp.json()["error"]["field"] == f"inputs.{field}", resp.text
