"""The shipped n8n workflows are importable exports wired to the webhook paths the intents declare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intents.flows import FLOW_WEBHOOK_PATHS

EXPORTS = Path(__file__).resolve().parents[2] / "n8n_workflows"
FILES = sorted(EXPORTS.glob("*.json"))
WEBHOOK = "n8n-nodes-base.webhook"
RESPOND = "n8n-nodes-base.respondToWebhook"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def edges(flow: dict) -> list[tuple[str, int, str]]:
    """(source, output index, target) for every connection."""
    out = []
    for source, kinds in flow["connections"].items():
        for kind, outputs in kinds.items():
            assert kind == "main", f"{source}: unexpected connection type {kind}"
            for index, targets in enumerate(outputs):
                out.extend((source, index, t["node"]) for t in targets)
    return out


def test_every_flow_intent_ships_a_workflow():
    assert {p.stem for p in FILES} == set(FLOW_WEBHOOK_PATHS.values())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_export_is_structurally_valid(path: Path):
    flow = load(path)
    assert isinstance(flow["name"], str) and isinstance(flow["settings"], dict)
    names = [n["name"] for n in flow["nodes"]]
    assert len(names) == len(set(names)), "node names must be unique (connections refer to them)"
    assert len({n["id"] for n in flow["nodes"]}) == len(names)
    for node in flow["nodes"]:
        assert isinstance(node["type"], str) and node["type"].startswith("n8n-nodes-base."), node["name"]
        assert isinstance(node["typeVersion"], (int, float)), node["name"]
        assert len(node["position"]) == 2 and all(isinstance(c, (int, float)) for c in node["position"]), node["name"]
        assert isinstance(node["parameters"], dict), node["name"]
    for source, _index, target in edges(flow):
        assert source in names and target in names, f"{source} -> {target}"
    # Nodes that route failures to their error output must have that output wired somewhere.
    wired = {(s, i) for s, i, _ in edges(flow)}
    for node in flow["nodes"]:
        if node.get("onError") == "continueErrorOutput":
            assert (node["name"], 1) in wired, f"{node['name']} has an unwired error output"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_webhook_is_authenticated_and_answers_through_respond_nodes(path: Path):
    flow = load(path)
    (hook,) = [n for n in flow["nodes"] if n["type"] == WEBHOOK]
    params = hook["parameters"]
    assert params["path"] == path.stem and path.stem in FLOW_WEBHOOK_PATHS.values()
    assert params["httpMethod"] == "POST"
    assert params["authentication"] == "headerAuth" and "httpHeaderAuth" in hook["credentials"]
    assert params["responseMode"] == "responseNode"
    # Every node hangs off the webhook, and there is an error response as well as a success one.
    reachable, frontier = {hook["name"]}, [hook["name"]]
    graph = edges(flow)
    while frontier:
        current = frontier.pop()
        for source, _, target in graph:
            if source == current and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == {n["name"] for n in flow["nodes"]}
    responders = [n for n in flow["nodes"] if n["type"] == RESPOND]
    assert len(responders) >= 2 and "Respond error" in {n["name"] for n in responders}


def test_gmail_triage_previews_or_labels_in_batches():
    flow = load(EXPORTS / "gmail-triage.json")
    by_name = {n["name"]: n for n in flow["nodes"]}
    search = by_name["Search Gmail"]["parameters"]
    assert (search["resource"], search["operation"]) == ("message", "getAll")
    assert "inputs.query" in search["filters"]["q"]
    assert "dry_run" in json.dumps(by_name["Dry run?"]["parameters"])
    graph = edges(flow)
    assert ("Dry run?", 0, "Build preview") in graph and ("Build preview", 0, "Respond preview") in graph
    assert by_name["Loop over batches"]["type"] == "n8n-nodes-base.splitInBatches"
    assert "batch_size" in by_name["Loop over batches"]["parameters"]["batchSize"]
    assert by_name["Add label"]["parameters"]["operation"] == "addLabels"
    assert ("Loop over batches", 1, "Add label") in graph and ("Add label", 0, "Loop over batches") in graph
    assert ("Build labeled result", 0, "Respond labeled") in graph


def success_responders(flow: dict) -> set[str]:
    return {n["name"] for n in flow["nodes"] if n["type"] == RESPOND and n["name"] != "Respond error"}


def is_gate(node: dict) -> bool:
    """A Code node that fails on items carrying `error` and routes its own failure to the error branch."""
    code = node["parameters"].get("jsCode", "")
    return (
        node["type"] == "n8n-nodes-base.code"
        and node.get("onError") == "continueErrorOutput"
        and ".error !== undefined" in code
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_failing_step_can_never_reach_a_success_response(path: Path):
    """Real n8n, "continue (using error output)" plus "always output data": the failure goes to the error
    output *and* an empty item to the success output, which answers first ({"ok": true, "found": 0})."""
    flow = load(path)
    graph = edges(flow)
    by_name = {n["name"]: n for n in flow["nodes"]}
    for node in flow["nodes"]:
        assert not (node.get("alwaysOutputData") and node.get("onError") == "continueErrorOutput"), node["name"]
        assert node.get("onError") in (None, "continueErrorOutput", "continueRegularOutput"), node["name"]
        if node.get("onError") == "continueErrorOutput":
            assert {t for s, i, t in graph if (s, i) == (node["name"], 1)} == {"Build error"}, node["name"]
        if node.get("onError") != "continueRegularOutput":
            continue
        # Its error items travel on the success output: every way to a success response passes a gate.
        seen, frontier = set(), [node["name"]]
        while frontier:
            current = frontier.pop()
            for source, _, target in graph:
                if source == current and target not in seen and not is_gate(by_name[target]):
                    seen.add(target)
                    frontier.append(target)
        assert not seen & success_responders(flow), (
            f"{node['name']} reaches {seen & success_responders(flow)} without a gate"
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_build_error_types_credential_failures_as_configuration_errors(path: Path):
    code = {n["name"]: n for n in load(path)["nodes"]}["Build error"]["parameters"]["jsCode"]
    assert "UpstreamAuthError" in code


def test_the_generated_exports_are_what_their_generator_writes():
    """calendar-schedule, notes-sync, tasks-create and code-review come from scripts/build_n8n_flows.py: edit it, run it."""
    import importlib.util

    script = EXPORTS.parent / "scripts" / "build_n8n_flows.py"
    spec = importlib.util.spec_from_file_location("build_n8n_flows", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, build in module.FLOWS.items():
        assert load(EXPORTS / f"{path}.json") == build(), (
            f"n8n_workflows/{path}.json differs from the generator's output"
        )
