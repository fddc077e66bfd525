"""What a peer sends back is scrubbed of our configured secrets before it goes anywhere.

Every activity that talks to a peer (n8n, an LLM, an MCP server, a callback receiver, an SSH host)
builds its `Scrubber` from the settings once, at start-up, and then:
- scrubs the peer's text where it reads it (error snippets, tool output, command output) and the result
  it returns, so nothing secret lands in the activity's result (Temporal history, the job document);
- runs its body inside `errors_scrubbed(scrub)`, so no exception message or details carry a secret into
  the failure Temporal records (history), the job's error body, or the worker's log line about it.

The matching itself (which values, which encodings, how fast) is `policies/redact.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from temporalio.exceptions import ApplicationError

from config import Settings
from config.agents import AgentRegistry, agent_api_keys
from policies.redact import Scrubber, scrubber, secret_values


def configured_secrets(
    settings: Settings, registry: AgentRegistry | None = None, extra: Iterable[str] = ()
) -> frozenset[str]:
    """Every secret of the configuration: the settings' own, the agents' API keys, and `extra`."""
    return secret_values(settings, [*agent_api_keys(settings, registry), *extra])


def peer_scrubber(settings: Settings, registry: AgentRegistry | None = None, extra: Iterable[str] = ()) -> Scrubber:
    return scrubber(configured_secrets(settings, registry, extra))


def scrubbed_error(err: BaseException, scrub: Scrubber, _depth: int = 0) -> BaseException:
    """`err` with its message, details and causes scrubbed; the same object when nothing had to change.

    An ApplicationError keeps its type and retry semantics. Any other exception whose text held a
    secret becomes an ApplicationError named after its class (retryable, as the original was).
    """
    if not scrub or _depth > 16:
        return err
    # The chain Temporal records: the explicit cause, else the implicit context unless suppressed.
    cause = err.__cause__ if err.__cause__ is not None else (None if err.__suppress_context__ else err.__context__)
    clean_cause = scrubbed_error(cause, scrub, _depth + 1) if cause is not None else None
    if isinstance(err, ApplicationError):
        message = scrub.text(err.message)
        details = tuple(scrub(d) for d in err.details)
        if message == err.message and details == tuple(err.details) and clean_cause is cause:
            return err
        clean: BaseException = ApplicationError(
            message,
            *details,
            type=err.type,
            non_retryable=err.non_retryable,
            next_retry_delay=err.next_retry_delay,
            category=err.category,
        )
    else:
        text = str(err)
        message = scrub.text(text)
        if message == text and clean_cause is cause:
            return err
        clean = ApplicationError(message, type=type(err).__name__)
    clean.__cause__ = clean_cause
    clean.__suppress_context__ = True
    return clean


@contextlib.contextmanager
def errors_scrubbed(scrub: Scrubber) -> Iterator[None]:
    """Re-raise any exception leaving the block with configured secrets scrubbed out of it."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - re-raised, only cleaned (cancellation is BaseException)
        clean = scrubbed_error(err, scrub)
        if clean is err:
            raise
        raise clean from clean.__cause__
