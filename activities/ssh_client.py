"""Run one command on one inventory host over asyncssh, with timeouts, output caps and heartbeats.

Errors are typed so Temporal retries only what is safe to retry:
- before the command starts (refused, unreachable, timeout, channel refused): retryable;
- bad key, unknown/mismatched host key, authentication refused: not retryable;
- after it started (connection lost, timeout): retryable only when `idempotent` (a peek), because
  re-running a write may apply it twice.
Cancellation (delivered through heartbeats) sends SIGTERM to the remote process group and closes
the channel, so an abandoned command does not keep running on the host.
Output and error messages are scrubbed of our configured secrets (a command that prints an API key, a
`cat` of a config file) before they reach the result, an error or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import asyncssh
from temporalio import activity

from activities.redaction import errors_scrubbed
from config.hosts import SshHost
from intents.errors import ErrorType, app_error
from intents.ssh import SshResult
from policies.redact import Scrubber, scrubber

log = logging.getLogger("gpt_orchestrator.ssh")

READ_CHUNK = 64 * 1024
HEARTBEAT_EVERY_S = 1.0  # the SDK throttles what it sends; this only bounds how stale a heartbeat can be


@dataclass(frozen=True)
class RunOptions:
    max_output_chars: int
    accept_unknown_hosts: bool = False  # settings.ssh_dev_accept_unknown_hosts: dev only
    idempotent: bool = False  # may a failure after the command started be retried?
    scrub: Scrubber = scrubber(frozenset())  # the configured secrets to scrub from output and errors


async def run_command(host: SshHost, command: str, options: RunOptions) -> SshResult:
    """Run `command` (already policy-checked) on `host`; the whole call is bounded by connect + command timeouts."""
    with errors_scrubbed(options.scrub):
        return await _run_command(host, command, options)


async def _run_command(host: SshHost, command: str, options: RunOptions) -> SshResult:
    started = time.monotonic()
    client_key, known_hosts = await asyncio.to_thread(_load_trust, host, options.accept_unknown_hosts)
    conn = await _connect(host, client_key, known_hosts)
    async with conn:
        try:
            process = await conn.create_process(command, stdin=asyncssh.DEVNULL, encoding="utf-8", errors="replace")
        except (asyncssh.ChannelOpenError, asyncssh.Error, OSError) as err:
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE, f"{host.name}: could not start the command: {err}", retryable=True
            ) from err
        stdout, stderr = await _collect(host, process, options)
    exit_signal = process.exit_signal[0] if process.exit_signal else None
    return SshResult(
        host=host.name,
        command=command,
        exit_status=None if exit_signal else process.exit_status,
        exit_signal=exit_signal,
        stdout=stdout.text,
        stderr=stderr.text,
        truncated=stdout.dropped > 0 or stderr.dropped > 0,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _load_trust(host: SshHost, accept_unknown_hosts: bool):
    """Read the client key and known_hosts up front (blocking file I/O, run in a thread)."""
    try:
        client_key = asyncssh.read_private_key(str(host.key_file))
    except (OSError, asyncssh.KeyImportError, ValueError) as err:
        # The message names the file, never its contents.
        raise app_error(
            ErrorType.SSH_AUTH, f"{host.name}: cannot load client key {host.key_file}: {type(err).__name__}"
        ) from None
    if accept_unknown_hosts:
        log.warning("SSH_DEV_ACCEPT_UNKNOWN_HOSTS is on: NOT verifying the host key of %s (dev only)", host.name)
        return client_key, None
    try:
        known_hosts = asyncssh.read_known_hosts(str(host.known_hosts_file))
    except (OSError, ValueError) as err:
        raise app_error(
            ErrorType.HOST_KEY_MISMATCH,
            f"{host.name}: cannot read known_hosts {host.known_hosts_file} ({type(err).__name__}); "
            "host keys are always verified, so nothing was dialled",
        ) from None
    return client_key, known_hosts


async def _connect(host: SshHost, client_key, known_hosts) -> asyncssh.SSHClientConnection:
    where = f"{host.name} ({host.address}:{host.port})"
    try:
        return await asyncssh.connect(
            host.address,
            host.port,
            username=host.user,
            client_keys=[client_key],
            known_hosts=known_hosts,
            config=None,  # never read ~/.ssh/config: the inventory is the whole truth
            agent_path=None,
            password=None,
            preferred_auth="publickey",
            connect_timeout=host.connect_timeout_s,
            login_timeout=host.connect_timeout_s,
            keepalive_interval=15,
        )
    except asyncssh.HostKeyNotVerifiable as err:
        raise app_error(
            ErrorType.HOST_KEY_MISMATCH,
            f"{where}: host key does not match {host.known_hosts_file} ({err.reason}); refusing to connect",
        ) from None
    except asyncssh.PermissionDenied as err:
        raise app_error(
            ErrorType.SSH_AUTH, f"{where}: authentication as {host.user!r} refused ({err.reason})"
        ) from None
    except (OSError, TimeoutError, asyncssh.Error) as err:
        raise app_error(
            ErrorType.UPSTREAM_UNAVAILABLE, f"{where}: cannot connect: {type(err).__name__}: {err}", retryable=True
        ) from None


@dataclass
class _Captured:
    text: str
    dropped: int


async def _collect(
    host: SshHost, process: asyncssh.SSHClientProcess, options: RunOptions
) -> tuple[_Captured, _Captured]:
    beating = asyncio.create_task(_heartbeats(host.name))
    try:
        async with asyncio.timeout(host.command_timeout_s):
            stdout, stderr = await asyncio.gather(
                _capture(process.stdout, options.max_output_chars, options.scrub),
                _capture(process.stderr, options.max_output_chars, options.scrub),
            )
            await process.wait_closed()
        return stdout, stderr
    except TimeoutError:
        _stop(process)
        raise app_error(
            ErrorType.SSH_COMMAND_TIMEOUT,
            f"{host.name}: command still running after {host.command_timeout_s:g}s; it was sent SIGTERM",
        ) from None
    except asyncio.CancelledError:
        _stop(process)
        raise
    except (asyncssh.Error, OSError) as err:
        retry_note = "" if options.idempotent else "; not retried, it may have run"
        raise app_error(
            ErrorType.UPSTREAM_UNAVAILABLE,
            f"{host.name}: connection lost while the command ran ({err}){retry_note}",
            retryable=options.idempotent,
        ) from None
    finally:
        beating.cancel()


async def _capture(stream: asyncssh.SSHReader, limit: int, scrub: Scrubber) -> _Captured:
    """Keep the first `limit` characters and count the rest; reading on keeps the remote side from blocking.

    Scrubbed before it is cut: a margin as long as the longest secret form is kept past `limit`, so a
    secret that starts before the cut is replaced whole, never shown in half."""
    margin = max((len(form) for form in scrub.forms), default=0)
    kept: list[str] = []
    size = dropped = 0
    while chunk := await stream.read(READ_CHUNK):
        room = max(0, limit + margin - size)
        kept.append(chunk[:room])
        size += min(room, len(chunk))
        dropped += len(chunk) - min(room, len(chunk))
    text = scrub.text("".join(kept))
    if len(text) > limit:
        dropped += len(text) - limit
        text = text[:limit]
    if dropped:
        text += f"\n[... truncated: {dropped} more characters not shown ...]"
    return _Captured(text, dropped)


def _stop(process: asyncssh.SSHClientProcess) -> None:
    """Ask sshd to SIGTERM the command's process group (OpenSSH >= 7.9), then drop the channel."""
    with contextlib.suppress(OSError, ValueError, asyncssh.Error):
        process.send_signal("TERM")
    process.close()


async def _heartbeats(host_name: str) -> None:
    if not activity.in_activity():
        return
    while True:
        activity.heartbeat(f"running on {host_name}")
        await asyncio.sleep(HEARTBEAT_EVERY_S)
