"""Hostile input cannot stall the service: templates render in linear time and within a size cap,
and uploads that stall (with or without a token) are answered and closed within the deadline while
/health stays responsive. Observers: wall clock and this process's RSS (the worker runs in it)."""

import asyncio
import time
from urllib.parse import urlsplit

from intents.expressions import RenderedTooLarge, render, templates_in
from intents.gpt_definitions import GptWorkflowDefinition, validate_definition
from tests.gpt.helpers import wait_for
from tests.support.stack import isolated_stack
from tests.wedge.corpus import chat, defn


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_49000_open_braces_are_scanned_and_rendered_in_well_under_a_second():
    params = {"message": "{{" * 49_000, "tail": "{{ " * 30_000 + "}"}
    started = time.perf_counter()
    assert list(templates_in(params)) == []
    assert render(params, {"steps": {}}) == params
    assert time.perf_counter() - started < 1


def test_a_definition_full_of_open_braces_validates_in_well_under_a_second():
    definition = GptWorkflowDefinition.model_validate(defn(chat("c", "{{" * 30_000)))  # 60 KB, under the params limit
    started = time.perf_counter()
    assert validate_definition(definition) == ["c"]
    assert time.perf_counter() - started < 1


def test_a_repeated_template_stops_rendering_at_the_cap_without_building_the_whole_value():
    big = {"steps": {"a": {"output": "x" * 18_000}}}
    started, before = time.perf_counter(), rss_mb()
    try:
        render({"text": "{{steps.a.output}}" * 5_000}, big)
        raise AssertionError("rendered 90 MB")
    except RenderedTooLarge as exc:
        assert "262144" in str(exc)
    assert time.perf_counter() - started < 0.5 and rss_mb() - before < 20


async def test_braces_and_amplification_over_http_are_refused_fast_and_health_stays_up(api):
    started = asyncio.get_running_loop().time()
    braces = await api.post("/api/gpt-workflows/create", json=defn(chat("c", "{{" * 49_000)))
    amplified = await api.post(
        "/api/gpt-workflows/create", json=defn(chat("a", "hi"), chat("b", "{{steps.a.output}}" * 5_000))
    )
    health = await api.get("/health")
    assert asyncio.get_running_loop().time() - started < 1
    assert braces.status_code == 422 and braces.json()["error"]["field"] == "steps.0.params"
    assert amplified.status_code == 422 and amplified.json()["error"]["field"] == "steps.1.params"
    assert health.status_code == 200


async def test_an_accepted_amplifying_step_fails_with_a_size_error_and_the_worker_barely_grows(api):
    before = rss_mb()
    definition = defn(chat("a", "hi"), chat("b", "{{steps.a}}" * 5_500))
    resp = await api.post("/api/gpt-workflows/create", json=definition)
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    await api.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})
    status = await wait_for(api, workflow_id, lambda s: s["state"] in ("succeeded", "failed"), timeout=30)
    failed = {s["step_id"]: s for s in status["steps"]}["b"]
    assert status["state"] == "failed" and failed["error_type"] == "StepInputTooLarge"
    assert rss_mb() - before < 50


async def _stalled_upload(host: str, port: int, token: str | None) -> tuple[bytes, float]:
    """Send headers promising 90 KB and 10 bytes of it, then nothing. Returns (status line, seconds to close)."""
    started = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection(host, port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(
        f"POST /orchestrate HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 90000\r\n\r\n".encode()
        + b'{"intent":'
    )
    await writer.drain()
    try:
        status_line = await reader.readline()
        while await reader.read(65536):  # until the server closes the connection
            pass
    finally:
        writer.close()
    return status_line, asyncio.get_running_loop().time() - started


async def test_200_stalled_uploads_are_answered_and_closed_within_the_deadline_while_health_answers(client, settings):
    async with isolated_stack(client, settings, body_read_timeout_s=2) as (http, _):
        url = urlsplit(str(http.base_url))
        before = rss_mb()
        anonymous = [_stalled_upload(url.hostname, url.port, None) for _ in range(200)]
        keyed = [_stalled_upload(url.hostname, url.port, "test-api-key") for _ in range(20)]
        uploads = asyncio.gather(*anonymous, *keyed)
        await asyncio.sleep(0.5)
        health_started = asyncio.get_running_loop().time()
        health = await http.get("/health")
        health_s = asyncio.get_running_loop().time() - health_started
        results = await asyncio.wait_for(uploads, timeout=15)
        assert health.status_code == 200 and health_s < 1.5, health_s
        for status_line, seconds in results[:200]:
            assert status_line.startswith(b"HTTP/1.1 401"), status_line
            assert seconds < 1.5, seconds  # refused before the body: no wait for the deadline
        for status_line, seconds in results[200:]:
            assert status_line.startswith(b"HTTP/1.1 408"), status_line
            assert seconds < 2 + 1.5, seconds
        assert rss_mb() - before < 50
