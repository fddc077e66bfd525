"""Which exceptions raised in workflow code fail the workflow (typed) instead of its workflow task.

Temporal's default for any other exception is to fail the workflow *task* and retry it forever: a
job that bad data can never finish, cannot be cancelled and wedges every repeat. Exceptions that bad
data raises (pydantic's ValidationError and ExpressionError are ValueErrors; too-deep values raise
RecursionError) fail the run instead, with the exception's class name as the error type.

Non-determinism (temporalio.workflow.NondeterminismError, a TemporalError) is deliberately not here:
that is a code/deploy problem and retrying the task after a fixed deploy is the right outcome.
"""

from __future__ import annotations

DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)
