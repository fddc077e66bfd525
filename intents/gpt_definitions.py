"""GPT workflow definitions: the request model and its create-time validation (pure).

What a client sends to `/api/gpt-workflows/create` or the `gpt.workflow` intent: steps, their
dependencies, conditions and templates, checked before anything starts (duplicate ids, unknown
`waitFor` targets, cycles, unknown agents or intents, bad expressions, params that fail their
intent's model). `workflows/dag.py` runs a definition that passed; agent and intent existence
checks are injected as callables, so this module reads no configuration itself.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from intents.errors import ErrorType
from intents.expressions import ExpressionError, referenced_steps, templates_in
from intents.limits import MAX_VALUE_BYTES, MAX_VALUE_DEPTH, check_value
from intents.remember import RECALL_SELF
from intents.spec import RequestRejected, RetrySpec

# Chat actions (a turn with `gpt`); any other action names a registered intent.
CHAT_ACTIONS = ("message", "query")
# The param that carries the text of each chat action.
CHAT_TEXT_PARAM = {"message": "message", "query": "query"}
# A `query` step's memory filter (intents/remember.py).
RECALL_PARAMS = ("tags", "recall_from")
RECALL_ID_PATTERN = r"(gptwf|fleet|orch)-[A-Za-z0-9]{8,64}(\.run)?"
MAX_STEPS = 200
# error_type of a step whose condition or template failed to evaluate at run time.
EXPRESSION_ERROR = "ExpressionError"
STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
# A step's time limit, in seconds: at least 1 (a smaller one rounds to a zero timeout, which Temporal
# treats as "unset"/invalid), at most a day.
MIN_STEP_TIMEOUT_S = 1
MAX_STEP_TIMEOUT_S = 86_400


def _alias(camel: str, snake: str) -> dict[str, Any]:
    """JSON keeps the seed's camelCase; snake_case is accepted too."""
    return {"validation_alias": AliasChoices(camel, snake), "serialization_alias": camel}


