"""The contract is the code: the published OpenAPI document says every status an operation answers, its
bodies match what the gateway sends, the README's error table says the same, and nothing a client sends
comes back in an error."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from tests.support.gateway import api_client
from tests.support.stack import poll_job

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
METHODS = ("get", "post", "put", "patch", "delete")


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def readme_error_statuses() -> set[int]:
    table = README[README.index("### Errors") : README.index("### Idempotency")]
    statuses: set[int] = set()
    for cell in re.findall(r"^\| ([0-9/]+) \|", table, flags=re.M):
        statuses |= {int(s) for s in cell.split("/")}
    return statuses


def conforms(doc, name: str, body) -> None:
    """Validate `body` against components/schemas/<name> of the published document (JSON Schema 2020-12)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


@pytest.fixture
async def doc(api):
    return (await api.get("/openapi.json")).json()


async def test_the_readme_error_table_lists_exactly_the_statuses_the_openapi_documents(doc):
    documented = {int(code) for _, op in operations(doc) for code in op["responses"] if int(code) >= 400}
    assert documented == readme_error_statuses()


async def test_every_operation_documents_the_statuses_it_shares_with_the_others(doc):
    for label, op in operations(doc):
        codes = set(op["responses"])
        params = op.get("parameters", [])
        if op.get("security"):
            assert {"401", "403", "429", "503"} <= codes, label
            assert op["x-required-roles"] and set(op["x-required-roles"]) <= {"caller", "approver", "admin"}, label
        if any(p["in"] == "path" and p["name"] in ("job_id", "workflow_id") for p in params):
            assert "404" in codes, label
        if "requestBody" in op:
            assert {"413", "422"} <= codes, label
        for code, response in op["responses"].items():
            if int(code) >= 400 and label != "GET /health":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"
                }, (label, code)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def test_a_running_job_matches_the_published_job_schema_without_closed_at(api, doc, unique):
    started = await api.post(
        "/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"contract {unique}"}, "async": True}
    )
    assert started.status_code == 202, started.text
    job = await poll_job(api, started.json()["job_id"], until=("awaiting_approval",))
    conforms(doc, "JobView", job)
    assert "closed_at" not in job and "duration_ms" not in job
    cancelled = await api.post(f"/jobs/{job['job_id']}/cancel")
    assert cancelled.status_code == 200
    conforms(doc, "JobView", cancelled.json())
    ended = await poll_job(api, job["job_id"], until=("cancelled",))
    conforms(doc, "JobView", ended)
    assert "closed_at" in ended and "duration_ms" in ended


BODY_ROUTES = ["/orchestrate", "/jobs/orch-0000/approve", "/api/gpt-workflows/create"]


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"intent": "memory.write", "inputs": {"text": "caf\xe9"}}', "not valid UTF-8 (byte position 50)"),
        (b'{"intent": "memory.write",, "inputs": {}}', "invalid JSON: Expecting property name"),
        (b'{"intent": "memory.write"', "invalid JSON: Expecting ',' delimiter"),
        (b"\xff\xfe{\x00}\x00", "not valid UTF-8 (byte position 0)"),  # UTF-16: JSON on the wire is UTF-8
    ],
)
async def test_a_body_that_is_not_utf8_json_is_422_naming_body_with_its_position(api, path, raw, reason):
    resp = await api.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["type"] == "ValidationError" and error["field"] == "body"
    assert error["message"].startswith(f"body: {reason}")
    assert re.search(r"position \d+", error["message"])
    assert "caf" not in resp.text and "memory.write" not in resp.text


async def test_a_caller_without_the_key_hears_401_whatever_its_body(gateway):
    async with api_client(gateway, token=None) as anon:
        resp = await anon.post("/orchestrate", content=b"\xff{", headers={"Content-Type": "application/json"})
    assert resp.status_code == 401 and resp.json()["error"]["type"] == "Unauthorized"


MARKER = "abc<img src=x>"


async def test_no_error_echoes_what_was_sent_path_parameters_included(api):
    answers = [
        await api.get(f"/jobs/{MARKER}"),
        await api.get("/jobs/orch-" + "f" * 64),  # a well-formed id that names no job
        await api.post(f"/jobs/{MARKER}/approve", json={}),
        await api.post(f"/jobs/{MARKER}/reject", json={}),
        await api.post(f"/jobs/{MARKER}/cancel"),
        await api.get(f"/api/gpt-workflows/{MARKER}"),
        await api.post(f"/api/gpt-workflows/{MARKER}/execute"),
        await api.post(f"/api/gpt-workflows/{MARKER}/cancel"),
    ]
    for resp in answers:
        assert resp.status_code == 404, (resp.request.url, resp.text)
        assert resp.json()["error"]["type"] == "NotFound"
        assert "img" not in resp.text and "f" * 64 not in resp.text, resp.text
    refused = [
        await api.post("/orchestrate", json={"intent": MARKER, "inputs": {}}),
        await api.post(f"/api/gpt-fleets/{MARKER}/orchestrate", json={"objective": "x"}),
        await api.post(
            "/orchestrate", json={"intent": "ssh.exec.peek", "inputs": {"host": MARKER, "command": "uptime"}}
        ),
    ]
    for resp in refused:
        assert resp.status_code == 400, resp.text
        assert resp.json()["error"]["type"] in ("UnknownIntent", "UnknownAgent", "UnknownHost")
        assert "img" not in resp.text, resp.text


async def test_a_fleet_given_a_timeout_under_a_millisecond_is_refused_or_ends_instead_of_hanging(api, unique):
    resp = await api.post(
        "/api/gpt-fleets/Creative/orchestrate?wait=20", json={"objective": f"contract {unique}", "timeout_s": 1e-9}
    )
    if resp.status_code == 422:  # refused up front, naming the field: nothing started
        assert resp.json()["error"]["field"] == "timeout_s"
        return
    assert resp.status_code in (200, 409), resp.text  # each agent timed out (or the fleet failed): it ended
    job = await poll_job(
        api, resp.json().get("workflow_id") or resp.json()["job_id"], until=("success", "error"), timeout=30
    )
    assert job["status"] in ("success", "error")
