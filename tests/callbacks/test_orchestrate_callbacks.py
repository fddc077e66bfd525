"""POST /orchestrate with callback_url: when the job ends, the receiver gets the job document, signed."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import SecretStr

from gateway.schemas import JobView
from intents.callbacks import verify_signature
from tests.callbacks.conftest import SECRET
from tests.support.callback_receiver import CallbackReceiver
from tests.support.n8n_fake import FakeN8n, Scripted
from tests.support.stack import isolated_stack, poll_job


@pytest.fixture
async def callback_api(client, settings, receiver: CallbackReceiver):
    allowed = dict(callback_secret=SecretStr(SECRET), callback_allowlist=[f"127.0.0.1:{receiver.port}"])
    async with isolated_stack(client, settings, **allowed) as (http, _):
        yield http


async def received(receiver: CallbackReceiver, count: int, timeout: float = 15) -> list:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(receiver.received) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(receiver.received)} of {count} callbacks arrived"
        await asyncio.sleep(0.05)
    return receiver.received


def same_shape_as_get_jobs(document: dict, job: dict) -> None:
    """The callback says what GET /jobs/{id} says about the closed job. Not repeated: the request's own
    (redacted) inputs and its one-line summary, which the caller sent and the console reads."""
    JobView.model_validate(document)
    read_only = {"inputs", "summary"}
    assert set(document) == set(job) - read_only, f"callback keys {sorted(document)} vs GET /jobs keys {sorted(job)}"
    for key in ("job_id", "intent", "mode", "status", "result", "error"):
        assert document.get(key) == job.get(key), key


async def test_the_finished_job_is_posted_signed_to_the_callback_url(callback_api, receiver, unique):
    body = {
        "intent": "memory.write",
        "inputs": {"text": f"call me back {unique}"},
        "callback_url": f"{receiver.url}/hooks/jobs",
    }
    resp = await callback_api.post("/orchestrate", json=body)
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["job_id"]

    (got,) = await received(receiver, 1)

    assert got.path == "/hooks/jobs"
    assert verify_signature(SECRET, got.body, got.headers)
    assert not verify_signature("another-secret", got.body, got.headers)
    document = json.loads(got.body)
    assert got.headers["x-orchestrator-job-id"] == job_id == document["job_id"]
    assert (document["status"], document["mode"], document["result"]) == ("success", "agent", resp.json()["result"])
    same_shape_as_get_jobs(document, await poll_job(callback_api, job_id))


async def test_a_receiver_that_fails_once_gets_the_callback_on_the_retry(callback_api, receiver, unique):
    receiver.answer(500)
    body = {"intent": "memory.write", "inputs": {"text": f"retry {unique}"}, "callback_url": f"{receiver.url}/flaky"}

    resp = await callback_api.post("/orchestrate", json=body)
    assert resp.status_code == 200, "the job's answer does not wait for the receiver"

    first, second = await received(receiver, 2)
    assert first.body == second.body
    assert (first.headers["x-orchestrator-attempt"], second.headers["x-orchestrator-attempt"]) == ("1", "2")
    assert verify_signature(SECRET, second.body, second.headers)


async def test_a_failed_job_calls_back_with_its_error(client, settings, receiver, unique):
    n8n = FakeN8n().start()
    try:
        n8n.script("gmail-search", Scripted(400, {"message": "bad query"}))
        overrides = dict(
            callback_secret=SecretStr(SECRET), callback_allowlist=[f"127.0.0.1:{receiver.port}"],
            n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr(n8n.secret),
        )  # fmt: skip
        async with isolated_stack(client, settings, **overrides) as (http, _):
            body = {
                "intent": "gmail.search",
                "inputs": {"query": f"x {unique}"},
                "callback_url": f"{receiver.url}/failed",
            }
            resp = await http.post("/orchestrate", json=body)
            assert resp.status_code == 502

            (got,) = await received(receiver, 1)
            document = json.loads(got.body)
            assert (document["status"], document["mode"], document["error"]["type"]) == (
                "error",
                "flow",
                "UpstreamBadRequest",
            )
            same_shape_as_get_jobs(document, await poll_job(http, resp.json()["job_id"]))
    finally:
        n8n.stop()


async def test_a_cancelled_job_calls_back_too(client, settings, receiver, unique):
    n8n = FakeN8n().start()
    try:
        n8n.script("digest-daily", Scripted(200, {"ok": True, "result": {}}, delay_s=5))
        overrides = dict(
            callback_secret=SecretStr(SECRET), callback_allowlist=[f"127.0.0.1:{receiver.port}"],
            n8n_base_url=n8n.base_url, n8n_webhook_secret=SecretStr(n8n.secret), n8n_timeout_s=10,
        )  # fmt: skip
        async with isolated_stack(client, settings, **overrides) as (http, _):
            body = {
                "intent": "digest.daily",
                "inputs": {"tags": [unique]},
                "callback_url": f"{receiver.url}/cancelled",
                "async": True,
            }
            job_id = (await http.post("/orchestrate", json=body)).json()["job_id"]
            while not n8n.calls("digest-daily"):
                await asyncio.sleep(0.05)

            assert (await http.post(f"/jobs/{job_id}/cancel")).status_code == 200

            (got,) = await received(receiver, 1)
            document = json.loads(got.body)
            assert (document["status"], document["error"]["type"]) == ("cancelled", "Cancelled")
            same_shape_as_get_jobs(document, await poll_job(http, job_id, until=("cancelled",)))
    finally:
        n8n.stop()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:9/hook", "allowlisted"),  # loopback, not on the allowlist
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("ftp://example.com/hook", "only https"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https://metadata.google.internal/", "metadata"),
    ],
)
async def test_unsafe_callback_urls_are_refused_before_anything_runs(callback_api, receiver, unique, url, reason):
    body = {"intent": "memory.write", "inputs": {"text": f"refused {unique}"}, "callback_url": url}

    resp = await callback_api.post("/orchestrate", json=body)

    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert (error["type"], error["field"]) == ("CallbackUrlRejected", "callback_url")
    assert reason in error["message"]
    assert resp.json()["job_id"] is None and receiver.received == []


async def test_callbacks_are_refused_while_no_signing_secret_is_configured(api, unique):
    body = {
        "intent": "memory.write",
        "inputs": {"text": f"no secret {unique}"},
        "callback_url": "https://hooks.example.com/x",
    }

    resp = await api.post("/orchestrate", json=body)

    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == "callback_url" and "CALLBACK_SECRET" in resp.json()["error"]["message"]
