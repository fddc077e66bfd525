"""A chat's text as it is written: reading a streamed Chat Completions answer, and telling Temporal.

`read_completion_stream` reads an OpenAI-compatible `stream: true` answer (Server-Sent Events of
`chat.completion.chunk` objects, `data: [DONE]` at the end, `usage` in the last chunk when asked with
`stream_options.include_usage`) with a bounded reader: a line, the whole answer and the wait for each
chunk all have limits, so a peer that never ends a line or never stops cannot exhaust the worker.

`PartialReporter` heartbeats the text so far (its end, scrubbed of configured secrets, as
`PartialOutput` details) at most every BEAT_S seconds and from BEAT_S on, so a call shorter than that
sends no extra RPC. The gateway reads those details from `describe()` and streams them as `output`
events. Heartbeats are also what keeps the activity alive and cancellable while nothing arrives.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio import activity

from activities.heartbeat import with_heartbeats
from intents.agents import PARTIAL_TAIL_CHARS, PartialOutput
from intents.errors import ErrorType, app_error
from policies.redact import Scrubber

T = TypeVar("T")

BEAT_S = 0.3  # how often partial text reaches Temporal (the worker's heartbeat throttle is set to match)
KEEPALIVE_S = 1.0  # a beat at least this often while waiting for the peer
MAX_LINE_BYTES = 1_000_000
MAX_ANSWER_CHARS = 1_000_000


class PartialReporter:
    def __init__(
        self, *, agent: str, step_id: str | None, scrub: Scrubber, clock: Callable[[], float] = time.monotonic
    ):
        self._agent, self._step_id, self._scrub, self._clock = agent, step_id, scrub, clock
        self._parts: list[str] = []
        self._started = clock()
        self._last_beat = self._started
        self._beaten_chars = -1
        # The end of the text is held back by the longest secret form: a secret still being written is
        # never shown half-done (scrubbing can only replace it once it is complete).
        self._hold = max((len(form) for form in scrub.forms), default=0) if scrub else 0
        self._base, self.attempt = 0, 1
        if activity.in_activity():
            info = activity.info()
            self.attempt = info.attempt
            previous = info.heartbeat_details[0] if info.heartbeat_details else None
            if isinstance(previous, dict) and isinstance(previous.get("chars"), int):
                self._base = previous["chars"]  # a retry continues the count, so watchers' offsets stay valid

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, chunk: str) -> None:
        if chunk:
            self._parts.append(chunk)
            self.beat(force=False)

    def details(self) -> PartialOutput:
        visible = self._scrub.text(self.text) if self._scrub else self.text
        if self._hold:
            visible = visible[: max(len(visible) - self._hold, 0)]
        return PartialOutput(
            step_id=self._step_id, agent=self._agent, attempt=self.attempt, chars=self._base + len(visible),
            tail=visible[-PARTIAL_TAIL_CHARS:],
        )  # fmt: skip

    def beat(self, *, force: bool) -> None:
        """Heartbeat the text so far: when new text came and BEAT_S passed, or (force) as a keep-alive."""
        if not activity.in_activity():
            return
        now = self._clock()
        if now - self._started < BEAT_S or (not force and now - self._last_beat < BEAT_S):
            return
        details = self.details()
        if not force and details.chars == self._beaten_chars:
            return
        self._last_beat, self._beaten_chars = now, details.chars
        activity.heartbeat(details.model_dump(mode="json"))


async def beating(awaitable: Awaitable[T], reporter: PartialReporter) -> T:
    """Await `awaitable`, heartbeating the reporter's text at least every KEEPALIVE_S (cancellation arrives
    through heartbeats); cancelling it, and waiting for it, when the activity is cancelled."""
    return await with_heartbeats(awaitable, every_s=KEEPALIVE_S, beat=lambda: reporter.beat(force=True))


@dataclass
class StreamedCompletion:
    content: str = ""
    model: str | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    chunks: int = 0
    parts: list[str] = field(default_factory=list)


async def sse_data(lines: AsyncIterator[bytes], where: str) -> AsyncIterator[str]:
    """The `data` of each Server-Sent Event (multi-line data joined by newlines); comments and other fields
    are skipped. Lines are bounded by MAX_LINE_BYTES."""
    data: list[str] = []
    async for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


async def bounded_lines(chunks: AsyncIterator[bytes], where: str) -> AsyncIterator[bytes]:
    """Split a byte stream into lines (LF, CRLF), refusing a line longer than MAX_LINE_BYTES."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            yield buffer[:end]
            buffer = buffer[end + 1 :]
        if len(buffer) > MAX_LINE_BYTES:
            raise app_error(
                ErrorType.UPSTREAM_PROTOCOL, f"{where} sent a stream line longer than {MAX_LINE_BYTES} bytes"
            )
    if buffer:
        yield buffer


async def read_completion_stream(
    chunks: AsyncIterator[bytes], *, where: str, on_text: Callable[[str], None]
) -> StreamedCompletion:
    """Read a streamed Chat Completions answer; `on_text` sees each piece of content as it arrives."""
    out = StreamedCompletion()
    size = 0
    async for data in sse_data(bounded_lines(chunks, where), where):
        if data.strip() == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            raise app_error(ErrorType.UPSTREAM_PROTOCOL, f"{where} streamed an event that is not JSON") from None
        if not isinstance(chunk, dict):
            raise app_error(ErrorType.UPSTREAM_PROTOCOL, f"{where} streamed an event that is not a JSON object")
        if "error" in chunk:  # an error after the answer began: the call failed, the attempt may be retried
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE, f"{where} failed while streaming: {str(message)[:300]}", retryable=True
            )
        out.chunks += 1
        out.model = chunk.get("model") if isinstance(chunk.get("model"), str) else out.model
        if isinstance(chunk.get("usage"), dict):
            out.usage = chunk["usage"]
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            choice = choices[0]
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(piece, str) and piece:
                size += len(piece)
                if size > MAX_ANSWER_CHARS:
                    raise app_error(
                        ErrorType.UPSTREAM_PROTOCOL,
                        f"{where} streamed an answer longer than {MAX_ANSWER_CHARS} characters",
                    )
                out.parts.append(piece)
                on_text(piece)
            if isinstance(choice.get("finish_reason"), str):
                out.finish_reason = choice["finish_reason"]
    out.content = "".join(out.parts)
    return out
