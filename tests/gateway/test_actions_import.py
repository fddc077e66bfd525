"""ChatGPT's "Import from URL" reads the fitted Actions schema from the gateway itself, and nothing but
https reaches a GPT's `servers`."""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import httpx
import pytest

from gateway.actions_schema import check_server_url
from tests.support.gateway import LiveServer
from worker.cli import main as cli


async def test_import_from_url_gets_the_fitted_schema_with_the_public_url(client, settings):
    from gateway.app import create_app

    app = create_app(settings.model_copy(update={"public_url": "https://orchestrator.example.com"}), client=client)
    async with LiveServer(app) as server, httpx.AsyncClient() as http:
        doc = (await http.get(f"{server.url}/actions/openapi.json")).json()
    assert doc["servers"][0]["url"] == "https://orchestrator.example.com"
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth"}
    ops = [op for item in doc["paths"].values() for op in item.values()]
    assert not any(p.get("in") == "header" for op in ops for p in op.get("parameters", []))
    assert "/jobs/{job_id}/approve" not in doc["paths"], "a caller key's operations only"


async def test_a_plain_http_public_address_is_refused_but_loopback_is_served(client, settings):
    from gateway.app import create_app

    async with LiveServer(
        create_app(settings.model_copy(update={"public_url": "http://orchestrator.example.com"}), client=client)
    ) as server:
        async with httpx.AsyncClient() as http:
            refused = await http.get(f"{server.url}/actions/openapi.json")
    assert (
        refused.status_code == 503
        and refused.json()["error"]["type"] == "Misconfigured"
        and "PUBLIC_URL" in refused.text
    )
    async with LiveServer(create_app(settings, client=client)) as server, httpx.AsyncClient() as http:
        local = await http.get(f"{server.url}/actions/openapi.json")
    assert local.status_code == 200 and local.json()["servers"][0]["url"] == server.url


@pytest.mark.parametrize(
    "url", ["http://orchestrator.example.com", "ftp://x", "orchestrator.example.com", "http://127.0.0.1:8000"]
)
def test_the_cli_refuses_a_server_url_that_is_not_https(url):
    err = io.StringIO()
    with redirect_stderr(err):
        assert cli(["actions-schema", "--server-url", url]) == 2
    assert "https://" in err.getvalue()


def test_loopback_http_is_allowed_only_when_asked():
    assert check_server_url("http://127.0.0.1:8000", allow_loopback_http=True)
    assert check_server_url("http://localhost:8000", allow_loopback_http=True)
    with pytest.raises(ValueError):
        check_server_url("http://10.0.0.5:8000", allow_loopback_http=True)
