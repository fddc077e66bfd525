"""`gpt-orchestrator dev` (what `make dev` runs): the whole platform on one machine.

- the official Temporal dev server (child process), SQLite in DATA_DIR so jobs survive restarts,
  Web UI on 127.0.0.1:8233;
- the worker and the gateway in this process, sharing one client (eager workflow start);
Ctrl-C stops all three, in order.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from config import Settings
from gateway.app import create_app
from gateway.schedules import ensure_digest_schedule
from gateway.streams import SHUTDOWN_GRACE_S
from infra import tracing
from worker.check_config import check_settings
from worker.devserver import DevServer
from worker.mcp_intents import load_mcp_intents
from worker.run import build_worker, flush_memory_journals
from worker.runtime import settle_heap, worker_client
from worker.signals import serve_until_stopped


def ensure_api_key(settings: Settings) -> tuple[Settings, str]:
    """Use API_KEY if set; else the key stored in DATA_DIR/api_key (created 0600 on first run)."""
    if settings.api_key is not None:
        return settings, "from the API_KEY environment variable"
    path: Path = settings.data_dir / "api_key"
    how = "stored in"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
        how = "generated, stored in"
    key = path.read_text().strip()
    return settings.model_copy(update={"api_key": SecretStr(key)}), f"{how} {path.resolve()} (read it with `cat`)"


DEV_SERVICE = "gpt-orchestrator-dev"  # one process hosts gateway and worker: one trace service


class ConfigurationInvalid(SystemExit):
    """`make dev` refuses to start on a configuration problem; the report was printed."""


async def run_dev(settings: Settings) -> None:
    report = check_settings(settings)  # what `gpt-orchestrator check-config` says, before anything starts
    if not report.ok:
        print(report.render(), file=sys.stderr, flush=True)
        raise ConfigurationInvalid(1)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings, key_source = ensure_api_key(settings)
    host, _, port = settings.temporal_address.rpartition(":")
    server = DevServer(
        host=host or "127.0.0.1",
        port=int(port),
        ui_port=settings.temporal_ui_port,
        db_file=settings.data_dir / "temporal.db",
        namespace=settings.temporal_namespace,
        log_level="warn",
        log_file=settings.data_dir / "temporal.log",
    )
    await server.start()
    try:
        client = await worker_client(settings, service=DEV_SERVICE)
        worker = build_worker(client, settings)
        app = create_app(
            settings, client=client, eager_start=True, tracer_provider=tracing.tracer_provider(settings, DEV_SERVICE)
        )
        config = uvicorn.Config(
            app,
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_level="info",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,  # open event streams end at Ctrl-C
        )  # logs go through our handler; the app writes its own access lines
        http = uvicorn.Server(config)
        gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        worker_metrics = (
            f"http://{settings.worker_metrics_address}/metrics"
            if settings.worker_metrics_address
            else "off (WORKER_METRICS_ADDRESS)"
        )
        print(
            "\n  gpt-orchestrator is up\n"
            f"  gateway      {gateway_url}  (docs: {gateway_url}/docs)\n"
            f"  console      {gateway_url}/console  (sign in with an API key)\n"
            f"  Temporal UI  http://{server.host}:{settings.temporal_ui_port}\n"
            f"  Temporal     {settings.temporal_address}  (namespace {settings.temporal_namespace})\n"
            f"  metrics      gateway {gateway_url}/metrics, worker {worker_metrics}\n"
            f"  data         {settings.data_dir.resolve()}\n"
            f"  API key      {key_source}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        await load_mcp_intents(settings)  # the gateway shares this registry: MCP tools listed from the start
        digest = await ensure_digest_schedule(client, settings)  # opt-in: DIGEST_SCHEDULE_CRON
        if digest is not None:
            print(f"  schedule     {digest.schedule_id}: digest.daily at '{digest.cron}' ({digest.timezone}); "
                  f"temporal schedule describe -s {digest.schedule_id}\n", flush=True)  # fmt: skip
        settle_heap()
        async with worker:  # stops after the gateway: in-flight requests can still finish
            await serve_until_stopped(http)
        await flush_memory_journals()
    finally:
        server.stop()
