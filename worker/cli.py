"""The `gpt-orchestrator` command: dev | worker | gateway | check-config | keys | replay | reset-point |
memory import | actions-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from pydantic import ValidationError

from config import get_settings
from worker import keys_cli
from worker import logging_setup as logs


def _dev(args: argparse.Namespace) -> None:
    from worker.dev import run_dev
    from worker.runtime import run_loop

    run_loop(run_dev(get_settings()))


def _check_config(args: argparse.Namespace) -> int:
    from worker.check_config import check_settings

    report = check_settings(get_settings())
    print(report.render(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _keys(args: argparse.Namespace) -> int:
    return keys_cli.run(args, get_settings())


def _worker(args: argparse.Namespace) -> None:
    from worker.run import build_worker, build_zone_worker, run_until_stopped
    from worker.runtime import run_loop, settle_heap, worker_client

    async def main() -> None:
        settings = get_settings()
        client = await worker_client(settings, log_format=logs.log_format(settings, "worker"))
        worker = build_zone_worker(client, settings, args.zone) if args.zone else build_worker(client, settings)
        if not args.zone:
            from worker.mcp_intents import load_mcp_intents

            await load_mcp_intents(settings)  # MCP tools become mcp.<server>.<tool> intents
        settle_heap()
        await run_until_stopped(worker)

    run_loop(main())


def _gateway(args: argparse.Namespace) -> None:
    import uvicorn

    from gateway.app import create_app
    from gateway.streams import SHUTDOWN_GRACE_S
    from worker.runtime import settle_heap

    settings = get_settings()
    host = args.host or settings.gateway_host
    port = args.port or settings.gateway_port
    app = create_app(settings)
    settle_heap()
    # log_config=None: uvicorn logs through our handler (JSON lines); the app writes its own access
    # line, with the route template and job_id, so uvicorn's is off.
    uvicorn.run(
        app, host=host, port=port, log_level=settings.log_level.lower(), log_config=None, access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,  # open event streams end; their clients resume elsewhere
    )  # fmt: skip


def _exit_now(code: int) -> int:
    """Leave without interpreter finalization. After a one-shot replay or query the SDK's core threads
    can still be winding down, and tearing them down at exit has crashed the process (PyGILState_Release)
    after the answer was printed, turning a success into a failure. The answer is flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _replay(args: argparse.Namespace) -> int:
    from worker.replay import run_replay

    return _exit_now(run_replay(get_settings(), files=args.files, query=args.query, limit=args.limit))


def _reset_point(args: argparse.Namespace) -> int:
    from worker.reset import run_reset_point

    return _exit_now(run_reset_point(get_settings(), args.job_id))


def _memory_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from infra.temporal import connect
    from worker.memory_import import ImportReport, import_file, read_items, render

    path = Path(args.file)
    if not path.is_file():
        print(f"error: memory import: {path}: no such file", file=sys.stderr)
        return 1
    _, problems = read_items(path)  # a bad file is refused before anything is contacted
    if problems:
        print(render(ImportReport(problems=problems), path), file=sys.stderr)
        return 1

    async def main() -> int:
        settings = get_settings()
        client = await connect(settings)
        progress = (lambda line: print(line, file=sys.stderr)) if not args.quiet else None
        report = await import_file(
            client,
            settings,
            path,
            batch_size=args.batch_size,
            concurrency=args.concurrency,
            tenant=args.tenant,
            progress=progress,
        )
        print(render(report, path), file=sys.stdout if report.ok else sys.stderr)
        return 0 if report.ok else 1

    return _exit_now(asyncio.run(main()))


