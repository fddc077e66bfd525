"""Temporal goes down under a running gateway: every route that needs it answers 503 TemporalUnavailable
with Retry-After within 10 s, and the gateway logs one line per request, with no traceback."""

import logging
import time

from gateway.app import create_app
from tests.conftest import make_settings
from tests.support.gateway import LiveServer, api_client
from worker.devserver import DevServer

DEFINITION = {"name": "Outage", "steps": [{"stepId": "a", "gpt": "Wanderweave", "action": "message", "params": {"message": "hi"}}]}


def routes(job_id: str, workflow_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", "/orchestrate", {"intent": "memory.write", "inputs": {"text": "during the outage"}}),
        ("GET", f"/jobs/{job_id}", None),
        ("POST", f"/jobs/{job_id}/approve", {}),
        ("POST", f"/jobs/{job_id}/reject", {}),
        ("POST", f"/jobs/{job_id}/cancel", None),
        ("POST", "/api/gpt-workflows/create", DEFINITION),
        ("POST", f"/api/gpt-workflows/{workflow_id}/execute", None),
        ("GET", f"/api/gpt-workflows/{workflow_id}", None),
        ("GET", "/api/gpt-workflows", None),
        ("POST", f"/api/gpt-workflows/{workflow_id}/cancel", None),
        ("POST", "/api/gpt-fleets/Creative/orchestrate", {"objective": "plan a trip"}),
    ]


async def test_temporal_stopped_mid_test_every_route_answers_503_quickly(tmp_path, caplog):
    server = await DevServer(ui_port=None).start()
    try:
        settings = make_settings(server, tmp_path, task_queue="no-worker-here", sync_timeout_s=0)
        async with LiveServer(create_app(settings)) as gateway, api_client(gateway.url) as http:
            # While Temporal is up: a job and a GPT workflow exist (no worker runs them).
            job = await http.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": "before"}, "async": True})
            assert job.status_code == 202, job.text
            created = await http.post("/api/gpt-workflows/create", json=DEFINITION)
            assert created.status_code == 201, created.text
            job_id, workflow_id = job.json()["job_id"], created.json()["workflow_id"]

            server.stop()
            caplog.clear()
            with caplog.at_level(logging.INFO):
                for method, path, body in routes(job_id, workflow_id):
                    started = time.monotonic()
                    resp = await http.request(method, path, json=body)
                    took = time.monotonic() - started

                    assert resp.status_code == 503, (path, resp.text)
                    assert took < 10, (path, took)
                    assert int(resp.headers["Retry-After"]) > 0, path
                    payload = resp.json()
                    assert payload["status"] == "error" and "job_id" in payload
                    assert payload["error"]["type"] == "TemporalUnavailable", (path, payload)
                health = await http.get("/health")
                assert health.status_code == 503
    finally:
        server.stop()

    ours = [r for r in caplog.records if r.name.startswith(("gpt_orchestrator", "uvicorn", "temporalio"))]
    assert not [r for r in ours if r.exc_info], "a traceback was logged"
    assert not [r for r in ours if r.levelno >= logging.ERROR], [r.getMessage() for r in ours]
    access = [r for r in ours if r.name == "gpt_orchestrator.gateway.access" and r.getMessage().endswith(" 503")]
    assert len(access) == len(routes("j", "w"))  # /health's own line is DEBUG (a probe)
    per_request = [r for r in ours if r.name != "gpt_orchestrator.gateway.access"]
    assert per_request == [], [r.getMessage() for r in per_request]
    assert all(getattr(r, "error_type", "TemporalUnavailable") == "TemporalUnavailable" for r in access)
