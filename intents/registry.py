"""The one intent registry.

Every intent is declared once, in its family module (`intents/memory.py`, ...), and listed here.
Routing, validation, `GET /intents`, the OpenAPI examples and the docs all read from this module.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from config.mcp_servers import McpServerConfig
from intents import routing
from intents.mcp import (
    INTENT_PREFIX,
    CatalogChange,
    McpCatalog,
    catalog_to_specs,
    generic_spec,
    parse_intent_name,
)
from intents.spec import IntentSpec

# Family modules; a new family is one line here.
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
            return generic_spec(name)
        raise


def all_intents() -> list[IntentSpec]:
    return [_INTENTS[n] for n in sorted(_INTENTS)]


def names() -> list[str]:
    return sorted(_INTENTS)


def known(name: str) -> bool:
    """Whether `name` is registered (a lookup, where `names()` sorts them all)."""
    return name in _INTENTS


def validate_inputs(spec: IntentSpec, inputs: dict[str, Any]) -> BaseModel:
    """Raises pydantic.ValidationError; the gateway turns it into a 422 naming the field."""
    return spec.input_model.model_validate(inputs)


def load_extra_modules(modules: Iterable[str]) -> None:
    """Import user modules that call `register(...)` (settings.extra_intent_modules)."""
    for mod in modules:
        importlib.import_module(mod)


def apply_catalog(catalog: McpCatalog, servers: Mapping[str, McpServerConfig] | None = None) -> CatalogChange:
    """Make the registry's `mcp.*` intents match a freshly read catalog.

    Tools of servers that listed are replaced by what they listed now (gone tools are unregistered);
    tools of a server that failed to list are kept (a blip must not make intents vanish; calling them
    fails with a clear error while it is down); servers no longer in the catalog lose their tools.
    """
    fresh = {spec.name: spec for spec in catalog_to_specs(catalog, servers)}
    failed = {entry.server for entry in catalog.servers if entry.error is not None}
    before = {name for name in names() if name.startswith(INTENT_PREFIX)}
    gone = sorted(name for name in before - set(fresh) if parse_intent_name(name)[0] not in failed)
    for name in gone:
        unregister(name)
    for spec in fresh.values():
        register(spec, replace=True)
    return CatalogChange(added=sorted(set(fresh) - before), removed=gone)


__all__ = [
    "IntentSpec",
    "apply_catalog",
    "UnknownIntentError",
    "ValidationError",
    "all_intents",
    "get",
    "load_extra_modules",
    "names",
    "register",
    "validate_inputs",
]