def _actions_schema(args: argparse.Namespace) -> int | None:
    from gateway.actions_schema import actions_schema, check_server_url, render
    from gateway.app import create_app

    try:
        check_server_url(args.server_url, allow_loopback_http=args.allow_http_loopback)
    except ValueError as exc:
        print(f"actions-schema: --server-url: {exc}", file=sys.stderr)
        return 2
    text = render(actions_schema(create_app(get_settings()), args.server_url, role=args.role))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpt-orchestrator", description="Durable orchestration on Temporal.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run Temporal dev server + worker + gateway (what `make dev` runs)").set_defaults(
        fn=_dev
    )
    sub.add_parser(
        "check-config",
        help="validate settings, SSH inventory, agents, MCP servers and API keys; exit 1 naming each problem",
    ).set_defaults(fn=_check_config)
    keys_cli.add_parser(sub, _keys)
    w = sub.add_parser("worker", help="run a worker")
    w.add_argument("--zone", help="serve only this zone's task queue (e.g. SSH activities inside a private network)")
    w.set_defaults(fn=_worker)
    g = sub.add_parser("gateway", help="run the HTTP gateway")
    g.add_argument("--host")
    g.add_argument("--port", type=int)
    g.set_defaults(fn=_gateway)
    r = sub.add_parser(
        "replay",
        help="replay histories against the current workflow code; exit 1 on nondeterminism",
        description="Replay `temporal workflow show --output json` files (or directories of them), or with "
        "--query the last N closed runs from the server. Exit 0: all replayed; 1: a replay failed; 2: nothing to replay.",
    )
    r.add_argument("files", nargs="*", help="history JSON files or directories of them")
    r.add_argument("--query", help="visibility query, e.g. \"Intent='memory.write'\" (closed runs only)")
    r.add_argument("--limit", type=int, default=10, help="with --query: how many of the latest runs (default 10)")
    r.set_defaults(fn=_replay)
    rp = sub.add_parser(
        "reset-point",
        help="print the event id to `temporal workflow reset --event-id` so a failed run re-runs its failed step",
    )
    rp.add_argument("job_id")
    rp.set_defaults(fn=_reset_point)
    m = sub.add_parser("memory", help="memory maintenance: bulk import")
    msub = m.add_subparsers(dest="memory_command", required=True)
    mi = msub.add_parser(
        "import",
        help="load memories from a JSONL file through memory.write_batch jobs (idempotent: re-running changes nothing)",
        description='One JSON object a line: {"text": "...", "tags": ["..."], "speaker_id": "..."}. The file is validated '
        "first (a bad line is named, nothing starts); then batches run as memory.write_batch jobs on the workers. "
        "Exit 0: all written; 1: a bad file or a failed batch.",
    )
    mi.add_argument("file", help="JSONL file")
    mi.add_argument("--batch-size", type=int, default=500, help="memories per job (at most 1000; default 500)")
    mi.add_argument("--concurrency", type=int, default=4, help="jobs in flight at once (default 4)")
    mi.add_argument("--tenant", default="default", help="whose memories these are (default: default)")
    mi.add_argument("--quiet", action="store_true", help="no progress lines")
    mi.set_defaults(fn=_memory_import)
    a = sub.add_parser(
        "actions-schema",
        help="print the OpenAPI document to import into a custom GPT's Actions (what `make actions-schema` commits)",
    )
    a.add_argument(
        "--server-url", required=True, help="the gateway's public HTTPS URL, e.g. https://orchestrator.example.com"
    )
    a.add_argument("--output", help="write to this file instead of stdout")
    a.add_argument(
        "--allow-http-loopback",
        action="store_true",
        help="accept http://127.0.0.1 / localhost (local testing only; ChatGPT itself needs https)",
    )
    a.add_argument(
        "--role",
        choices=["caller", "approver", "admin"],
        help="only the operations a key of this role may call (the GPT gets a caller key: --role caller)",
    )
    a.set_defaults(fn=_actions_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:  # a bad environment variable: name it, no traceback
        from worker.check_config import settings_problems

        print("\n".join(f"error: {p}" for p in settings_problems(exc)), file=sys.stderr)
        print("check-config: the settings are invalid; nothing was started", file=sys.stderr)
        return 1
    logs.setup(settings, args.command)
    try:
        return args.fn(args) or 0
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
