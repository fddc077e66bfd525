"""Bad input gets a clear JSON 4xx naming the field; never a 500, never an echoed secret."""

import httpx
import pytest

from tests.support.gateway import api_client


async def test_no_token_is_401(gateway):
    async with api_client(gateway, token=None) as anon:
        resp = await anon.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": "x"}})
    assert resp.status_code == 401
    assert resp.json()["error"]["field"] == "Authorization"
    assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_a_wrong_token_is_401_and_not_echoed(gateway):
    async with api_client(gateway, token="guess-123") as intruder:
        resp = await intruder.get("/jobs/orch-abc")
    assert resp.status_code == 401
    assert "guess-123" not in resp.text and "test-api-key" not in resp.text


async def test_an_unknown_intent_is_400_listing_the_known_ones(api):
    resp = await api.post("/orchestrate", json={"intent": "memory.wirte", "inputs": {"text": "x"}})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["type"] == "UnknownIntent" and error["field"] == "intent"
    assert "memory.write" in error["details"]["known"]
    assert error["details"]["did_you_mean"][0] == "memory.write"


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({}, "inputs.text"),
        ({"text": "   "}, "inputs.text"),
        ({"text": "x", "colour": "red"}, "inputs.colour"),
        ({"text": "x", "tags": "not-a-list"}, "inputs.tags"),
        ({"text": "x" * 20_001}, "inputs.text"),
    ],
)
async def test_inputs_that_fail_the_intents_model_are_422_naming_the_field(api, inputs, field):
    resp = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": inputs})
    assert resp.status_code == 422
    assert resp.json()["error"]["field"] == field
    assert resp.json()["error"]["type"] == "ValidationError"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"inputs": {}}, "intent"),
        ({"intent": "memory.write", "inputs": {"text": "x"}, "mode": "turbo"}, "mode"),
        ({"intent": "memory.write", "inputs": ["x"]}, "inputs"),
        ({"intent": "memory.write", "inputs": {"text": "x"}, "async": "maybe"}, "async"),
    ],
)
async def test_a_malformed_envelope_is_422_naming_the_field(api, body, field):
    resp = await api.post("/orchestrate", json=body)
    assert resp.status_code == 422
    assert resp.json()["error"]["field"] == field


async def test_an_explicit_mode_that_contradicts_the_intent_is_400(api):
    resp = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": "x"}, "mode": "flow"})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["type"] == "ModeMismatch" and error["field"] == "mode"
    assert "agent" in error["message"]


async def test_a_body_that_is_not_json_is_422(api):
    resp = await api.post("/orchestrate", content=b"intent=memory.write", headers={"Content-Type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["status"] == "error"


async def test_an_oversized_body_is_413_whether_declared_or_streamed(api):
    huge = {"intent": "memory.write", "inputs": {"text": "x" * 200_000}}
    declared = await api.post("/orchestrate", json=huge)

    async def chunks():
        for _ in range(30):
            yield b"x" * 10_000

    streamed = await api.post("/orchestrate", content=chunks(), headers={"Content-Type": "application/json"})

    for resp in (declared, streamed):
        assert resp.status_code == 413
        assert resp.json()["error"]["type"] == "PayloadTooLarge"


async def test_an_unknown_job_is_404(api):
    for job_id in ("orch-0000", "no such job", "x" * 300):
        resp = await api.get(f"/jobs/{job_id}")
        assert resp.status_code == 404, job_id
        assert resp.json()["error"]["type"] in ("NotFound", "ValidationError")


async def test_nothing_a_client_sends_produces_a_500(api):
    bodies = [None, [], "string", 42, {"intent": None}, {"intent": "", "inputs": {}}, {"intent": "x" * 500},
              {"intent": "memory.search", "inputs": {"query": "q", "k": 10**12}},
              {"intent": "memory.search", "inputs": {"query": "q", "tags": [""]}},
              {"intent": "memory.write", "inputs": {"text": "\u0000"}, "callback_url": 7}]  # fmt: skip
    for body in bodies:
        resp = await api.post("/orchestrate", json=body)
        assert 400 <= resp.status_code < 500, (body, resp.text)
        assert resp.json()["status"] == "error"
    resp = await api.request("DELETE", "/orchestrate")
    assert resp.status_code == 405


async def test_the_api_key_is_never_in_an_error_body(api, gateway):
    async with httpx.AsyncClient(base_url=gateway) as raw:
        resp = await raw.post("/orchestrate", headers={"Authorization": "Basic dGVzdA=="}, json={})
    assert resp.status_code == 401
    assert "test-api-key" not in resp.text
