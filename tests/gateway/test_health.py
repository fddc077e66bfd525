"""GET /health tells an operator what is up: the gateway, Temporal, and a polling worker."""

from gateway.app import create_app
from tests.support.gateway import LiveServer, api_client
from tests.support.stack import isolated_stack
from worker.devserver import free_port


async def test_health_with_a_worker_is_ok(api):
    resp = await api.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["temporal"]["ok"] is True
    assert body["worker"]["polling"] is True


async def test_health_without_a_worker_says_so(client, settings):
    async with isolated_stack(client, settings, with_worker=False) as (http, local):
        resp = await http.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["temporal"]["ok"] is True
    assert body["worker"] == {"polling": False, "task_queue": local.task_queue, "pollers": 0}
    assert body["status"] == "degraded"


async def test_with_temporal_down_health_is_503_and_requests_get_a_clear_503(settings):
    down = settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with LiveServer(create_app(down)) as server, api_client(server.url) as http:
        health = await http.get("/health")
        work = await http.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": "x"}})

    assert health.status_code == 503
    assert health.json()["temporal"]["ok"] is False
    assert work.status_code == 503
    assert work.json()["error"]["type"] == "TemporalUnavailable"


async def test_listing_intents_does_not_wait_for_a_worker(client, settings):
    """No MCP servers configured (the default): GET /intents answers at once even with no worker."""
    async with isolated_stack(client, settings, with_worker=False, mcp_servers={}) as (http, _):
        resp = await http.get("/intents", timeout=5)
    assert resp.status_code == 200
    assert "memory.write" in {i["name"] for i in resp.json()["intents"]}
