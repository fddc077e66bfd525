"""The stack's scripts really work: the namespace job's shell script runs against a real Temporal
server, in a namespace that does not exist yet, twice (as on every `docker compose up`); the Chroma
healthcheck probes a real Chroma server. Only host and port differ from inside the compose network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.compose import environment, job_script
from worker.devserver import free_port
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

VENV_BIN = Path(sys.executable).parent


def run_namespace_job(script: str, address: str, namespace: str, retention: str, home: Path):
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(home),  # no operator's ~/.config/temporalio profile leaks in
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "NAMESPACE_RETENTION": retention,
    }
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)


def test_namespace_job_prepares_a_new_namespace_and_is_safe_to_rerun(
    compose, env_example, temporal_server, unique, tmp_path
):
    job = compose["services"]["temporal-namespace"]
    script = job_script(job, env_example)
    retention = environment(job, env_example)["NAMESPACE_RETENTION"]
    namespace = f"ops-{unique}"

    first = run_namespace_job(script, temporal_server.address, namespace, retention, tmp_path)
    assert first.returncode == 0, first.stderr
    again = run_namespace_job(script, temporal_server.address, namespace, retention, tmp_path)
    assert again.returncode == 0, again.stderr

    listed = subprocess.run(
        [
            str(VENV_BIN / "temporal"),
            "operator",
            "search-attribute",
            "list",
            "--namespace",
            namespace,
            "--address",
            temporal_server.address,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={"HOME": str(tmp_path)},
    )
    custom = json.loads(listed.stdout)["customAttributes"]
    assert {key.name: custom.get(key.name) for key in SEARCH_ATTRIBUTES} == {
        key.name: f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}" for key in SEARCH_ATTRIBUTES
    }


def chroma_probe(compose, port: int) -> subprocess.CompletedProcess:
    command = compose["services"]["chroma"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "bash", "-c"]
    probe = command[3].replace("$$", "$").replace("/127.0.0.1/8000", f"/127.0.0.1/{port}")
    return subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=10)


def test_chroma_healthcheck_passes_on_a_live_chroma_and_fails_without_one(compose, chroma_port):
    assert chroma_probe(compose, chroma_port).returncode == 0
    assert chroma_probe(compose, free_port()).returncode != 0  # nothing listens there
