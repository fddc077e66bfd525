"""`gpt-orchestrator check-config` (and the first thing `make dev` does): every configuration mistake,
named by its setting, file and field, before anything starts. No tracebacks: one line per problem.

Problems stop start-up; notes (a key file missing here may exist on the worker's machine) do not.
"""

from __future__ import annotations

import importlib
import shutil
import stat
from dataclasses import dataclass, field

from pydantic import ValidationError

from activities.embeddings import embedder_problem
from config.agents import AgentConfigError, AgentRegistry, resolve_endpoint
from config.api_keys import KeyFileError, load_keys
from config.hosts import InventoryError, inventory_path, load_inventory
from config.prices import PricesError, load_prices
from config.settings import Settings
from intents import registry
from intents.routing import RoutingConflict, RoutingTable
from intents.schedules import check_cron, check_timezone


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [f"error: {p}" for p in self.problems] + [f"note: {n}" for n in self.notes]
        verdict = (
            "configuration OK" if self.ok else f"{len(self.problems)} configuration problem(s); nothing was started"
        )
        return "\n".join([*lines, f"check-config: {verdict}"])


def settings_problems(exc: ValidationError) -> list[str]:
    """pydantic-settings' errors as `ENV_NAME: field: reason`, without the submitted values (secrets)."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = loc[0].upper() if loc else "settings"
        rest = ".".join(loc[1:])
        out.append(f"{name}: {rest + ': ' if rest else ''}{err.get('msg', 'invalid')}")
    return out


def check_settings(settings: Settings) -> Report:
    report = Report()
    _check_api_keys(settings, report)
    _check_inventory(settings, report)
    _check_agents(settings, report)
    _check_prices(settings, report)
    _check_mcp_servers(settings, report)
    _check_intents(settings, report)
    if (problem := embedder_problem(settings)) is not None:
        report.problems.append(problem)
    _check_digest_schedule(settings, report)
    return report


def _check_digest_schedule(settings: Settings, report: Report) -> None:
    """The opt-in digest schedule's cron and time zone, read as POST /schedules reads them."""
    try:
        check_timezone(settings.digest_schedule_timezone)
    except ValueError as exc:
        report.problems.append(f"DIGEST_SCHEDULE_TIMEZONE: {exc}")
    if settings.digest_schedule_cron:
        try:
            check_cron(settings.digest_schedule_cron)
        except ValueError as exc:
            report.problems.append(f"DIGEST_SCHEDULE_CRON: {exc}")


def _check_api_keys(settings: Settings, report: Report) -> None:
    secrets = {
        "API_KEY": settings.api_key,
        "METRICS_TOKEN": settings.metrics_token,
        "CALLBACK_SECRET": settings.callback_secret,
    }
    secrets |= {"LLM_API_KEY": settings.llm_api_key, "EMBEDDINGS_API_KEY": settings.embeddings_api_key}
    for name, value in secrets.items():
        if value is not None and not value.get_secret_value().strip():
            report.problems.append(f"{name}: is set but blank (unset it, or give it a value)")
    try:
        store = load_keys(settings.api_keys_path)
    except KeyFileError as exc:
        report.problems.append(str(exc))
        return
    where = f"API_KEYS_FILE ({settings.api_keys_path})"
    if store.keys and (mode := settings.api_keys_path.stat().st_mode) & (stat.S_IRWXG | stat.S_IRWXO):
        report.notes.append(
            f"{where}: readable by others (mode {stat.S_IMODE(mode):o}); it holds hashes only, but 600 is expected"
        )
    for key in store.keys:
        if key.expires is not None and key.expired():
            report.notes.append(
                f"{where}: key {key.name!r}: expires: {key.expires.isoformat()} has passed; the key no longer works"
            )
    if settings.api_key is None and not store.keys:
        report.notes.append(
            "API_KEY: unset and no named keys; `make dev` generates one, `gpt-orchestrator gateway` answers 503 until one is set"
        )
    elif settings.api_key is not None and store.keys:
        report.notes.append(
            "API_KEY: the bootstrap admin key is set next to named keys; give clients named keys only "
            "(API_KEY is an admin of every tenant), or unset it"
        )


def _check_inventory(settings: Settings, report: Report) -> None:
    try:
        inventory = load_inventory(settings)
    except InventoryError as exc:
        report.problems.append(str(exc))
        return
    path = inventory_path(settings)
    for host in inventory:
        for what in ("key_file", "known_hosts_file"):
            file = getattr(host, what)
            if not file.exists():
                report.notes.append(
                    f"SSH_HOSTS_FILE ({path}): host {host.name!r}: {what}: {file} does not exist on this machine"
                )


def _check_agents(settings: Settings, report: Report) -> None:
    try:
        registry = AgentRegistry.from_settings(settings)
    except AgentConfigError as exc:
        report.problems.append(f"AGENTS_FILE: {exc}")
        return
    for agent in registry:
        try:
            resolve_endpoint(agent, settings)
        except AgentConfigError as exc:
            report.problems.append(f"AGENTS_FILE: {exc}")


def _check_prices(settings: Settings, report: Report) -> None:
    try:
        prices = load_prices(settings)
    except PricesError as exc:
        report.problems.append(str(exc))
        return
    try:
        agents = list(AgentRegistry.from_settings(settings))
    except AgentConfigError:
        return  # reported by _check_agents
    for agent in agents:
        try:
            model = resolve_endpoint(agent, settings).model
        except AgentConfigError:
            continue
        if model != "offline" and not prices.priced(model):
            report.notes.append(
                f"PRICES_FILE: model {model!r} (agent {agent.name!r}) has no price; its calls cost the file's default"
            )


def _check_mcp_servers(settings: Settings, report: Report) -> None:
    for name, server in settings.mcp_servers.items():
        if server.command is not None and shutil.which(server.command[0]) is None:
            report.problems.append(f"MCP_SERVERS: server {name!r}: command: {server.command[0]!r} is not on PATH")


def _check_intents(settings: Settings, report: Report) -> None:
    """EXTRA_INTENT_MODULES import, and INTENT_ROUTES agrees with every registered intent (what the
    gateway checks when it starts)."""
    for module in settings.extra_intent_modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any import failure is this setting's problem
            report.problems.append(f"EXTRA_INTENT_MODULES: {module!r} does not import: {type(exc).__name__}: {exc}")
    try:
        RoutingTable.with_overrides(settings.intent_routes).check_intents(registry.all_intents())
    except (RoutingConflict, ValueError) as exc:
        report.problems.append(f"INTENT_ROUTES: {exc}")
