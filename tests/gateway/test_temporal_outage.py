"""Temporal goes down under a running gateway: every route that needs it answers 503 TemporalUnavailable
with Retry-After within 10 s, and the gateway logs one line per request, with no traceback."""

import json
import logging
import os
import signal
import time

from gateway.app import create_app
from infra.logs import formatter
from tests.conftest import make_settings
from tests.support.gateway import LiveServer, api_client
from worker.devserver import DevServer

DEFINITION = {
    "name": "Outage",
    "steps": [{"stepId": "a", "gpt": "Wanderweave", "action": "message", "params": {"message": "hi"}}],
}


class JsonLines(logging.Handler):
    """The gateway's access lines as the process writes them (with the request's log context)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(formatter("json"))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


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


async def test_temporal_stopped_mid_test_every_route_answers_503_quickly(tmp_path, caplog, capfd):
    access_lines = JsonLines()
    server = await DevServer(ui_port=None).start()
    try:
        settings = make_settings(server, tmp_path, task_queue="no-worker-here", sync_timeout_s=0)
        async with LiveServer(create_app(settings)) as gateway, api_client(gateway.url) as http:
            # While Temporal is up: a job and a GPT workflow exist (no worker runs them).
            job = await http.post(
                "/orchestrate", json={"intent": "memory.write", "inputs": {"text": "before"}, "async": True}
            )
            assert job.status_code == 202, job.text
            created = await http.post("/api/gpt-workflows/create", json=DEFINITION)
            assert created.status_code == 201, created.text
            job_id, workflow_id = job.json()["job_id"], created.json()["workflow_id"]

            server.stop()
            caplog.clear()
            logging.getLogger("gpt_orchestrator.gateway.access").addHandler(access_lines)
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
                    if job_id in path:
                        assert payload["job_id"] == job_id
                health = await http.get("/health")
                assert health.status_code == 503
    finally:
        logging.getLogger("gpt_orchestrator.gateway.access").removeHandler(access_lines)
        server.stop()

    ours = [r for r in caplog.records if r.name.startswith(("gpt_orchestrator", "uvicorn", "temporalio"))]
    assert not [r for r in ours if r.exc_info], "a traceback was logged"
    assert not [r for r in ours if r.levelno >= logging.ERROR], [r.getMessage() for r in ours]
    access = [r for r in ours if r.name == "gpt_orchestrator.gateway.access" and r.getMessage().endswith(" 503")]
    assert len(access) == len(routes("j", "w"))  # /health's own line is DEBUG (a probe)
    per_request = [r for r in ours if r.name != "gpt_orchestrator.gateway.access"]
    assert per_request == [], [r.getMessage() for r in per_request]
    said = [line for line in access_lines.lines if line.get("status") == 503]
    assert len(said) == len(access) and all(line["error_type"] == "TemporalUnavailable" for line in said), said
    assert "retried" not in capfd.readouterr().err, "the SDK core logged its retries too"


async def test_a_temporal_that_hangs_is_cut_off_at_the_rpc_deadline(tmp_path):
    """A frozen server accepts the bytes and never answers: the call's deadline, not the client, ends it."""
    server = await DevServer(ui_port=None).start()
    try:
        settings = make_settings(server, tmp_path, task_queue="no-worker-here", temporal_rpc_timeout_s=2)
        async with LiveServer(create_app(settings)) as gateway, api_client(gateway.url) as http:
            job = await http.post(
                "/orchestrate", json={"intent": "memory.write", "inputs": {"text": "frozen"}, "async": True}
            )
            assert job.status_code == 202, job.text
            os.killpg(server.process.pid, signal.SIGSTOP)
            try:
                for method, path in (("GET", f"/jobs/{job.json()['job_id']}"), ("GET", "/api/gpt-workflows")):
                    started = time.monotonic()
                    resp = await http.request(method, path)
                    assert resp.status_code == 503 and resp.json()["error"]["type"] == "TemporalUnavailable", resp.text
                    assert time.monotonic() - started < 5
                    assert "within 2s" in resp.json()["error"]["message"]
            finally:
                os.killpg(server.process.pid, signal.SIGCONT)
    finally:
        server.stop()
