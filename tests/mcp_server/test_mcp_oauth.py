"""A client that speaks only OAuth (a ChatGPT connector): it reads the protected-resource metadata, gets
a token from the named authorization server (a local test issuer with its JWKS), and calls /mcp with it.
Issuer, audience, expiry and signature are checked; scopes map onto roles, a subject onto a tenant."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from config.api_keys import Role
from tests.mcp_server.conftest import mcp_session
from tests.support.gateway import LiveServer
from tests.support.oauth_issuer import TestIssuer


@pytest.fixture(scope="module")
def issuer():
    with TestIssuer() as server:
        yield server


@pytest.fixture
async def oauth_gateway(client, settings, worker, issuer):
    from gateway.app import create_app

    local = settings.model_copy(update={
        "oauth_issuer": issuer.url, "oauth_subjects": {"alice": {"role": "approver", "tenant": "acme"}},
    })  # fmt: skip
    async with LiveServer(create_app(local, client=client)) as server:
        yield server.url


async def test_the_resource_metadata_names_the_authorization_server(oauth_gateway, issuer):
    async with httpx.AsyncClient() as http:
        meta = (await http.get(f"{oauth_gateway}/.well-known/oauth-protected-resource/mcp")).json()
        refused = await http.post(
            f"{oauth_gateway}/mcp", json={}, headers={"Accept": "application/json, text/event-stream"}
        )
    assert meta["resource"] == f"{oauth_gateway}/mcp"
    assert [url.rstrip("/") for url in meta["authorization_servers"]] == [issuer.url]
    assert "orchestrator:call" in meta["scopes_supported"]
    assert refused.status_code == 401
    assert (
        f'resource_metadata="{oauth_gateway}/.well-known/oauth-protected-resource/mcp"'
        in refused.headers["www-authenticate"]
    )


async def test_a_token_with_the_call_scope_runs_tools_as_its_subject(oauth_gateway, issuer, unique):
    token = issuer.token(sub=f"bob-{unique}", audience=f"{oauth_gateway}/mcp")
    async with mcp_session(oauth_gateway, token) as mcp:
        wrote = await mcp.call_tool("memory_write", {"text": f"oauth works {unique}"})
        job = await mcp.call_tool("get_job", {"job_id": wrote.structuredContent["job_id"]})
    assert (
        job.structuredContent["requested_by"] == f"oauth:bob-{unique}" and job.structuredContent["tenant"] == "default"
    )


async def test_a_subject_entry_grants_its_role_and_tenant(oauth_gateway, issuer):
    token = issuer.token(sub="alice", scope="profile", audience=f"{oauth_gateway}/mcp")
    async with httpx.AsyncClient() as http:
        who = (await http.get(f"{oauth_gateway}/whoami", headers={"Authorization": f"Bearer {token}"})).json()
    assert who["role"] == Role.APPROVER and who["tenant"] == "acme" and who["name"] == "oauth:alice"


@pytest.mark.parametrize(
    "bad",
    ["expired", "wrong_audience", "wrong_issuer", "forged", "no_role"],
)
async def test_bad_tokens_are_refused(oauth_gateway, issuer, bad):
    audience = f"{oauth_gateway}/mcp"
    token = {
        "expired": lambda: issuer.token(audience=audience, expires_in=-120),
        "wrong_audience": lambda: issuer.token(audience="https://elsewhere.example/mcp"),
        "wrong_issuer": lambda: issuer.token(audience=audience, issuer="https://evil.example"),
        "forged": lambda: issuer.token(
            audience=audience, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ),
        "no_role": lambda: issuer.token(audience=audience, scope="profile email"),
    }[bad]()
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            f"{oauth_gateway}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        )  # fmt: skip
    assert resp.status_code == (403 if bad == "no_role" else 401), resp.text
    assert ("insufficient_scope" if bad == "no_role" else "invalid_token") in resp.headers["www-authenticate"]
