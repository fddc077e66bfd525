"""An activity's error quotes a secret: what leaves the activity says the same thing, keeps its type and
retry semantics, and has the secret scrubbed from its message, details and causes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.redaction import errors_scrubbed
from policies.redact import scrubber

SECRET = "peer-echoed-secret-42"
SCRUB = scrubber(frozenset({SECRET}))


def raised(err: BaseException) -> BaseException:
    with pytest.raises(BaseException) as caught, errors_scrubbed(SCRUB):
        raise err
    return caught.value


def test_an_application_error_keeps_its_type_and_retry_policy():
    original = ApplicationError(
        f"peer said {SECRET}",
        {"body": SECRET},
        type="UpstreamUnavailable",
        non_retryable=False,
        next_retry_delay=timedelta(seconds=3),
    )
    clean = raised(original)
    assert isinstance(clean, ApplicationError) and clean is not original
    assert (clean.message, clean.details) == ("peer said [redacted]", ({"body": "[redacted]"},))
    assert (clean.type, clean.non_retryable, clean.next_retry_delay) == (
        "UpstreamUnavailable",
        False,
        timedelta(seconds=3),
    )


def test_a_secret_in_a_cause_or_context_is_scrubbed_too():
    try:
        try:
            raise OSError(f"connect failed with token {SECRET}")
        except OSError as low:
            raise ApplicationError("cannot connect", type="UpstreamUnavailable") from low
    except ApplicationError as err:
        clean = raised(err)
    assert clean.message == "cannot connect" and clean.__cause__.message == "connect failed with token [redacted]"

    def implicit():
        try:
            raise ValueError(SECRET)
        except ValueError:
            raise ApplicationError("while handling", type="ToolError")  # noqa: B904 - the context is the point

    with pytest.raises(ApplicationError) as caught, errors_scrubbed(SCRUB):
        implicit()
    assert SECRET not in str(caught.value.__cause__) and caught.value.__suppress_context__


def test_errors_without_secrets_and_cancellation_pass_through_untouched():
    plain = ApplicationError("no secret here", type="ToolError", non_retryable=True)
    assert raised(plain) is plain
    other = KeyError("x")
    assert raised(other) is other
    with pytest.raises(BaseException) as caught, errors_scrubbed(SCRUB):
        raise KeyboardInterrupt(SECRET)  # not an Exception: never touched
    assert isinstance(caught.value, KeyboardInterrupt)


def test_any_other_exception_quoting_a_secret_becomes_a_retryable_application_error():
    clean = raised(RuntimeError(f"boom {SECRET}"))
    assert isinstance(clean, ApplicationError)
    assert (clean.message, clean.type, clean.non_retryable) == ("boom [redacted]", "RuntimeError", False)
