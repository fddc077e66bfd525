"""Auto routing: which engine (mode) runs an intent, by name pattern.

The shipped table is the source of each family's mode: `memory.*`, `ssh.*`, `approval.*` -> agent (local tools),
`gmail.*`, `slack.*`, `digest.*`, `calendar.*`, `notes.*`, `tasks.*`, `code.*` -> flow (n8n), `mcp.*` -> mcp. The registry refuses a spec whose
declared mode contradicts its route, so `mode: "auto"` always resolves to the engine that has the
intent's handler, and an explicit mode that differs is a 400 that says why.

Overrides (`settings.intent_routes`, JSON `{"pattern": "mode"}`) come before the shipped routes.
Every intent has exactly one handler, so an override cannot move an intent to an engine it has no
handler for: it may name the engine of families the code does not route (intents added by
EXTRA_INTENT_MODULES, e.g. `{"crm.*": "mcp"}`), or restate a shipped one. An override that
contradicts a registered intent's mode is a start-up error naming the intent (`check_intents`).
Routing happens in the gateway, before the job starts; the resolved mode is in the workflow's
input (history) and its `Mode` search attribute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from intents.spec import IntentSpec, Mode

# A glob over intent names: letters, digits, `_`, `-`, dots and `*`.
PATTERN = re.compile(r"^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*$")


@dataclass(frozen=True)
class Route:
    pattern: str
    mode: Mode
    source: str = "default"  # "default" (shipped) or "override" (settings.intent_routes)

    def matches(self, intent: str) -> bool:
        return fnmatchcase(intent, self.pattern)

    def public(self) -> dict[str, str]:
        return {"pattern": self.pattern, "mode": str(self.mode), "source": self.source}


# One line per family; a new family adds its line here (a test checks every shipped intent has one).
DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("memory.*", Mode.WORKER),
    Route("ssh.*", Mode.WORKER),
    Route("gpt.*", Mode.WORKER),
    Route("fleet.*", Mode.WORKER),
    Route("approval.*", Mode.WORKER),
    Route("gmail.*", Mode.FLOW),
    Route("slack.*", Mode.FLOW),
    Route("digest.*", Mode.FLOW),
    Route("calendar.*", Mode.FLOW),
    Route("notes.*", Mode.FLOW),
    Route("tasks.*", Mode.FLOW),
    Route("code.*", Mode.FLOW),
    Route("mcp.*", Mode.MCP),
)


class RoutingConflict(ValueError):
    """A route and an intent's declared mode disagree (raised at registration or start-up)."""


def check_pattern(pattern: str) -> str:
    if not PATTERN.match(pattern):
        raise RoutingConflict(
            f"route pattern {pattern!r} must be an intent-name glob such as 'crm.*' or 'gmail.search'"
        )
    return pattern


class RoutingTable:
    """Routes in precedence order: overrides first, then the shipped table; the first match wins."""

    def __init__(self, routes: Iterable[Route]):
        self.routes = tuple(routes)

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str] | None) -> RoutingTable:
        extra = [Route(check_pattern(p), Mode(m), "override") for p, m in (overrides or {}).items()]
        return cls([*extra, *DEFAULT_ROUTES])

    def route_for(self, intent: str) -> Route | None:
        return next((r for r in self.routes if r.matches(intent)), None)

    def conflict(self, spec: IntentSpec) -> str | None:
        """Why this spec cannot be routed by this table, or None."""
        route = self.route_for(spec.name)
        if route is None or route.mode == spec.mode:
            return None
        return (
            f"intent {spec.name!r} declares {spec.mode} mode but the {route.source} route "
            f"{route.pattern!r} sends it to {route.mode}; it has no {route.mode} handler"
        )

    def check_intents(self, specs: Iterable[IntentSpec]) -> None:
        problems = [why for why in map(self.conflict, specs) if why]
        if problems:
            raise RoutingConflict("INTENT_ROUTES contradicts registered intents: " + "; ".join(problems))

    def explain(self, spec: IntentSpec) -> str:
        """Why `spec` runs where it runs, for error messages."""
        route = self.route_for(spec.name)
        via = f" (route {route.pattern!r} -> {route.mode})" if route else ""
        return f"intent {spec.name!r} runs in {spec.mode} mode{via}"


DEFAULT_TABLE = RoutingTable(DEFAULT_ROUTES)
