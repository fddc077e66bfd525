"""The one intent registry.

Every intent is declared once, in its family module (`intents/memory.py`, ...), and listed here.
Routing, validation, `GET /intents`, the OpenAPI examples and the docs all read from this module.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from intents import approval, flows, memory, orchestration, routing, ssh
from intents.spec import IntentSpec

# Family modules; a new family is one line here.
_FAMILIES = [memory, flows, ssh, orchestration, approval]

_INTENTS: dict[str, IntentSpec] = {}


class UnknownIntentError(LookupError):
    def __init__(self, name: str, known: Iterable[str]):
        self.name = name
        self.known = sorted(known)
        self.suggestions = difflib.get_close_matches(name, self.known, n=3, cutoff=0.5)
        super().__init__(f"unknown intent {name!r}")


def register(spec: IntentSpec, *, replace: bool = False) -> IntentSpec:
    if spec.name in _INTENTS and not replace and _INTENTS[spec.name] is not spec:
        raise ValueError(f"intent {spec.name!r} is declared twice")
    conflict = routing.DEFAULT_TABLE.conflict(spec)
    if conflict:
        raise routing.RoutingConflict(conflict)
    _INTENTS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _INTENTS.pop(name, None)


def get(name: str) -> IntentSpec:
    try:
        return _INTENTS[name]
    except KeyError:
        raise UnknownIntentError(name, _INTENTS) from None


def for_workflow(name: str) -> IntentSpec:
    """The spec a workflow routes by. MCP tools are discovered at run time, so a worker that has not
    (yet) listed a server still routes `mcp.<server>.<tool>` deterministically by its name."""
    try:
        return get(name)
    except UnknownIntentError:
        if name.startswith("mcp."):
            from intents.mcp import generic_spec

            return generic_spec(name)
        raise


def all_intents() -> list[IntentSpec]:
    return [_INTENTS[n] for n in sorted(_INTENTS)]


def shipped_intents() -> list[IntentSpec]:
    """The intents declared in this repository's families (not extra modules, not MCP tools)."""
    return [spec for family in _FAMILIES for spec in family.INTENTS]


def names() -> list[str]:
    return sorted(_INTENTS)


def validate_inputs(spec: IntentSpec, inputs: dict[str, Any]) -> BaseModel:
    """Raises pydantic.ValidationError; the gateway turns it into a 422 naming the field."""
    return spec.input_model.model_validate(inputs)


def load_extra_modules(modules: Iterable[str]) -> None:
    """Import user modules that call `register(...)` (settings.extra_intent_modules)."""
    for mod in modules:
        importlib.import_module(mod)


for _family in _FAMILIES:
    for _spec in _family.INTENTS:
        register(_spec)

__all__ = [
    "IntentSpec",
    "UnknownIntentError",
    "ValidationError",
    "all_intents",
    "get",
    "load_extra_modules",
    "names",
    "register",
    "validate_inputs",
]
