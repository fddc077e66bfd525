"""`make bench`: run every benchmark and print figures with ratios against raw temporalio."""

import asyncio
import importlib
import sys

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
    asyncio.run(main(sys.argv[1:]))
