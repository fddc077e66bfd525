"""Typed error names shared by activities (which raise them) and the gateway (which maps them to HTTP).

Activities raise `ApplicationError(message, type=ErrorType.X, non_retryable=True)`; the gateway's
`gateway/errors.py` holds the single table from these names to HTTP status codes.
"""

from datetime import timedelta
from enum import StrEnum


class ErrorType(StrEnum):
    VALIDATION = "ValidationError"  # inputs failed a check that only the worker can make
    UNKNOWN_INTENT = "UnknownIntent"
    MODE_MISMATCH = "ModeMismatch"
    UNSAFE_COMMAND = "UnsafeCommand"
    UNKNOWN_HOST = "UnknownHost"
    UNKNOWN_AGENT = "UnknownAgent"
    NOT_FOUND = "NotFound"
    UPSTREAM_BAD_REQUEST = "UpstreamBadRequest"  # a peer answered 4xx: retrying will not help
    UPSTREAM_AUTH = "UpstreamAuthError"
    UPSTREAM_UNAVAILABLE = "UpstreamUnavailable"  # 5xx / 429 / timeouts: retried, then surfaced
    HOST_KEY_MISMATCH = "HostKeyMismatch"
    SSH_AUTH = "SshAuthError"
    SSH_COMMAND_TIMEOUT = "SshCommandTimeout"  # the command outran its host's command_timeout_s (it was stopped)
    REJECTED = "Rejected"  # a human rejected an approval
    EXPIRED = "ApprovalExpired"
    APPROVAL_MISMATCH = "ApprovalMismatch"  # a decision or approval bound to other inputs than the job's
    IDEMPOTENCY_KEY_REUSED = "IdempotencyKeyReused"  # the key already names a job with other inputs
    TOOL_ERROR = "ToolError"
    TOOL_OUTCOME_UNKNOWN = "ToolOutcomeUnknown"  # a call with side effects may have run; not repeated blindly
    UPSTREAM_PROTOCOL = "UpstreamProtocolError"  # a peer answered 2xx but broke its contract (not JSON, no envelope)
    CALLBACK_URL_REJECTED = "CallbackUrlRejected"  # callback_url fails the SSRF policy
    INVALID_DEFINITION = "InvalidWorkflowDefinition"  # a GPT workflow definition fails create-time checks
    SCHEDULE_EXISTS = "ScheduleExists"  # a schedule id already names a schedule with another request
    TEMPORAL_UNAVAILABLE = "TemporalUnavailable"  # the gateway cannot reach Temporal (down, or no answer in time)
    MISCONFIGURED = "Misconfigured"  # a setting or config file the request needs is invalid; the operator must fix it
    STEP_INPUT_TOO_LARGE = "StepInputTooLarge"  # a GPT step's templates rendered past the step-input cap
    RESULT_TOO_LARGE = "ResultTooLarge"  # an activity returned more than the result cap
    BUDGET_EXCEEDED = "BudgetExceeded"  # the tenant's daily token budget is spent: the LLM step did not start
    INTERNAL = "InternalError"
    # How a job ended, when not by a typed error of its own.
    CANCELLED = "Cancelled"
    TERMINATED = "Terminated"
    TIMED_OUT = "TimedOut"  # the run outran its execution timeout (MAX_RUN_S)
    ACTIVITY_TIMEOUT = "ActivityTimeout"
    STEP_FAILED = "StepFailed"  # a GPT workflow step failed, and the workflow with it
    ERROR = "Error"  # a failure that carried no type
    # Answers of the gateway itself, about the request rather than the work.
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"  # the key's role may not do this
    SELF_APPROVAL = "SelfApproval"  # a key deciding on a job it requested (separation of duties)
    KEY_EXISTS = "KeyExists"  # a named API key of that name exists
    AUTH_NOT_CONFIGURED = "AuthNotConfigured"
    RATE_LIMITED = "RateLimited"
    INVALID_IDEMPOTENCY_KEY = "InvalidIdempotencyKey"
    NOT_AWAITING_APPROVAL = "NotAwaitingApproval"
    ALREADY_EXECUTED = "AlreadyExecuted"
    WORKFLOW_CLOSED = "WorkflowClosed"
    JOB_CLOSED = "JobClosed"
    WORKFLOW_UNRESPONSIVE = "WorkflowUnresponsive"
    WORKER_UNAVAILABLE = "WorkerUnavailable"
    MCP_CATALOG_UNAVAILABLE = "McpCatalogUnavailable"
    TOO_MANY_STREAMS = "TooManyStreams"  # this gateway process serves STREAM_MAX_CONCURRENT streams already
    REQUEST_TIMEOUT = "RequestTimeout"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    HTTP_ERROR = "HttpError"


def app_error(
    kind: ErrorType,
    message: str,
    *,
    retryable: bool = False,
    details: object | None = None,
    next_retry_delay: timedelta | None = None,
):
    """Build the ApplicationError an activity raises. Imported lazily so pure-model users stay light.

    `next_retry_delay` lets a retryable error honour a peer's Retry-After instead of the policy's backoff.
    """
    from temporalio.exceptions import ApplicationError

    args = (details,) if details is not None else ()
    return ApplicationError(
        message, *args, type=str(kind), non_retryable=not retryable, next_retry_delay=next_retry_delay
    )
