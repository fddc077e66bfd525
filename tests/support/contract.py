"""Fuzz the live gateway against its own OpenAPI document with schemathesis.

`per_intent_openapi` makes a variant of the published document whose `/orchestrate` body is a oneOf of
`{intent: <const>, inputs: <that intent's JSON schema from GET /intents>, ...}`, so generated requests get
past validation and really start jobs. `fuzz` runs a fixed budget of positive cases with a fixed seed and
returns what failed (it never raises for a failing check: every failure is collected and reported).
"""

from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import given as hypothesis_given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# A peer that failed for good, is unavailable, or timed out is a documented 502/503/504 with the error
# body (status_code_conformance and response_schema_conformance hold it to that); any other 5xx is a bug.
PEER_STATUSES = {502, 503, 504}


def not_an_undocumented_server_error(ctx, response, case):
    if response.status_code in PEER_STATUSES:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    not_an_undocumented_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
ORCHESTRATE = "/orchestrate"


def _hoist_defs(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """Move a JSON schema's `$defs` into components/schemas (`#/$defs/X` -> `#/components/schemas/<prefix>X`)."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})
    text = json.dumps(schema)
    for name, sub in defs.items():
        components[prefix + name] = json.loads(json.dumps(sub).replace('"#/$defs/', f'"#/components/schemas/{prefix}'))
    return json.loads(text.replace('"#/$defs/', f'"#/components/schemas/{prefix}'))


def per_intent_openapi(doc: dict[str, Any], intents: list[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    variants = []
    for intent in intents:
        if "input_schema" not in intent:
            continue
        prefix = "Intent_" + "".join(c if c.isalnum() else "_" for c in intent["name"]) + "__"
        inputs = _hoist_defs(intent["input_schema"], prefix, components)
        variants.append(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["intent", "inputs"],
                "properties": {
                    "intent": {"const": intent["name"]},
                    "inputs": inputs,
                    "mode": {"enum": ["auto", intent["mode"]]},
                    "async": {"type": "boolean"},
                },
            }
        )
    body = doc["paths"][ORCHESTRATE]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"oneOf": variants}
    body.pop("examples", None)
    return doc


def with_known_names(doc: dict[str, Any], agents: list[str], fleets: list[str]) -> dict[str, Any]:
    """Steps name a known agent and send it a message, fleets are known categories: most generated
    GPT workflows and fleet runs pass the gateway's checks and really run (the unknown ones are a 400)."""
    doc = copy.deepcopy(doc)
    for name, schema in doc["components"]["schemas"].items():
        if name == "GptStep" or name.endswith("__GptStep"):
            props = schema["properties"]
            props["gpt"] = {"enum": agents}
            props["action"] = {"const": "message"}
            props["params"] = {
                "type": "object", "required": ["message"], "properties": {"message": {"type": "string", "minLength": 1}}
            }  # fmt: skip
            props["waitFor"] = {"type": "array", "maxItems": 0}
            props["condition"] = {"type": "null"}
            schema["required"] = sorted({*schema.get("required", []), "gpt"})
        if name == "GptWorkflowDefinition":
            schema["properties"]["steps"]["maxItems"] = 1  # step ids must be unique, which a schema cannot say
        if name == "FleetRequest" or name.endswith("__FleetRequest"):
            schema["properties"]["category"] = {"enum": fleets}
    body = doc["paths"][ORCHESTRATE]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for variant in body.get("oneOf", []):
        if variant["properties"]["intent"]["const"] == "gpt.workflow":
            variant["properties"]["inputs"]["properties"]["steps"]["maxItems"] = 1
    for param in doc["paths"]["/api/gpt-fleets/{category}/orchestrate"]["post"]["parameters"]:
        if param["name"] == "category":
            param["schema"] = {"type": "string", "enum": fleets}
    return doc


@dataclass
class FuzzReport:
    cases: int = 0
    seconds: float = 0.0
    per_operation: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    job_ids: set[str] = field(default_factory=set)
    workflow_ids: set[str] = field(default_factory=set)
    schedule_ids: set[str] = field(default_factory=set)

    def summary(self) -> str:
        lines = [
            f"{self.cases} cases in {self.seconds:.0f} s ({len(self.job_ids)} job ids, {len(self.workflow_ids)} workflow ids, "
            f"{len(self.schedule_ids)} schedule ids reused)"
        ]
        lines += [
            f"  {op}: {n} cases, statuses {dict(sorted(self.statuses.get(op, {}).items()))}"
            for op, n in self.per_operation.items()
        ]
        lines += [f"FAIL {op} [{kind}]: {text}" for (op, kind), text in self.failures.items()]
        return "\n".join(lines)


def budget_for(labels: list[str], total: int, *, orchestrate_share: float = 0.5) -> dict[str, int]:
    """Half the cases to POST /orchestrate (every intent lives behind it), the rest spread evenly."""
    orchestrate = f"POST {ORCHESTRATE}"
    others = [label for label in labels if label != orchestrate]
    main = int(total * orchestrate_share) if orchestrate in labels else 0
    each = (total - main) // max(len(others), 1)
    return {label: (main if label == orchestrate else each) for label in labels}


# Operations that start jobs run first; the ids they answer with are then offered to the operations
# that read, approve, reject, execute or cancel (next to random ids), so those meet real jobs in every state.
STARTERS = (
    "POST /orchestrate",
    "POST /api/gpt-workflows/create",
    "POST /api/gpt-fleets/{category}/orchestrate",
    "POST /schedules",
)
ID_KEYS = {"job_id": ("job_id", "workflow_id"), "workflow_id": ("workflow_id",)}


def with_ids(
    doc: dict[str, Any], job_ids: set[str], workflow_ids: set[str], schedule_ids: set[str] = frozenset()
) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    known = {
        "job_id": sorted(job_ids | workflow_ids),
        "workflow_id": sorted(workflow_ids),
        "schedule_id": sorted(schedule_ids),
    }
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param["in"] == "path" and known.get(param["name"]):
                    # enum alone: next to the id pattern, hypothesis-jsonschema would fold it into the pattern
                    param["schema"] = {"type": "string", "enum": known[param["name"]]}
    return doc


def without_event_streams(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without its Server-Sent Event streams: they answer for as long as a job runs (a created GPT
    workflow waits for ever), which a client reading whole bodies cannot fuzz. tests/live reads them with a
    real SSE client instead."""
    doc = copy.deepcopy(doc)
    for path, item in list(doc["paths"].items()):
        for method, op in list(item.items()):
            content = (op.get("responses", {}).get("200") or {}).get("content", {}) if isinstance(op, dict) else {}
            if "text/event-stream" in content:
                del item[method]
        if not item:
            del doc["paths"][path]
    return doc


def fuzz(
    doc: dict[str, Any], base_url: str, token: str, *, total: int, seed_value: int, time_cap_s: float
) -> FuzzReport:
    """Synchronous (run it in a thread: the gateway and worker live on the test's event loop).

    `total` cases: each operation its budget (hypothesis may stop an operation early once it has seen all
    it can generate), then POST /orchestrate tops the count up to `total`, with the next seeds, while the
    time cap allows."""
    _parse_lambda_sources_early()
    doc = without_event_streams(doc)
    labels = [result.ok().label for result in schemathesis.openapi.from_dict(doc).get_all_operations()]
    budget = budget_for(labels, total)
    report = FuzzReport(per_operation=dict.fromkeys(labels, 0))
    started = time.monotonic()
    deadline = started + time_cap_s
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    left = sum(budget.values())

    def run(document: dict[str, Any], wanted: list[str], examples: dict[str, int], seed_offset: int = 0) -> None:
        nonlocal left
        schema = schemathesis.openapi.from_dict(document)
        for operation in (result.ok() for result in schema.get_all_operations()):
            if operation.label not in wanted:
                continue
            # No operation takes more than its share (by budget) of the time left.
            share = examples[operation.label] / max(left, 1)
            left = max(left - examples[operation.label], 0)
            op_deadline = min(deadline, time.monotonic() + (deadline - time.monotonic()) * share)
            _run_operation(
                operation,
                examples[operation.label],
                seed_value + seed_offset,
                op_deadline,
                report,
                base_url,
                session,
                headers,
            )

    run(doc, [label for label in labels if label in STARTERS], budget)
    readers = [label for label in labels if label not in STARTERS]
    by_id = [label for label in readers if "{job_id}" in label or "{workflow_id}" in label or "{schedule_id}" in label]
    # Operations on an id: half their budget on random ids (404), half on the ids the starters answered with.
    half = {label: (n // 2 if label in by_id else n) for label, n in budget.items()}
    run(doc, [label for label in readers if not label.startswith("DELETE ")], half)
    run(doc, [label for label in readers if label.startswith("DELETE ")], half)
    # Deletes last, so the other operations on an id meet the schedules (and jobs) still there.
    known = with_ids(doc, report.job_ids, report.workflow_ids, report.schedule_ids)
    rest = {label: budget[label] - half[label] for label in by_id}
    run(known, [label for label in by_id if not label.startswith("DELETE ")], rest, seed_offset=1)
    run(known, [label for label in by_id if label.startswith("DELETE ")], rest, seed_offset=1)
    orchestrate = f"POST {ORCHESTRATE}"
    for offset in range(1, 4):
        missing = total - report.cases
        if missing <= 0 or time.monotonic() >= deadline:
            break
        left = missing
        run(doc, [orchestrate], {orchestrate: missing}, seed_offset=1 + offset)
    report.seconds = time.monotonic() - started
    return report


def _run_operation(
    operation, examples: int, seed_value: int, op_deadline: float, report: FuzzReport, base_url, session, headers
):
    label = operation.label

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_given(case=operation.as_strategy())
    def run(case) -> None:
        if time.monotonic() > op_deadline:
            return
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=90)
        report.cases += 1
        report.per_operation[label] += 1
        _collect_ids(response, report)
        codes = report.statuses.setdefault(label, {})
        codes[response.status_code] = codes.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected, none stops the run
            kind = f"{type(exc).__name__} {response.status_code}"
            report.failures.setdefault((label, kind), _describe(exc, response))

    run()


def _parse_lambda_sources_early() -> None:
    """hypothesis names a strategy's lambdas by parsing their module's source (cached per module). Done deep in
    a draw, CPython 3.11's ast.parse can fail with "AST constructor recursion depth mismatch", which aborts
    generation; parsing the generator modules here, at a shallow stack, fills the cache first."""
    import importlib
    import types

    from hypothesis.internal.reflection import get_pretty_function_description

    # Imported lazily, the first time a free-form object (`dict[str, Any]`, e.g. a schedule's inputs) is drawn.
    importlib.import_module("schemathesis.generation.jsonschema.strategy")
    for name, module in list(sys.modules.items()):
        if not name.startswith(("schemathesis.generation", "schemathesis.specs.openapi", "hypothesis.strategies")):
            continue
        values = [
            v for value in vars(module).values() for v in (value.values() if isinstance(value, dict) else [value])
        ]
        lambdas = [
            v for v in values if isinstance(v, types.LambdaType) and v.__name__ == "<lambda>" and v.__module__ == name
        ]
        if lambdas:
            get_pretty_function_description(lambdas[0])


def _collect_ids(response, report: FuzzReport) -> None:
    if response.status_code >= 300:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict):
        if isinstance(body.get("job_id"), str):
            report.job_ids.add(body["job_id"])
        if isinstance(body.get("workflow_id"), str):
            report.workflow_ids.add(body["workflow_id"])
        if isinstance(body.get("schedule_id"), str):
            report.schedule_ids.add(body["schedule_id"])


def _describe(exc: Exception, response) -> str:
    text = str(exc).strip()
    for sub in getattr(exc, "exceptions", ()) or ():
        text += "\n    " + str(sub).strip()[:600]
    return f"{text[:1500]}\n    body: {response.text[:400]}"
