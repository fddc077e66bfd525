"""The GPT agent registry: named agents (one fleet per category) loaded from a YAML file.

Names and categories resolve case-insensitively; an unknown one is a `config.errors.NotConfigured` naming it and
suggesting close matches, so the gateway can answer 400 before anything starts.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.errors import NotConfigured

if TYPE_CHECKING:
    from pydantic import SecretStr

    from config.settings import Settings

SHIPPED_AGENTS_FILE = Path(__file__).with_name("agents.yaml")

Provider = Literal["openai", "offline"]


class AgentConfigError(ValueError):
    """The agents file cannot be used (missing, malformed, duplicate names, no endpoint)."""


class Agent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, description="Unique, case-insensitively.")
    category: str = Field(min_length=1, max_length=80, description="The fleet the agent belongs to.")
    description: str = Field(default="", max_length=1000)
    system_prompt: str = Field(min_length=1, max_length=20_000)
    model: str | None = Field(default=None, max_length=200, description="Overrides LLM_MODEL.")
    provider: Provider | None = Field(default=None, description="Overrides LLM_PROVIDER.")
    base_url: str | None = Field(default=None, max_length=500, description="Overrides LLM_BASE_URL.")
    # A key for a base_url of its own is read from this environment variable, so no secret sits in
    # the file and the global key is never sent to another host.
    api_key_env: str | None = Field(default=None, max_length=200)

    @field_validator("name", "category")
    @classmethod
    def _tidy(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return v.rstrip("/") if v else v

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "model": self.model,
            "provider": self.provider,
        }


class Endpoint(BaseModel):
    """Where one agent's chat goes, after the agent's overrides are laid over the settings."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    model: str
    base_url: str | None = None
    api_key: Any = Field(default=None, repr=False, exclude=True)  # SecretStr | None; never serialised


def resolve_endpoint(agent: Agent, settings: Settings) -> Endpoint:
    """Effective provider, model, URL and key of an agent. Raises AgentConfigError if unusable."""
    # An agent's own base_url implies it talks to that API; otherwise the global choice applies.
    provider = (
        agent.provider
        or ("openai" if agent.base_url else None)
        or settings.llm_provider
        or ("openai" if settings.llm_base_url else "offline")
    )
    model = agent.model or settings.llm_model
    if provider == "offline":
        return Endpoint(provider="offline", model=agent.model or "offline")
    base_url = (agent.base_url or settings.llm_base_url or "").rstrip("/")
    if not base_url:
        raise AgentConfigError(
            f"agent {agent.name!r} uses provider 'openai' but no base_url is set (agent base_url or LLM_BASE_URL)"
        )
    return Endpoint(provider="openai", model=model, base_url=base_url, api_key=_api_key(agent, base_url, settings))


def _api_key(agent: Agent, base_url: str, settings: Settings) -> SecretStr | None:
    from pydantic import SecretStr

    if agent.api_key_env:
        value = os.environ.get(agent.api_key_env)
        if not value:
            raise AgentConfigError(f"agent {agent.name!r}: environment variable {agent.api_key_env} is not set")
        return SecretStr(value)
    if settings.llm_base_url and base_url == settings.llm_base_url.rstrip("/"):
        return settings.llm_api_key
    return None


def agent_api_keys(settings: Settings, registry: AgentRegistry | None = None) -> list[str]:
    """The per-agent API keys (`api_key_env`) that are set: secrets the redaction must know about.

    Never raises: an unusable agents file is reported where it is used (the worker refuses to start).
    """
    try:
        agents = registry if registry is not None else AgentRegistry.from_settings(settings)
    except AgentConfigError:
        return []
    return [key for agent in agents if agent.api_key_env and (key := os.environ.get(agent.api_key_env))]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _suggest(wanted: str, known: Iterable[str]) -> list[str]:
    by_key = {_key(k): k for k in known}
    wanted_key = _key(wanted)
    partial = [v for k, v in by_key.items() if wanted_key and (wanted_key in k or k in wanted_key)]
    close = difflib.get_close_matches(wanted_key, list(by_key), n=3, cutoff=0.5)
    ordered = partial + [by_key[k] for k in close]
    return list(dict.fromkeys(ordered))[:3]


def _unknown(kind: str, wanted: str, known: list[str], field: str) -> NotConfigured:
    suggestions = _suggest(wanted, known)
    if suggestions:
        hint = "did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
    else:
        hint = f"known {kind}s: " + ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    # The name sent is not repeated: nothing a client sends is echoed.
    return NotConfigured(kind, wanted, f"unknown {kind}; {hint}", field=field, known=known, suggestions=suggestions)


class AgentRegistry:
    """All agents, in file order; lookups ignore case and extra whitespace."""

    def __init__(self, agents: Iterable[Agent], *, source: str = "<memory>"):
        self.source = source
        self._agents: dict[str, Agent] = {}
        self._fleets: dict[str, list[Agent]] = {}
        for agent in agents:
            key = _key(agent.name)
            if key in self._agents:
                raise AgentConfigError(
                    f"{source}: agent name {agent.name!r} is used twice "
                    f"(also {self._agents[key].name!r}; names are case-insensitive)"
                )
            self._agents[key] = agent
            self._fleets.setdefault(_key(agent.category), []).append(agent)
        if not self._agents:
            raise AgentConfigError(f"{source}: no agents defined")

    @classmethod
    def load(cls, path: Path) -> AgentRegistry:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AgentConfigError(f"agents file {path} not found (set AGENTS_FILE)") from None
        except yaml.YAMLError as exc:
            raise AgentConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("agents"), list):
            raise AgentConfigError(f"{path}: expected a top-level 'agents:' list")
        agents = []
        for i, item in enumerate(raw["agents"]):
            try:
                agents.append(Agent.model_validate(item))
            except ValidationError as exc:
                name = item.get("name") if isinstance(item, dict) else None
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
                )
                raise AgentConfigError(f"{path}: agents[{i}] ({name or 'unnamed'}): {problems}") from None
        return cls(agents, source=str(path))

    @classmethod
    def from_settings(cls, settings: Settings) -> AgentRegistry:
        return cls.load(settings.agents_file or SHIPPED_AGENTS_FILE)

    def get(self, name: str, *, field: str = "agent") -> Agent:
        try:
            return self._agents[_key(name)]
        except KeyError:
            raise _unknown("agent", name, self.names(), field) from None

    def fleet(self, category: str, *, field: str = "category") -> list[Agent]:
        try:
            return list(self._fleets[_key(category)])
        except KeyError:
            raise _unknown("category", category, self.categories(), field) from None

    def names(self) -> list[str]:
        return [a.name for a in self._agents.values()]

    def categories(self) -> list[str]:
        return [members[0].category for members in self._fleets.values()]

    def __iter__(self):
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    def list_agents(self, settings: Settings | None = None) -> list[dict[str, Any]]:
        """For GET /api/gpt-agents. With settings, provider/model are the effective ones."""
        out = []
        for agent in self._agents.values():
            summary = agent.summary()
            if settings is not None:
                try:
                    endpoint = resolve_endpoint(agent, settings)
                    summary.update(provider=endpoint.provider, model=endpoint.model)
                except AgentConfigError:
                    pass  # shown with its configured values; the worker refuses to start on it
            out.append(summary)
        return out

    def list_fleets(self) -> list[dict[str, Any]]:
        """For GET /api/gpt-fleets: one entry per category, agents in file order."""
        return [
            {"category": members[0].category, "size": len(members), "agents": [a.name for a in members]}
            for members in self._fleets.values()
        ]
