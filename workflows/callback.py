"""CallbackWorkflow: deliver one finished job's document to its callback_url, with retries.

A child of the job's IntentWorkflow, abandoned when the job closes: the job's own outcome is final
(and GET /jobs shows it) at once, while a slow or failing receiver is retried here for minutes
without holding the job open. Its history shows every attempt.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.failures import DATA_ERRORS

with workflow.unsafe.imports_passed_through():
    from intents.callbacks import CALLBACK_ACTIVITY, CallbackDelivery, CallbackReceipt

DELIVERY_TIMEOUT = timedelta(seconds=15)
DELIVERY_RETRY = RetryPolicy(
    maximum_attempts=8, initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60)
)


@workflow.defn(name="CallbackWorkflow", failure_exception_types=DATA_ERRORS)
class CallbackWorkflow:
    @workflow.run
    async def run(self, req: CallbackDelivery) -> CallbackReceipt:
        # A receiver that never takes it fails this run (visible in the UI); the job is unaffected.
        return await workflow.execute_activity(
            CALLBACK_ACTIVITY,
            req,
            result_type=CallbackReceipt,
            start_to_close_timeout=DELIVERY_TIMEOUT,
            retry_policy=DELIVERY_RETRY,
            summary=f"callback for {req.job.get('status', '?')} job {req.job.get('job_id', '')}"[:200],
        )
