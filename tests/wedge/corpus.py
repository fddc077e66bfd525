"""Inputs that once wedged a job (accepted, then a workflow task that failed forever) or stalled the
gateway, each with what must happen now: refused with a 4xx naming the field, or accepted and ended.

A case is (name, definition, expected): expected is ("refused", status, field), or ("ends", state, step
error type): the job ends in that state, its failed step with that error type (None: not checked).
Fields are as the create endpoint names them; through /orchestrate they carry an `inputs.` prefix.
"""

from __future__ import annotations

from typing import Any


def nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = {"n": value}
    return value


def defn(*steps: dict, parallel: bool = False) -> dict:
    return {"name": "wedge", "parallel": parallel, "steps": list(steps)}


def step(step_id: str, action: str, params: dict, **extra) -> dict:
    return {"stepId": step_id, "action": action, "params": params, **extra}


def chat(step_id: str, message: str, **extra) -> dict:
    return {"stepId": step_id, "gpt": "Wanderweave", "action": "message", "params": {"message": message}, **extra}


SEARCH = step("a", "memory.search", {"query": "anything", "k": 1})

CASES: list[tuple[str, dict, tuple]] = [
    # --- the findings of issue 10 ---
    ("memory.write without params", defn(step("w", "memory.write", {})), ("refused", 400, "steps[0].params.text")),
    (
        "memory.search with k 'lots'",
        defn(step("s", "memory.search", {"query": "q", "k": "lots"})),
        ("refused", 400, "steps[0].params.k"),
    ),
    (
        "a template that yields an object where text is expected",
        defn(SEARCH, step("w", "memory.write", {"text": "{{steps.a.output}}"})),
        ("ends", "failed", "ValidationError"),
    ),
    ("a step timeout of 1e-7 s", defn(chat("c", "hi", timeout=1e-7)), ("refused", 422, "steps.0.timeout")),
    (
        "params 40 levels deep",
        defn(chat("c", "hi") | {"params": {"message": "hi", "x": nested(40)}}),
        ("refused", 422, "steps.0.params"),
    ),
    (
        "params 200 levels deep",
        defn(chat("c", "hi") | {"params": {"message": "hi", "x": nested(200)}}),
        ("refused", 422, "body"),
    ),
    (
        "params 250 levels deep",
        defn(step("w", "memory.write", {"text": "t", "x": nested(250)})),
        ("refused", 422, "body"),
    ),
    (
        "params 600 levels deep",
        defn(step("w", "memory.write", {"text": "t", "x": nested(600)})),
        ("refused", 422, "body"),
    ),
    (
        "params 989 levels deep",
        defn(step("w", "memory.write", {"text": "t", "x": nested(989)})),
        ("refused", 422, "body"),
    ),
    ("a message of 49000 '{{'", defn(chat("c", "{{" * 49_000)), ("refused", 422, "steps.0.params")),
    (
        "a 93 KB message repeating {{steps.a.output}}",
        defn(chat("a", "hi"), chat("b", "{{steps.a.output}}" * 5_000)),
        ("refused", 422, "steps.1.params"),
    ),
    # --- more of the same class ---
    (
        "a template-repeating message under the params limit that renders past the step-input cap",
        defn(chat("a", "hi"), chat("b", "{{steps.a}}" * 5_500)),
        ("ends", "failed", "StepInputTooLarge"),
    ),
    (
        "a templated k that renders to text",
        defn(SEARCH, step("s", "memory.search", {"query": "q", "k": "{{steps.a.output}}"})),
        ("ends", "failed", "ValidationError"),
    ),
    (
        "a template naming a missing field of a real step",
        defn(SEARCH, step("w", "memory.write", {"text": "{{steps.a.output.nope}}"})),
        ("ends", "failed", "ValidationError"),
    ),
    (
        "an unknown param",
        defn(step("w", "memory.write", {"text": "t", "colour": "red"})),
        ("refused", 400, "steps[0].params.colour"),
    ),
    (
        "a retry whose maximum interval is below its initial one",
        defn(chat("c", "hi", retry={"max_attempts": 2, "initial_interval_s": 600, "max_interval_s": 1})),
        ("ends", "succeeded", None),
    ),
    (
        "a retry interval of 1e-9 s",
        defn(chat("c", "hi", retry={"initial_interval_s": 1e-9})),
        ("refused", 422, "steps.0.retry.initial_interval_s"),
    ),
    ("a step timeout of a year", defn(chat("c", "hi", timeout=31_536_000)), ("refused", 422, "steps.0.timeout")),
    ("a step timeout of 0.5 s", defn(chat("c", "hi", timeout=0.5)), ("refused", 422, "steps.0.timeout")),
    (
        "a 2000-character expression",
        defn(SEARCH, step("w", "memory.write", {"text": "{{" + "steps.a.output || " * 120 + "'x'}}"})),
        ("refused", 400, "steps[1].params.text"),
    ),
]

FLEET_CASES: list[tuple[str, dict, tuple]] = [
    ("a fleet timeout of 1e-7 s", {"objective": "go", "timeout_s": 1e-7}, ("refused", 422, "timeout_s")),
    ("a fleet timeout of 0.5 s", {"objective": "go", "timeout_s": 0.5}, ("refused", 422, "timeout_s")),
]
