"""TokenLedgerWorkflow: one tenant's token use for one UTC day, the durable and shared budget ledger.

Only used when a daily token budget is configured (LLM_DAILY_TOKEN_BUDGET / LLM_TOKEN_BUDGETS). Its id
is `token-ledger-<tenant>-<YYYY-MM-DD>`. Each finished LLM call adds its tokens with signal-with-start
(the first call of the day starts it; one RPC, no wait for a worker). Before an LLM step sends anything,
the `agent.chat` activity asks it (`used` query) and refuses with `BudgetExceeded` when the day's budget
is spent. Every worker and gateway reads the same ledger, whichever process recorded the calls.

It lives until the day is over (plus an hour for calls still finishing), then closes with the day's
total, which stays readable in its result. A busy day continues as new before its history grows long.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from temporalio import workflow

from workflows.failures import DATA_ERRORS

with workflow.unsafe.imports_passed_through():
    from intents.budget import LEDGER_WORKFLOW, LedgerState, TokenUse

LATE_RECORDS = timedelta(hours=1)


@workflow.defn(name=LEDGER_WORKFLOW, failure_exception_types=DATA_ERRORS)
class TokenLedgerWorkflow:
    @workflow.init
    def __init__(self, state: LedgerState) -> None:
        self._state = state.model_copy()

    @workflow.run
    async def run(self, state: LedgerState) -> LedgerState:
        closes = datetime.fromisoformat(state.day).replace(tzinfo=timezone.utc) + timedelta(days=1) + LATE_RECORDS
        while (remaining := closes - workflow.now()) > timedelta(0):
            try:
                await workflow.wait_condition(lambda: workflow.info().is_continue_as_new_suggested(), timeout=remaining)
            except TimeoutError:
                break
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(self._state)
        workflow.set_current_details(f"{self._state.day}: {self._state.used:,} tokens in {self._state.calls} calls")
        return self._state

    @workflow.signal(name="record")
    def record(self, use: TokenUse) -> None:
        self._state.used += use.tokens
        self._state.calls += 1
        workflow.set_current_details(
            f"{self._state.day}: {self._state.used:,} tokens so far in {self._state.calls} calls"
        )

    @workflow.query(name="used")
    def used(self) -> int:
        return self._state.used
