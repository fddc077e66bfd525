"""The agent roster: the seed's agents ship, names resolve loosely, mistakes get helpful 400s."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from config.agents import SHIPPED_AGENTS_FILE, Agent, AgentConfigError, AgentRegistry, resolve_endpoint
from config.errors import NotConfigured
from intents.errors import ErrorType
from intents.spec import rejected_lookup
from tests.agents.conftest import llm_settings

SEED_FLEETS = {
    "Creative": ["Wanderweave", "Design Studio Pro", "ShowBuilder GPT"],
    "Security": ["Aegis Sentinel", "Sentinel Audit Nexus", "Shield Core"],
}


def test_the_seed_agents_ship_in_their_fleets(agents):
    fleets = {f["category"]: f["agents"] for f in agents.list_fleets()}
    for category, names in SEED_FLEETS.items():
        assert fleets[category] == names
    assert len(fleets) >= 3, "a few more categories beyond the seed's two"
    json.dumps(agents.list_agents(llm_settings()))  # JSON-able as GET /api/gpt-agents returns it


def test_names_and_categories_resolve_ignoring_case_and_spacing(agents):
    assert agents.get("design studio pro").name == "Design Studio Pro"
    assert agents.get("  SHOWBUILDER   gpt ").name == "ShowBuilder GPT"
    assert [a.name for a in agents.fleet("security")] == SEED_FLEETS["Security"]


def test_a_typo_in_an_agent_name_is_rejected_with_a_suggestion(agents):
    with pytest.raises(NotConfigured) as caught:
        agents.get("Wanderweve", field="steps[0].gpt")
    err = rejected_lookup(caught.value)
    assert err.error_type == ErrorType.UNKNOWN_AGENT
    assert err.field == "steps[0].gpt"
    assert "did you mean 'Wanderweave'" in str(err) and "Wanderweve'" not in str(err)  # suggested, not echoed
    assert err.details == {"suggestions": ["Wanderweave"]}


def test_an_unknown_category_names_the_close_ones_but_not_itself(agents):
    with pytest.raises(NotConfigured) as caught:
        agents.fleet("creatve")
    assert caught.value.field == "category"
    assert "unknown category; did you mean 'Creative'?" == str(caught.value)


def test_a_name_nothing_like_any_agent_lists_the_known_ones(agents):
    with pytest.raises(NotConfigured, match="known agents: Wanderweave, Design Studio Pro"):
        agents.get("zzz")


def test_listings_show_effective_provider_and_model(agents):
    offline = {a["name"]: a for a in agents.list_agents(llm_settings())}
    assert offline["Shield Core"]["provider"] == "offline"
    online = {a["name"]: a for a in agents.list_agents(llm_settings(llm_base_url="http://127.0.0.1:9/v1"))}
    assert online["Shield Core"] | {"description": ""} == {
        "name": "Shield Core",
        "category": "Security",
        "description": "",
        "model": "test-model",
        "provider": "openai",
    }
    assert "system_prompt" not in online["Shield Core"]


def test_a_file_naming_one_agent_twice_does_not_load(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        "  - {name: Scout, category: Research, system_prompt: a}\n"
        "  - {name: scout, category: Ops, system_prompt: b}\n"
    )
    with pytest.raises(AgentConfigError, match=r"agent name 'scout' is used twice \(also 'Scout'"):
        AgentRegistry.load(path)


def test_a_bad_entry_is_reported_with_its_position_and_field(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {name: Scout, category: Research, system_prompt: a, provider: anthropic}\n")
    with pytest.raises(AgentConfigError, match=r"agents\[0\] \(Scout\): provider"):
        AgentRegistry.load(path)
    path.write_text("agents: [\n")
    with pytest.raises(AgentConfigError, match="not valid YAML"):
        AgentRegistry.load(path)
    with pytest.raises(AgentConfigError, match="set AGENTS_FILE"):
        AgentRegistry.load(tmp_path / "missing.yaml")


def test_agents_file_setting_points_at_another_roster(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("agents:\n  - {name: Solo, category: Lab, system_prompt: hi}\n")
    assert AgentRegistry.from_settings(llm_settings(agents_file=path)).names() == ["Solo"]
    assert AgentRegistry.from_settings(llm_settings()).source == str(SHIPPED_AGENTS_FILE)


def _agent(**fields) -> Agent:
    return Agent(name="A", category="C", system_prompt="p", **fields)


def test_offline_is_the_default_until_a_base_url_is_set():
    assert resolve_endpoint(_agent(), llm_settings()).provider == "offline"
    endpoint = resolve_endpoint(_agent(), llm_settings(llm_base_url="http://llm.test/v1/", llm_api_key="k"))
    assert (endpoint.provider, endpoint.base_url, endpoint.model) == ("openai", "http://llm.test/v1", "test-model")
    assert endpoint.api_key.get_secret_value() == "k"
    assert "k" not in repr(endpoint) and "api_key" not in endpoint.model_dump()


def test_agent_overrides_win_and_the_global_key_stays_with_the_global_url(monkeypatch):
    settings = llm_settings(llm_base_url="http://llm.test/v1", llm_api_key=SecretStr("global"))
    local = resolve_endpoint(_agent(base_url="http://127.0.0.1:11434/v1", model="llama3"), settings)
    assert (local.base_url, local.model, local.api_key) == ("http://127.0.0.1:11434/v1", "llama3", None)
    monkeypatch.setenv("LOCAL_LLM_KEY", "per-agent")
    keyed = resolve_endpoint(_agent(base_url="http://other.test/v1", api_key_env="LOCAL_LLM_KEY"), settings)
    assert keyed.api_key.get_secret_value() == "per-agent"
    assert resolve_endpoint(_agent(provider="offline"), settings).provider == "offline"


def test_an_openai_agent_without_any_url_is_a_config_error(monkeypatch):
    with pytest.raises(AgentConfigError, match="agent 'A' uses provider 'openai' but no base_url"):
        resolve_endpoint(_agent(provider="openai"), llm_settings())
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    with pytest.raises(AgentConfigError, match="NOT_SET_KEY is not set"):
        resolve_endpoint(_agent(base_url="http://x.test", api_key_env="NOT_SET_KEY"), llm_settings())
