"""Connecting to a production cluster or Temporal Cloud: TLS, mTLS, API keys and CLI profiles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from config.settings import Settings
from infra.temporal import connect, connect_config


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=orchestrator"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_the_dev_default_is_a_plain_local_connection():
    assert connect_config(Settings()) == {"target_host": "127.0.0.1:7233", "namespace": "default"}


def test_an_api_key_turns_on_tls_as_temporal_cloud_expects():
    config = connect_config(
        Settings(temporal_address="ns.acct.tmprl.cloud:7233", temporal_namespace="ns.acct", temporal_api_key="k" * 32)
    )
    assert config["target_host"] == "ns.acct.tmprl.cloud:7233" and config["namespace"] == "ns.acct"
    assert config["api_key"] == "k" * 32 and config["tls"]


def test_mtls_reads_the_client_certificate_and_key(certificate):
    cert, key = certificate
    settings = Settings(
        temporal_address="temporal.internal:7233", temporal_tls_client_cert_path=cert, temporal_tls_client_key_path=key,
        temporal_tls_server_ca_cert_path=cert, temporal_tls_server_name="temporal.internal",
    )  # fmt: skip
    tls = connect_config(settings)["tls"]
    assert tls.client_cert == cert.read_bytes() and tls.client_private_key == key.read_bytes()
    assert tls.server_root_ca_cert == cert.read_bytes() and tls.domain == "temporal.internal"


def test_a_cli_profile_fills_in_what_the_environment_does_not_set(tmp_path: Path):
    config_file = tmp_path / "temporal.toml"
    config_file.write_text(
        '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "orders"\napi_key = "profile-key-123"\n'
    )
    from_profile = connect_config(Settings(temporal_profile="prod", temporal_config_file=config_file))
    assert (from_profile["target_host"], from_profile["namespace"], from_profile["api_key"]) == (
        "prod.example:7233", "orders", "profile-key-123",
    )  # fmt: skip
    overridden = connect_config(
        Settings(temporal_profile="prod", temporal_config_file=config_file, temporal_namespace="audit")
    )
    assert overridden["namespace"] == "audit" and overridden["target_host"] == "prod.example:7233"


async def test_tls_to_a_server_that_does_not_speak_it_fails_instead_of_falling_back(temporal_server):
    with pytest.raises(RuntimeError):
        await connect(Settings(temporal_address=temporal_server.address, temporal_tls=True))
