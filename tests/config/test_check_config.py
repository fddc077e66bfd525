"""`gpt-orchestrator check-config` names every mistake (setting, file, field) without a traceback, and
`make dev` (= `gpt-orchestrator dev`) runs it first: a broken configuration starts nothing."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import REPO
from worker.devserver import free_port, port_is_open

EMPTY_USER = "hosts:\n  local: {address: 127.0.0.1, user: , key_file: ~/.ssh/k}\n"
BAD_WRITABLE = "hosts:\n  web: {address: 10.0.0.5, user: deploy, key_file: k, writable: [relative/dir]}\n"
BAD_AUTO_APPROVE = "hosts:\n  web: {address: 10.0.0.5, user: deploy, key_file: k, auto_approve: ['* -rf /']}\n"
AGENT_WITHOUT_PROMPT = "agents:\n  - {name: Solo, category: One, description: d}\n"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("API_KEY", "TEMPORAL_", "GATEWAY_", "DATA_DIR", "SSH_", "AGENTS_", "MCP_", "LLM_"))
    }
    return env | {"PYTHONPATH": str(REPO), "DATA_DIR": str(tmp_path / "data")} | extra


def check_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", "check-config"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_fine_configuration_passes(tmp_path):
    done = check_config(clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "configuration OK" in done.stdout


def test_each_broken_configuration_is_named_without_a_traceback(tmp_path):
    cases = {
        "SSH_HOSTS_FILE": ({"SSH_HOSTS_FILE": write(tmp_path, "a.yaml", EMPTY_USER)}, "host 'local': user: is empty"),
        "writable": ({"SSH_HOSTS_FILE": write(tmp_path, "b.yaml", BAD_WRITABLE)}, "host 'web': writable"),
        "auto_approve": ({"SSH_HOSTS_FILE": write(tmp_path, "c.yaml", BAD_AUTO_APPROVE)}, "host 'web': auto_approve"),
        "missing inventory": ({"SSH_HOSTS_FILE": str(tmp_path / "nope.yaml")}, "SSH_HOSTS_FILE ("),
        "agents": ({"AGENTS_FILE": write(tmp_path, "agents.yaml", AGENT_WITHOUT_PROMPT)}, "AGENTS_FILE: "),
        "agent key": ({"AGENTS_FILE": write(tmp_path, "keyed.yaml", "agents:\n  - {name: K, category: C, description: d, "
                       "system_prompt: p, base_url: 'http://127.0.0.1:9/v1', api_key_env: NO_SUCH_KEY_VAR}\n")}, "NO_SUCH_KEY_VAR is not set"),
        "mcp command": ({"MCP_SERVERS": '{"files": {"command": ["no-such-mcp-server"]}}'}, "MCP_SERVERS: server 'files': command"),
        "mcp shape": ({"MCP_SERVERS": '{"files": {}}'}, "MCP_SERVERS: files: "),
        "a number": ({"SYNC_TIMEOUT_S": "soon"}, "SYNC_TIMEOUT_S: "),
        "blank key": ({"API_KEY": "  "}, "API_KEY: is set but blank"),
        "extra module": ({"EXTRA_INTENT_MODULES": '["no_such_module_here"]'}, "EXTRA_INTENT_MODULES: 'no_such_module_here'"),
        "routes": ({"INTENT_ROUTES": '{"memory.*": "flow"}'}, "INTENT_ROUTES: "),
        "api keys file": ({"API_KEYS_FILE": write(tmp_path, "keys.yaml", "keys:\n  - {name: gpt, role: superuser, hash: x}\n")},
                          "API_KEYS_FILE ("),
        "api key rate": ({"API_KEY_RATE": "lots"}, "API_KEY_RATE: "),
    }  # fmt: skip
    for case, (env, says) in cases.items():
        done = check_config(clean_env(tmp_path, **env))
        assert done.returncode == 1, (case, done.stdout, done.stderr)
        assert says in done.stderr, (case, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, case


def test_make_dev_refuses_to_start_on_a_broken_inventory(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, SSH_HOSTS_FILE=write(tmp_path, "hosts.yaml", EMPTY_USER), TEMPORAL_ADDRESS=f"127.0.0.1:{port}",
                    TEMPORAL_UI_PORT=str(free_port()), GATEWAY_PORT=str(free_port()))  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "worker.cli", "dev"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    assert time.monotonic() - started < 30
    assert "SSH_HOSTS_FILE" in done.stderr and "host 'local': user: is empty" in done.stderr
    assert "nothing was started" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not port_is_open("127.0.0.1", port), "no Temporal dev server was left behind"


def test_the_api_keys_file_is_checked_and_an_expired_key_noted(tmp_path):
    keys = write(
        tmp_path,
        "keys.yaml",
        "keys:\n  - {name: old-gpt, role: caller, expires: 2020-01-01, hash: 'sha256:" + "a" * 64 + "'}\n",
    )
    os.chmod(keys, 0o600)
    done = check_config(clean_env(tmp_path, API_KEYS_FILE=keys, API_KEY="bootstrap-key"))
    assert done.returncode == 0, done.stderr
    assert "key 'old-gpt': expires: 2020-01-01 has passed" in done.stdout
    assert "API_KEY: the bootstrap admin key is set next to named keys" in done.stdout
    broken = check_config(
        clean_env(tmp_path, API_KEYS_FILE=write(tmp_path, "bad.yaml", "keys:\n  - {name: a, role: caller}\n"))
    )
    assert (
        broken.returncode == 1
        and "API_KEYS_FILE (" in broken.stderr
        and "key 'a': hash: Field required" in broken.stderr
    )
