"""Stop on Ctrl-C (SIGINT) or `docker stop` (SIGTERM) in order, instead of by KeyboardInterrupt.

A KeyboardInterrupt lands wherever the main thread happens to be: mid-way through a worker's graceful
shutdown it cancels that shutdown, and a worker left half shut retries forever against a Temporal dev
server that is already stopped. Turning the signals into an event lets each piece stop in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_stop_signal(callback: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, callback)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def serve_until_stopped(http) -> None:
    """Run a uvicorn.Server until SIGINT/SIGTERM; uvicorn's own capture (which re-raises the signal
    after serving) is switched off so the signal cannot interrupt what follows."""
    http.capture_signals = contextlib.nullcontext

    def stop() -> None:
        http.should_exit = True

    with on_stop_signal(stop):
        await http.serve()


async def wait_for_stop_signal() -> None:
    stopped = asyncio.Event()
    with on_stop_signal(stopped.set):
        await stopped.wait()
