"""The ChatGPT Actions schema: generated from the live app, committed, and fit for a custom GPT's import."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, Header

from gateway.actions_schema import MAX_TEXT, actions_schema, render
from gateway.app import create_app
from intents import registry
from worker.cli import main as cli

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "chatgpt_actions.json"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(COMMITTED.read_text())


@pytest.fixture(scope="module")
def live(settings) -> FastAPI:
    return create_app(settings)


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def texts(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str):
                yield f"{where}.{key}", value
            elif key not in ("value", "example", "default"):
                yield from texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from texts(item, f"{where}[{i}]")


def test_the_committed_schema_is_what_the_live_app_generates_for_a_caller_key(committed, live):
    server_url = committed["servers"][0]["url"]
    regenerated = render(actions_schema(live, server_url, role="caller"))
    assert regenerated == COMMITTED.read_text(), "chatgpt_actions.json is stale: run `make actions-schema`"


def test_a_caller_schema_leaves_out_what_a_caller_cannot_use(committed, live):
    """The GPT holds a caller key: it is never offered approve, reject, or key management."""
    everything = actions_schema(live, "https://x.example.com")
    for role in ("caller", "approver", "admin"):
        doc = actions_schema(live, "https://x.example.com", role=role)
        for path, method, op in operations(everything):
            allowed = op.get("x-required-roles")
            kept = method in doc["paths"].get(path, {})
            assert kept == (allowed is None or role in allowed), (role, method, path)
    assert "/jobs/{job_id}/approve" not in committed["paths"] and "/jobs/{job_id}/reject" not in committed["paths"]
    assert {"/orchestrate", "/jobs/{job_id}", "/jobs/{job_id}/cancel", "/api/gpt-workflows/create"} <= set(
        committed["paths"]
    )
    assert not any(p.startswith("/keys") for p in everything["paths"]), "key management is operator-only"
    approver = actions_schema(live, "https://x.example.com", role="approver")
    assert "/jobs/{job_id}/approve" in approver["paths"] and "/orchestrate" not in approver["paths"]


def test_the_cli_prints_the_same_document(committed):
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli(["actions-schema", "--server-url", "https://gw.example.org/", "--role", "caller"]) == 0
    printed = json.loads(out.getvalue())
    assert printed["servers"] == [{"url": "https://gw.example.org", "description": "The orchestrator gateway (HTTPS)."}]
    assert printed["paths"] == committed["paths"]


def test_it_is_openapi_3_1_with_a_server(committed):
    assert committed["openapi"] == "3.1.0"
    assert committed["servers"][0]["url"].startswith("https://")
    assert committed["info"]["title"] and committed["info"]["version"]


def test_every_operation_has_a_unique_camel_case_operation_id(committed, live):
    ids = [op["operationId"] for _, _, op in operations(committed)]
    assert all(CAMEL.match(i) for i in ids), ids
    assert len(ids) == len(set(ids))
    live_ops = {
        (p, m)
        for p, m, op in operations(live.openapi())
        if "caller" in op.get("x-required-roles", ["caller"]) and not op.get("x-operator-only")
    }
    assert {(p, m) for p, m, _ in operations(committed)} == live_ops, (
        "every public route a caller may use is in the schema"
    )
    assert ("/schedules/{schedule_id}/backfill", "post") not in live_ops, "backfill is an operator's repair"


def test_every_summary_and_description_fits_in_300_characters(committed):
    long = {where: len(text) for where, text in texts(committed) if len(text) > MAX_TEXT}
    assert long == {}


def test_bearer_auth_applies_to_everything_but_health(committed):
    schemes = committed["components"]["securitySchemes"]
    assert list(schemes.values()) == [
        {"type": "http", "scheme": "bearer", "description": schemes["bearerAuth"]["description"]}
    ]
    assert committed["security"] == [{"bearerAuth": []}]
    open_ops = {path for path, _, op in operations(committed) if op.get("security") == []}
    assert open_ops == {"/health"}
    assert all(op.get("security") in (None, []) for _, _, op in operations(committed))


def test_reads_and_orchestrate_are_not_consequential_but_decisions_and_cancels_are(committed, live):
    marked = {(p, m): op.get("x-openai-isConsequential") for p, m, op in operations(live.openapi())}
    for path, method, op in operations(committed):
        flag = op["x-openai-isConsequential"]
        if marked.get((path, method)) is not None:
            assert flag is marked[(path, method)], f"{method} {path}: the route's own marker wins"
        else:
            assert flag is (method != "get"), f"{method} {path}: reads are safe, other methods ask the user first"
    assert committed["paths"]["/orchestrate"]["post"]["x-openai-isConsequential"] is False
    everything = actions_schema(live, "https://x.example.com")
    for path in ("/jobs/{job_id}/approve", "/jobs/{job_id}/reject", "/jobs/{job_id}/cancel"):
        assert everything["paths"][path]["post"]["x-openai-isConsequential"] is True
    assert all(op["x-openai-isConsequential"] is False for _, m, op in operations(committed) if m == "get")


def test_orchestrate_shows_a_valid_example_for_each_intent(committed):
    op = committed["paths"]["/orchestrate"]["post"]
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert {"memory.write", "gmail.triage", "gmail.search", "slack.summarize", "digest.daily"} <= set(examples)
    for name, example in examples.items():
        registry.get(name).input_model.model_validate(example["value"]["inputs"])
        assert name in op["description"] or "…" in op["description"]
    assert "mcp.<server>.<tool>" in op["description"]


def test_no_header_parameters_or_operator_routes_and_responses_stay_small(committed, settings):
    params = [p for _, _, op in operations(committed) for p in op.get("parameters", [])]
    assert all(p["in"] in ("path", "query") for p in params), "ChatGPT cannot send custom headers"
    assert "/metrics" not in committed["paths"]
    assert "HTTPValidationError" not in committed["components"]["schemas"], "422s use the gateway's ErrorResponse"
    assert settings.max_result_chars < 100_000, "results are capped under ChatGPT's 100k-character limit"
    assert len(COMMITTED.read_text()) < 100_000


def test_routes_added_later_are_fitted_too():
    """Whatever routes arrive next: no operation_id, long text, headers, operator-only, same names."""
    app = FastAPI()
    one, two = APIRouter(), APIRouter()

    @one.post("/things/{thing_id}/archive", summary="Archive " + "very " * 100 + "carefully")
    async def archive_thing(thing_id: str, x_trace: str | None = Header(None)):
        return {}

    @two.get("/other/things", description="d" * 1000)
    async def archive_thing(limit: int = 10):  # noqa: F811 - same function name, other route
        return {}

    @one.get("/internal/stats", openapi_extra={"x-operator-only": True})
    async def stats():
        return {}

    app.include_router(one)
    app.include_router(two)
    doc = actions_schema(app, "https://x.example.com")

    archive = doc["paths"]["/things/{thing_id}/archive"]["post"]
    listing = doc["paths"]["/other/things"]["get"]
    assert (archive["operationId"], listing["operationId"]) == ("archiveThing", "archiveThing2")
    assert archive["x-openai-isConsequential"] is True and listing["x-openai-isConsequential"] is False
    assert len(archive["summary"]) <= MAX_TEXT and len(listing["description"]) <= MAX_TEXT
    assert [p["name"] for p in archive["parameters"]] == ["thing_id"]
    assert "/internal/stats" not in doc["paths"]
    assert archive["security"] == [] and doc["security"] == [{"bearerAuth": []}]