class GptStep(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    step_id: str = Field(
        pattern=STEP_ID_PATTERN, description="Unique within the workflow.", **_alias("stepId", "step_id")
    )
    gpt: str | None = Field(default=None, max_length=80, description="Agent name, for message/query steps.")
    action: str = Field(
        min_length=1, max_length=100, description="`message`, `query` (chat with memory hits) or an intent name."
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Action inputs; string values may hold `{{steps.<id>.output}}` templates. "
        f"At most {MAX_VALUE_DEPTH} levels deep and {MAX_VALUE_BYTES} bytes of JSON.",
    )
    wait_for: list[str] = Field(
        default_factory=list,
        max_length=MAX_STEPS,
        description="Steps that must finish first.",
        **_alias("waitFor", "wait_for"),
    )
    condition: str | None = Field(
        default=None,
        max_length=2000,
        description="JMESPath over earlier results, e.g. `steps.scan.output.findings > 0`.",
    )
    timeout: float | None = Field(
        default=None,
        ge=MIN_STEP_TIMEOUT_S,
        le=MAX_STEP_TIMEOUT_S,
        description="Seconds; the activity's start-to-close.",
    )
    retry: RetrySpec | None = Field(default=None, description="Retry policy of the step's activity.")
    run_if_skipped: bool = Field(
        default=False, description="Run even if a waitFor step was skipped.", **_alias("runIfSkipped", "run_if_skipped")
    )
    remember: bool | None = Field(default=None, description="Store its output as a memory; unset = the workflow's.")

    @field_validator("params")
    @classmethod
    def _bounded(cls, params: dict[str, Any]) -> dict[str, Any]:
        return check_value(params)


class GptWorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    parallel: bool = Field(default=False, description="true: a DAG, each step starts when its waitFor are done.")
    fail_fast: bool = Field(
        default=True,
        description="true: the first failure cancels running steps and the rest do not run.",
        validation_alias=AliasChoices("fail_fast", "failFast"),
    )
    remember: bool = Field(default=False, description="Store each succeeded step's output as a memory.")
    steps: list[GptStep] = Field(min_length=1, max_length=MAX_STEPS)


class DefinitionError(RequestRejected):
    """A definition that cannot run; `field` points into the JSON, e.g. `steps[2].waitFor[0]`."""

    def __init__(
        self, field: str, message: str, *, error_type: str = ErrorType.INVALID_DEFINITION, details: Any = None
    ):
        super().__init__(error_type, message, field=field, details=details)


# --- validation --------------------------------------------------------------------------

AgentCheck = Callable[[str], object]
IntentCheck = Callable[[str], object]


def validate_definition(
    defn: GptWorkflowDefinition,
    *,
    check_agent: AgentCheck | None = None,
    check_intent: IntentCheck | None = None,
) -> list[str]:
    """Raise DefinitionError for the first problem found; return the run order (step ids).

    `check_agent(name)` / `check_intent(action)` raise (RequestRejected, LookupError or ValueError)
    for an unknown name; their message is kept and pinned to the step's field.
    """
    order = topological_order(defn)
    position = {step_id: i for i, step_id in enumerate(order)}
    upstream = _ancestors(defn)
    for i, step in enumerate(defn.steps):
        where = f"steps[{i}]"
        _check_action(step, where, check_agent, check_intent)
        expressions: list[tuple[str, str]] = []
        if step.condition is not None:
            expressions.append((f"{where}.condition", step.condition))
        expressions += [(f"{where}.{path}", expr) for path, expr in templates_in(step.params)]
        for field, expr in expressions:
            what = "condition" if field.endswith(".condition") else "template"
            try:
                refs = referenced_steps(expr)
            except ExpressionError as exc:
                raise DefinitionError(field, f"step {step.step_id!r}: bad {what}: {exc}") from None
            for ref in refs:
                _check_reference(defn, step, ref, field, what, upstream, position)
    return order


def _check_action(step: GptStep, where: str, check_agent: AgentCheck | None, check_intent: IntentCheck | None) -> None:
    sid = step.step_id
    if step.action in CHAT_ACTIONS:
        if not step.gpt:
            raise DefinitionError(f"{where}.gpt", f"step {sid!r}: action {step.action!r} needs 'gpt' (an agent name)")
        if check_agent is not None:
            _run_check(check_agent, step.gpt, f"{where}.gpt", sid, ErrorType.UNKNOWN_AGENT)
        key = CHAT_TEXT_PARAM[step.action]
        text = step.params.get(key)
        if not isinstance(text, str) or not text.strip():
            raise DefinitionError(
                f"{where}.params.{key}", f"step {sid!r}: action {step.action!r} needs a non-empty params.{key}"
            )
        _check_recall(step, where)
        return
    if step.gpt is not None:
        raise DefinitionError(
            f"{where}.gpt", f"step {sid!r}: 'gpt' is only used by message/query steps, not by intent {step.action!r}"
        )
    if check_intent is not None:
        _run_check(check_intent, step.action, f"{where}.action", sid, ErrorType.UNKNOWN_INTENT)


def _check_recall(step: GptStep, where: str) -> None:
    """A `query` step's memory filter: `tags` (any of them) and/or `recall_from` (a workflow's or fleet's)."""
    sid = step.step_id
    if step.action != "query":
        for key in RECALL_PARAMS:
            if key in step.params:
                raise DefinitionError(
                    f"{where}.params.{key}", f"step {sid!r}: params.{key} filters memories; only 'query' steps recall"
                )
        return
    tags = step.params.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not 1 <= len(tags) <= 32
        or not all(isinstance(t, str) and t.strip() and len(t) <= 128 for t in tags)
    ):  # fmt: skip
        raise DefinitionError(
            f"{where}.params.tags",
            f"step {sid!r}: params.tags must be 1 to 32 non-blank tags of at most 128 characters",
        )
    recall_from = step.params.get("recall_from")
    if recall_from is not None and not (
        isinstance(recall_from, str) and (recall_from == RECALL_SELF or re.fullmatch(RECALL_ID_PATTERN, recall_from))
    ):
        raise DefinitionError(
            f"{where}.params.recall_from",
            f"step {sid!r}: params.recall_from must be 'self', a GPT workflow id (gptwf-…), a fleet run id (fleet-…) or a job id (orch-…)",
        )


def _run_check(check: Callable[[str], object], name: str, field: str, step_id: str, default_type: str) -> None:
    try:
        check(name)
    except RequestRejected as exc:
        raise DefinitionError(
            field, f"step {step_id!r}: {exc}", error_type=exc.error_type, details=exc.details
        ) from None
    except (LookupError, ValueError) as exc:
        suggestions = list(getattr(exc, "suggestions", []) or [])
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        kind = "action" if default_type == ErrorType.UNKNOWN_INTENT else "agent"
        raise DefinitionError(
            field,
            f"step {step_id!r}: unknown {kind}"
            + (" (not 'message', 'query' or a registered intent)" if kind == "action" else "")
            + hint,
            error_type=default_type,
            details={"suggestions": suggestions},
        ) from None


