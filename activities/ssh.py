"""ssh.* activities: the approval preflight, read-only peek and approved exec on inventory hosts.

Every activity re-checks what the gateway already checked (host name, peek allowlist, danger) before
anything is dialled: a request that reached the worker some other way gets the same answers.
"""

from __future__ import annotations

import logging
import shlex

from temporalio import activity

from activities.redaction import peer_scrubber
from activities.ssh_client import RunOptions, run_command
from config import Settings
from config.errors import NotConfigured
from config.hosts import Inventory, SshHost, load_inventory
from intents.approval import Approval, DecisionKind, Preflight, Review
from intents.canonical import fingerprint
from intents.errors import ErrorType, app_error
from intents.spec import RequestRejected, rejected_lookup
from intents.ssh import SshExecInput, SshPeekInput, SshResult
from policies.refusal import Refusal
from policies.ssh_exec import HostRules, review_command
from policies.ssh_peek import check_peek

log = logging.getLogger("gpt_orchestrator.ssh")


class SshActivities:
    def __init__(self, settings: Settings, inventory: Inventory | None = None):
        self.settings = settings
        self.inventory = inventory if inventory is not None else load_inventory(settings)
        self._scrub = peer_scrubber(settings)
        if settings.ssh_dev_accept_unknown_hosts:
            log.warning("SSH_DEV_ACCEPT_UNKNOWN_HOSTS=true: host keys are NOT verified. Never use this outside dev.")

    def activities(self) -> list:
        return [self.preflight, *self.handlers()]

    def handlers(self) -> list:
        """What runs a command on a host: all a zone worker needs."""
        return [self.peek, self.exec]

    @activity.defn(name="ssh.preflight")
    async def preflight(self, inp: SshExecInput) -> Preflight:
        """Review a request before it runs: its risks (empty = run at once) and the zone that must run it.

        Takes the exec model for both intents: a peek's `{host, command}` parses into it, and an
        allowlisted peek command never has risks (the peek activity re-checks the allowlist itself).
        """
        host = self._host(inp.host)
        if "\x00" in inp.command:
            raise app_error(ErrorType.UNSAFE_COMMAND, "NUL byte in command", details={"risks": ["NUL byte in command"]})
        risks = review_command(inp.command, host_rules(host))
        return Preflight(
            risks=risks,
            inline_confirmed=bool(risks) and inp.confirm_dangerous and self.settings.ssh_allow_inline_confirm,
            task_queue=host.zone,
            target=host.name,
            approval_timeout_s=self.settings.ssh_approval_timeout_s,
            review=Review(host=host.name, user=host.user, command=inp.command),
        )

    @activity.defn(name="ssh.exec.peek")
    async def peek(self, inp: SshPeekInput) -> SshResult:
        host = self._host(inp.host)
        try:
            argv = check_peek(inp.command)
        except Refusal as err:
            raise app_error(ErrorType.UNSAFE_COMMAND, str(err), details={"field": err.field}) from None
        return await run_command(host, shlex.join(argv), self._options(idempotent=True))

    @activity.defn(name="ssh.exec")
    async def exec(self, inp: SshExecInput, approval: Approval | None = None) -> SshResult:
        # Temporal drops the type hints when fewer arguments than parameters arrive (no approval),
        # handing us a dict: validate explicitly either way.
        inp = SshExecInput.model_validate(inp)
        approval = Approval.model_validate(approval) if approval is not None else None
        if approval is not None and approval.fingerprint is not None:
            if approval.fingerprint != fingerprint("ssh.exec", inp.model_dump(mode="json")):
                raise app_error(ErrorType.APPROVAL_MISMATCH, "the approval was given for other inputs; nothing was run")
        host = self._host(inp.host)
        if "\x00" in inp.command:
            raise app_error(ErrorType.UNSAFE_COMMAND, "NUL byte in command", details={"risks": ["NUL byte in command"]})
        risks = review_command(inp.command, host_rules(host))
        if risks and not self._approves(inp, approval):
            decision = approval.decision if approval else "none"
            raise app_error(
                ErrorType.UNSAFE_COMMAND,
                f"dangerous command not run without an approval (decision: {decision}): {'; '.join(risks)}",
                details={"risks": risks},
            )
        return await run_command(host, inp.command, self._options(idempotent=False))

    def _approves(self, inp: SshExecInput, approval: Approval | None) -> bool:
        if approval is None:
            return False
        if approval.decision == DecisionKind.APPROVED:
            return True
        # The weaker, seed-compatible path counts only while the operator allows it.
        return (
            approval.decision == DecisionKind.INLINE
            and inp.confirm_dangerous
            and self.settings.ssh_allow_inline_confirm
        )

    def _host(self, name: str) -> SshHost:
        try:
            return self.inventory.get(name)
        except NotConfigured as err:
            raise _as_app_error(rejected_lookup(err)) from None

    def _options(self, *, idempotent: bool) -> RunOptions:
        return RunOptions(
            max_output_chars=self.settings.ssh_max_output_chars,
            accept_unknown_hosts=self.settings.ssh_dev_accept_unknown_hosts,
            idempotent=idempotent,
            scrub=self._scrub,
        )


def host_rules(host: SshHost) -> HostRules:
    """What the operator lets run on this host without a human (inventory: writable, auto_approve)."""
    return HostRules.of(host.writable, host.auto_approve)


def _as_app_error(err: RequestRejected):
    details = {"field": err.field, **(err.details or {})}
    return app_error(ErrorType(err.error_type), str(err), details=details)
