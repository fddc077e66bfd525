"""The `gpt-orchestrator` command: dev | worker | gateway."""

from __future__ import annotations

import argparse
import asyncio
import sys

from config import get_settings
from worker import logs


def _dev(args: argparse.Namespace) -> None:
    from worker.dev import run_dev

    asyncio.run(run_dev(get_settings()))


def _worker(args: argparse.Namespace) -> None:
    from config.temporal import connect
    from worker.run import build_worker, build_zone_worker, run_until_cancelled

    async def main() -> None:
        settings = get_settings()
        client = await connect(settings)
        worker = build_zone_worker(client, settings, args.zone) if args.zone else build_worker(client, settings)
        await run_until_cancelled(worker)

    asyncio.run(main())


def _gateway(args: argparse.Namespace) -> None:
    import uvicorn

    from gateway.app import create_app

    settings = get_settings()
    host = args.host or settings.gateway_host
    port = args.port or settings.gateway_port
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpt-orchestrator", description="Durable orchestration on Temporal.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run Temporal dev server + worker + gateway (what `make dev` runs)").set_defaults(fn=_dev)
    w = sub.add_parser("worker", help="run a worker")
    w.add_argument("--zone", help="serve only this zone's task queue (e.g. SSH activities inside a private network)")
    w.set_defaults(fn=_worker)
    g = sub.add_parser("gateway", help="run the HTTP gateway")
    g.add_argument("--host")
    g.add_argument("--port", type=int)
    g.set_defaults(fn=_gateway)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.setup(get_settings().log_level)
    try:
        args.fn(args)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