def _check_reference(
    defn: GptWorkflowDefinition,
    step: GptStep,
    ref: str,
    field: str,
    what: str,
    upstream: dict[str, list[str]],
    position: dict[str, int],
) -> None:
    sid = step.step_id
    if ref not in position:
        raise DefinitionError(
            field, f"step {sid!r}: {what} refers to unknown step {ref!r}{_did_you_mean(ref, position)}"
        )
    if ref == sid:
        raise DefinitionError(field, f"step {sid!r}: {what} refers to the step itself")
    if defn.parallel and ref not in upstream[sid]:
        raise DefinitionError(
            field, f"step {sid!r}: {what} reads step {ref!r} but does not wait for it; add {ref!r} to its waitFor"
        )
    if not defn.parallel and position[ref] > position[sid]:
        raise DefinitionError(field, f"step {sid!r}: {what} reads step {ref!r}, which runs after it")


def _did_you_mean(name: str, known: dict[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def topological_order(defn: GptWorkflowDefinition) -> list[str]:
    """Step ids so each comes after its waitFor; ties keep file order. Raises DefinitionError."""
    deps = _dependencies(defn)
    placed: dict[str, None] = {}
    remaining = [s.step_id for s in defn.steps]
    while remaining:
        ready = next((sid for sid in remaining if all(d in placed for d in deps[sid])), None)
        if ready is None:
            cycle = _find_cycle(remaining, deps)
            index = next(i for i, s in enumerate(defn.steps) if s.step_id == cycle[0])
            raise DefinitionError(
                f"steps[{index}].waitFor",
                "waitFor cycle: " + " -> ".join(cycle) + " (each step waits for the next)",
                details={"cycle": cycle},
            )
        placed[ready] = None
        remaining.remove(ready)
    return list(placed)


def _dependencies(defn: GptWorkflowDefinition) -> dict[str, list[str]]:
    """waitFor lists, checked: unique ids, known targets, no self-waits."""
    seen: dict[str, int] = {}
    for i, step in enumerate(defn.steps):
        if step.step_id in seen:
            raise DefinitionError(
                f"steps[{i}].stepId",
                f"duplicate stepId {step.step_id!r} (steps[{seen[step.step_id]}] and steps[{i}])",
            )
        seen[step.step_id] = i
    deps: dict[str, list[str]] = {}
    for i, step in enumerate(defn.steps):
        for j, target in enumerate(step.wait_for):
            field = f"steps[{i}].waitFor[{j}]"
            if target == step.step_id:
                raise DefinitionError(field, f"step {step.step_id!r} waits for itself")
            if target not in seen:
                raise DefinitionError(
                    field, f"step {step.step_id!r} waits for unknown step {target!r}{_did_you_mean(target, seen)}"
                )
        deps[step.step_id] = list(dict.fromkeys(step.wait_for))
    return deps


def _find_cycle(candidates: list[str], deps: dict[str, list[str]]) -> list[str]:
    """A cycle among steps that could not be ordered, as [a, b, ..., a]."""
    pending = dict.fromkeys(candidates)
    path: list[str] = []
    node = candidates[0]
    # Every unplaceable step waits for another unplaceable one, so walking always closes a loop.
    while node not in path:
        path.append(node)
        node = next(d for d in deps[node] if d in pending)
    return path[path.index(node) :] + [node]


def _ancestors(defn: GptWorkflowDefinition) -> dict[str, list[str]]:
    deps = {s.step_id: list(s.wait_for) for s in defn.steps}
    out: dict[str, list[str]] = {}
    for sid in topological_order(defn):
        acc: dict[str, None] = {}
        for d in deps[sid]:
            acc[d] = None
            acc.update(dict.fromkeys(out[d]))
        out[sid] = list(acc)
    return out


def chat_text(action: str, params: dict[str, Any]) -> str:
    """The text a message/query step sends, from its rendered params (non-text values as JSON)."""
    value = params.get(CHAT_TEXT_PARAM[action])
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
