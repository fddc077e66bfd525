"""The daily token budget, as the `agent.chat` activity applies it: refuse before sending, record after.

The ledger is a Temporal workflow per tenant and UTC day (workflows/budget.py), so every worker reads and
feeds the same count, durably. Admission reads it with a query before anything is sent to a provider, so
a refused step has sent nothing (no half-run step); a finished call adds its tokens with signal-with-start
(one RPC, the first call of the day starts the ledger). Calls already running when the budget runs out
finish, so a day may end a few calls over its budget; no new step starts after that.

Without a configured budget (the default) nothing here talks to Temporal.
"""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from intents.budget import LEDGER_WORKFLOW, LedgerState, TokenUse, ledger_id
from intents.errors import ErrorType, app_error


def utc_day(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d")


class TokenBudget:
    def __init__(self, settings: Settings, client: Client | None = None):
        self._settings = settings
        self._client = client  # tests hand one in; a worker's activities use their own

    def limit(self, tenant: str) -> int | None:
        return self._settings.token_budget(tenant)

    def _temporal(self) -> Client:
        return self._client or activity.client()

    async def used(self, tenant: str, day: str) -> int:
        handle = self._temporal().get_workflow_handle(ledger_id(tenant, day))
        try:
            return await handle.query("used", result_type=int)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return 0  # no call recorded yet today
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE,
                f"the token ledger could not be read ({exc.status.name})",
                retryable=True,
            ) from None

    async def admit(self, tenant: str) -> None:
        """Raise BudgetExceeded (not retried) when the tenant's budget for today is spent."""
        limit = self.limit(tenant)
        if limit is None:
            return
        day = utc_day()
        used = await self.used(tenant, day)
        if used >= limit:
            raise app_error(
                ErrorType.BUDGET_EXCEEDED,
                f"the daily token budget of tenant {tenant!r} is spent: {used:,} of {limit:,} tokens used on {day} (UTC); "
                "nothing was sent to the model. New LLM steps run again tomorrow, or with a larger budget "
                "(LLM_DAILY_TOKEN_BUDGET / LLM_TOKEN_BUDGETS)",
                details={"tenant": tenant, "day": day, "used": used, "budget": limit},
            )

    async def record(self, tenant: str, tokens: int, task_queue: str) -> None:
        """Add a finished call's tokens to today's ledger (starting it if this is the day's first call)."""
        if self.limit(tenant) is None or tokens <= 0:
            return
        day = utc_day()
        await self._temporal().start_workflow(
            LEDGER_WORKFLOW,
            LedgerState(tenant=tenant, day=day),
            id=ledger_id(tenant, day),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="record",
            start_signal_args=[TokenUse(tokens=tokens)],
            static_summary=f"token ledger of tenant {tenant} for {day} (UTC)",
        )
