"""A finished job is POSTed to the caller's URL, signed; a receiver that fails once gets it on the retry."""

from __future__ import annotations

import dataclasses
import json

import pytest
from temporalio.exceptions import ApplicationError

from activities.callbacks import CallbackActivities
from config import Settings
from intents.callbacks import CallbackDelivery, callback_body, verify_signature
from tests.callbacks.conftest import SECRET

JOB = {
    "job_id": "orch-abc123",
    "intent": "memory.write",
    "status": "success",
    "result": {"id": "mem-1"},
    "duration_ms": 42,
}


def delivery(receiver, path="/hooks/done") -> CallbackDelivery:
    return CallbackDelivery(url=f"{receiver.url}{path}", job=JOB)


async def test_the_receiver_gets_the_signed_job_document(env, callbacks, receiver):
    receipt = await env.run(callbacks.deliver, delivery(receiver))
    assert (receipt.status_code, receipt.attempt, receipt.host) == (204, 1, "127.0.0.1")
    (got,) = receiver.received
    assert got.path == "/hooks/done" and json.loads(got.body) == JOB
    assert got.body == callback_body(JOB)
    assert got.headers["x-orchestrator-job-id"] == "orch-abc123"
    assert got.headers["x-orchestrator-signature"].startswith("sha256=")
    assert verify_signature(SECRET, got.body, got.headers)
    assert SECRET not in json.dumps(got.headers)


async def test_a_receiver_that_fails_once_gets_the_callback_on_the_retry(env, callbacks, receiver):
    receiver.answer(503)
    with pytest.raises(ApplicationError) as info:
        await env.run(callbacks.deliver, delivery(receiver))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable and "503" in info.value.message

    env.info = dataclasses.replace(env.info, attempt=2)  # what Temporal's retry would run next
    receipt = await env.run(callbacks.deliver, delivery(receiver))
    assert receipt.attempt == 2
    first, second = receiver.received
    assert first.body == second.body and second.headers["x-orchestrator-attempt"] == "2"
    assert verify_signature(SECRET, second.body, second.headers)


@pytest.mark.parametrize(
    "status, kind", [(400, "UpstreamBadRequest"), (403, "UpstreamAuthError"), (302, "UpstreamBadRequest")]
)
async def test_4xx_and_redirects_are_not_retried(env, callbacks, receiver, status, kind):
    receiver.answer(status)
    with pytest.raises(ApplicationError) as info:
        await env.run(callbacks.deliver, delivery(receiver))
    assert info.value.type == kind and info.value.non_retryable
    assert len(receiver.received) == 1  # the redirect to the metadata address was not followed


async def test_a_receiver_that_quotes_our_signing_secret_is_quoted_without_it(env, callbacks, receiver):
    receiver.error_body = f"signature mismatch: we expected HMAC key {SECRET}"
    receiver.answer(401)
    with pytest.raises(ApplicationError) as info:
        await env.run(callbacks.deliver, delivery(receiver))
    assert info.value.type == "UpstreamAuthError"
    assert "signature mismatch: we expected HMAC key [redacted]" in info.value.message
    assert SECRET not in info.value.message


async def test_a_slow_receiver_times_out_and_is_retried(env, receiver):
    slow = CallbackActivities(
        Settings(callback_secret=SECRET, callback_allowlist=["127.0.0.1"], callback_timeout_s=0.2)
    )
    receiver.delay_s = 1
    with pytest.raises(ApplicationError) as info:
        await env.run(slow.deliver, delivery(receiver))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable


async def test_the_url_is_checked_again_at_delivery(env, receiver):
    not_allowlisted = CallbackActivities(Settings(callback_secret=SECRET))
    with pytest.raises(ApplicationError) as info:
        await env.run(not_allowlisted.deliver, delivery(receiver))
    assert info.value.type == "CallbackUrlRejected" and info.value.non_retryable
    assert receiver.received == []


async def test_an_unresolvable_public_host_is_retried(env):
    activities = CallbackActivities(Settings(callback_secret=SECRET))
    with pytest.raises(ApplicationError) as info:
        await env.run(activities.deliver, CallbackDelivery(url="https://hooks.example.invalid/cb", job=JOB))
    assert info.value.type == "UpstreamUnavailable" and not info.value.non_retryable and "resolve" in info.value.message


def test_delivery_to_a_public_name_is_pinned_to_the_checked_address():
    from ipaddress import ip_address

    from activities.callbacks import pinned_request
    from policies.url import check_callback_url

    target = check_callback_url("https://hooks.example.com:8443/cb?job=1", Settings(callback_secret=SECRET))
    url, headers, extensions = pinned_request(target, ip_address("93.184.216.34"))
    assert url == "https://93.184.216.34:8443/cb?job=1"
    assert headers == {"Host": "hooks.example.com:8443"} and extensions == {"sni_hostname": "hooks.example.com"}
    assert pinned_request(target, ip_address("2606:2800::1"))[0] == "https://[2606:2800::1]:8443/cb?job=1"
