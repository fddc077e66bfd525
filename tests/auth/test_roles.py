"""Each role against every route: the matrix is read from the app itself, so a route added tomorrow is
in it, and an app whose route does not declare who may call it is refused when it is built."""

from __future__ import annotations

import pytest
from fastapi import Depends

from config import Settings
from config.api_keys import Action, roles_for
from gateway.app import create_app
from gateway.auth import PUBLIC, RoleCheck, access_of, allow, api_routes, check_routes

APP = create_app(Settings(api_key="test-api-key"))
SAMPLE_PARAMS = {
    "job_id": "orch-" + "0" * 64, "workflow_id": "gptwf-" + "0" * 32, "name": "nobody", "category": "Creative", "asset": "app.js",
    "schedule_id": "nobody",
}  # fmt: skip


def every_route():
    for path, methods, route in api_routes(APP):
        [access] = access_of(route) or [None]
        for method in sorted(methods - {"HEAD"}):
            if access is not None:
                yield pytest.param(method, path, access, id=f"{method} {path}")


ROUTES = list(every_route())


def test_every_route_declares_exactly_one_role_or_public():
    assert len(ROUTES) >= 20
    for param in ROUTES:
        method, path, access = param.values
        assert isinstance(access, RoleCheck) or access is PUBLIC, (method, path)
    public = {(p.values[0], p.values[1]) for p in ROUTES if p.values[2] is PUBLIC}
    # Open by design: health and metrics; the console's files (they hold no data: what they fetch is behind
    # the key like any other call); and what a client reads before it holds a key (the Actions schema
    # ChatGPT imports from a URL, the OAuth protected-resource metadata).
    assert public == {
        ("GET", "/health"), ("GET", "/metrics"), ("GET", "/console"), ("GET", "/console/{asset}"),
        ("GET", "/actions/openapi.json"),
        ("GET", "/.well-known/oauth-protected-resource"), ("GET", "/.well-known/oauth-protected-resource/mcp"),
    }  # fmt: skip


def test_a_route_without_a_role_cannot_be_added():
    app = create_app(Settings(api_key="k"))

    @app.get("/forgot")
    async def forgot() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="GET /forgot declares no role"):
        check_routes(app)

    twice = create_app(Settings(api_key="k"))
    twice.get("/twice", dependencies=[Depends(allow(Action.READ)), Depends(allow(Action.RUN))])(forgot)
    with pytest.raises(RuntimeError, match="declares 2 roles"):
        check_routes(twice)


def request_for(method: str, path: str) -> tuple[str, dict]:
    url = path.format(**SAMPLE_PARAMS)
    # An empty body is never a valid request: an allowed call fails validation, it starts nothing.
    return url, ({"json": {}} if method in ("POST", "PUT", "PATCH") else {})


@pytest.mark.parametrize(("method", "path", "access"), ROUTES)
@pytest.mark.parametrize("key", [None, "acme-gpt", "acme-lead", "acme-ops", "api-key"])
async def test_each_role_against_every_route(keyed, method, path, access, key):
    url, kwargs = request_for(method, path)
    async with keyed.as_(key) as http:
        resp = await http.request(method, url, **kwargs)
    if access is PUBLIC:
        assert resp.status_code not in (401, 403), resp.text
        return
    if key is None:
        assert resp.status_code == 401 and resp.json()["error"]["type"] == "Unauthorized"
        return
    role = "admin" if key == "api-key" else {"acme-gpt": "caller", "acme-lead": "approver", "acme-ops": "admin"}[key]
    needed = [str(r) for r in roles_for(access.action)]
    if role in needed:
        assert resp.status_code not in (401, 403), (resp.status_code, resp.text)
        return
    assert resp.status_code == 403, resp.text
    error = resp.json()["error"]
    assert error["type"] == "Forbidden"
    assert error["details"] == {"required_roles": needed, "role": role}
    assert f"needs the {' or '.join(needed)} role" in error["message"] and key in error["message"]


async def test_a_caller_cannot_approve_and_an_approver_cannot_run(keyed, unique):
    async with keyed.as_("acme-gpt") as gpt, keyed.as_("acme-lead") as lead:
        started = await gpt.post(
            "/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"ship {unique}?"}}
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        refused = await gpt.post(f"/jobs/{job_id}/approve", json={"reason": "trust me"})
        assert refused.status_code == 403
        assert refused.json()["error"]["message"].startswith("this operation needs the approver or admin role")
        assert (
            await lead.post("/orchestrate", json={"intent": "memory.search", "inputs": {"query": "x"}})
        ).status_code == 403
        assert (await lead.post(f"/jobs/{job_id}/cancel")).status_code == 403
        assert (await lead.get(f"/jobs/{job_id}")).json()["status"] == "awaiting_approval", "an approver reads"
        assert (await lead.post(f"/jobs/{job_id}/reject", json={"reason": "no"})).status_code == 200


async def test_a_403_comes_before_anything_about_the_body(keyed):
    async with keyed.as_("acme-gpt") as gpt:
        resp = await gpt.post(
            f"/jobs/{SAMPLE_PARAMS['job_id']}/approve", content=b"\xff{", headers={"Content-Type": "application/json"}
        )
    assert resp.status_code == 403 and resp.json()["error"]["type"] == "Forbidden"
