"""ssh.* intents: run commands on inventory hosts (agent mode).

- `ssh.exec.peek` runs a read-only command from a strict allowlist at once (no shell syntax at all).
- `ssh.exec` runs any command through the remote shell; a command the analyzer cannot prove safe
  (`policies.ssh_exec`) waits for a human approval (or, when SSH_ALLOW_INLINE_CONFIRM is on, the
  weaker `confirm_dangerous: true`). The gate is the `ssh.preflight` activity, which also names the
  host's zone (task queue).

Requests name a host from the inventory (`config/hosts.py`); an address is never accepted.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.errors import NotConfigured
from config.hosts import inventory_for
from config.settings import Settings
from intents.errors import ErrorType
from intents.spec import IntentSpec, Mode, RequestRejected, RetrySpec, rejected_lookup
from intents.text import quote_short
from policies.refusal import Refusal
from policies.ssh_peek import check_peek

PREFLIGHT_ACTIVITY = "ssh.preflight"
# Upper bound of one SSH activity: the longest connect (60 s) + command (600 s) a host may
# declare in the inventory, plus a margin for closing the connection.
SSH_ACTIVITY_TIMEOUT = timedelta(seconds=60 + 600 + 30)
# Cancellation arrives with a heartbeat response; the SDK sends at most every 0.8 x this, so keep it short.
SSH_HEARTBEAT_TIMEOUT = timedelta(seconds=10)


class SshPeekInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=64, description="Host name from the SSH inventory (not an address).")
    command: str = Field(
        min_length=1,
        max_length=1000,
        description="A read-only command without shell syntax, e.g. `df -h` or `journalctl -u nginx -n 50`.",
    )

    @field_validator("command")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("command must not be blank")
        return v


class SshExecInput(SshPeekInput):
    """Also what `ssh.preflight` takes: a peek's inputs parse into it with confirm_dangerous=False."""

    command: str = Field(
        min_length=1, max_length=4000, description="A command for the remote shell (pipes and && allowed)."
    )
    confirm_dangerous: bool = Field(
        default=False,
        description="Seed-compatible, weaker path: approve a dangerous command yourself. Ignored (the job waits "
        "for a human) unless the server sets SSH_ALLOW_INLINE_CONFIRM=true.",
    )


class SshResult(BaseModel):
    host: str
    command: str = Field(description="What ran on the host (for a peek: the re-quoted argv).")
    exit_status: int | None = Field(description="Exit code; null when the command was killed by a signal.")
    exit_signal: str | None = Field(default=None, description="Signal that ended the command, if any.")
    stdout: str
    stderr: str
    truncated: bool = Field(description="True when stdout or stderr was cut (a marker line says how much).")
    duration_ms: int


def check_host(inputs: SshPeekInput, settings: Settings) -> None:
    try:
        inventory_for(settings).get(inputs.host)
    except NotConfigured as err:
        raise rejected_lookup(err) from None


def unsafe(err: Refusal) -> RequestRejected:
    """A policy's refusal of a command, as the 400 UnsafeCommand that names `inputs.command`."""
    return RequestRejected(ErrorType.UNSAFE_COMMAND, str(err), field=err.field or "command", details=err.details)


def precheck_peek(inputs: SshPeekInput, settings: Settings) -> None:
    """Gateway-side: unknown host -> 400 listing hosts; shell syntax or non-allowlisted command -> 400 saying why."""
    check_host(inputs, settings)
    try:
        check_peek(inputs.command)
    except Refusal as err:
        raise unsafe(err) from None


def precheck_exec(inputs: SshExecInput, settings: Settings) -> None:
    check_host(inputs, settings)
    if "\x00" in inputs.command:
        raise RequestRejected(ErrorType.UNSAFE_COMMAND, "NUL byte in command", field="command")


def _summary(inputs: SshPeekInput) -> str:
    return f"{quote_short(inputs.command)} on {inputs.host}"


# What both ssh.* intents share: same result, limits, summary and approval/zone preflight.
_SSH_COMMON = dict(
    mode=Mode.WORKER,
    output_model=SshResult,
    timeout=SSH_ACTIVITY_TIMEOUT,
    heartbeat_timeout=SSH_HEARTBEAT_TIMEOUT,
    # Only failures before a command starts are retryable for ssh.exec (the activity decides), so a
    # retry never runs a write twice; a peek may also be retried after a lost connection.
    retry=RetrySpec(max_attempts=3),
    summarize=_summary,
    preflight_activity=PREFLIGHT_ACTIVITY,
)

INTENTS = [
    IntentSpec(
        name="ssh.exec.peek",
        description="Run a read-only command (df, free, uptime, ps, systemctl status, journalctl -n, tail of logs...) "
        "on an inventory host. Shell syntax is refused; use ssh.exec for anything else.",
        input_model=SshPeekInput,
        activity="ssh.exec.peek",
        read_only=True,
        example={"host": "web-1", "command": "df -h"},
        precheck=precheck_peek,
        **_SSH_COMMON,
    ),
    IntentSpec(
        name="ssh.exec",
        description="Run a command through the remote shell on an inventory host. Only what can be proven safe "
        "(reads, and writes inside the host's writable area) runs at once; anything else waits until a human "
        "approves the job (POST /jobs/{job_id}/approve).",
        input_model=SshExecInput,
        activity="ssh.exec",
        read_only=False,
        example={"host": "web-1", "command": "systemctl restart nginx"},
        precheck=precheck_exec,
        **_SSH_COMMON,
    ),
]
