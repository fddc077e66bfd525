"""`make bench`: run every benchmark and print figures with ratios against raw temporalio."""

import importlib
import sys

from worker.runtime import run_loop

BENCHES = [
    "bench.orchestrate_latency",
    "bench.throughput",
    "bench.gpt_workflows",
    "bench.tenant_fairness",
    "bench.mcp_stdio_sessions",
    "bench.memory_scale",
    "bench.memory_recall",
    "bench.stream_latency",
]


async def main(names: list[str]) -> None:
    for name in names or BENCHES:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        await module.run()


if __name__ == "__main__":
    run_loop(main(sys.argv[1:]))  # the loop `make dev` runs on: its in-process variants are make dev's
