"""The one way every role (gateway, worker, CLI, tests, bench) opens a Temporal client.

Connection settings follow Temporal's own client configuration (`temporalio.envconfig`): the
standard `TEMPORAL_*` variables (address, namespace, API key, TLS and mTLS files, server name) and
profiles in the TOML file the `temporal` CLI also reads. Settings is the one reader of the
environment; it hands its values to envconfig, so a value set here wins over the file's profile,
and a profile fills in what is not set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile

from config.settings import Settings

# Settings field -> the standard variable envconfig reads.
_STANDARD_NAMES = {
    "temporal_address": "TEMPORAL_ADDRESS",
    "temporal_namespace": "TEMPORAL_NAMESPACE",
    "temporal_api_key": "TEMPORAL_API_KEY",
    "temporal_tls": "TEMPORAL_TLS",
    "temporal_tls_client_cert_path": "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "temporal_tls_client_key_path": "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "temporal_tls_server_ca_cert_path": "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "temporal_tls_server_name": "TEMPORAL_TLS_SERVER_NAME",
}


def connect_config(settings: Settings) -> dict[str, Any]:
    """The keyword arguments for `Client.connect`: target, namespace, TLS, API key."""
    env: dict[str, str] = {}
    for field, name in _STANDARD_NAMES.items():
        value = getattr(settings, field)
        # Defaults (127.0.0.1:7233, default) must not hide what a profile says; explicit values win.
        if value is None or (
            field in ("temporal_address", "temporal_namespace") and field not in settings.model_fields_set
        ):
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    source: Path | None = settings.temporal_config_file.expanduser() if settings.temporal_config_file else None
    profile = ClientConfigProfile.load(profile=settings.temporal_profile, config_source=source, override_env_vars=env)
    config: dict[str, Any] = dict(profile.to_client_connect_config())
    config.setdefault("target_host", settings.temporal_address)
    config.setdefault("namespace", settings.temporal_namespace)
    return config


async def connect(settings: Settings, *, interceptors: Sequence[Interceptor] = (), **kwargs: Any) -> Client:
    config = connect_config(settings)
    return await Client.connect(
        config.pop("target_host"),
        data_converter=pydantic_data_converter,
        interceptors=list(interceptors),
        **config,
        **kwargs,
    )
