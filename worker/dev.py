"""`gpt-orchestrator dev` (what `make dev` runs): the whole platform on one machine.

- the official Temporal dev server (child process), SQLite in DATA_DIR so jobs survive restarts,
  Web UI on 127.0.0.1:8233;
- the worker and the gateway in this process, sharing one client (eager workflow start);
Ctrl-C stops all three, in order.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from config import Settings
from config.temporal import connect
from gateway.app import create_app
from worker.devserver import DevServer
from worker.mcp_intents import load_mcp_intents
from worker.run import build_worker


def ensure_api_key(settings: Settings) -> tuple[Settings, str]:
    """Use API_KEY if set; else the key stored in DATA_DIR/api_key (created 0600 on first run)."""
    if settings.api_key is not None:
        return settings, "from the API_KEY environment variable"
    path: Path = settings.data_dir / "api_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    key = path.read_text().strip()
    return settings.model_copy(update={"api_key": SecretStr(key)}), f"generated, stored in {path.resolve()}"


async def run_dev(settings: Settings) -> None:
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
        client = await connect(settings)
        worker = build_worker(client, settings)
        app = create_app(settings, client=client, eager_start=True)
        http = uvicorn.Server(uvicorn.Config(app, host=settings.gateway_host, port=settings.gateway_port, log_level="info"))
        gateway_url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        print(
            "\n  gpt-orchestrator is up\n"
            f"  gateway      {gateway_url}  (docs: {gateway_url}/docs)\n"
            f"  Temporal UI  http://{server.host}:{settings.temporal_ui_port}\n"
            f"  Temporal     {settings.temporal_address}  (namespace {settings.temporal_namespace})\n"
            f"  data         {settings.data_dir.resolve()}\n"
            f"  API key      {key_source}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        await load_mcp_intents(settings)  # the gateway shares this registry: MCP tools listed from the start
        async with worker:
            await http.serve()
    finally:
        server.stop()
