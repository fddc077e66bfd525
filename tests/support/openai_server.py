"""A small OpenAI-compatible Chat Completions server on loopback, scriptable per request.

By default it answers every `POST /v1/chat/completions` with `echo: <last user message>`. Tests script
misbehaviour two ways: `server.script(Reply(429), Reply(content="ok"))` queues one reply per coming
request; `server.on_model("missing", Reply(404))` answers every request for that model. Every request
is recorded (headers, JSON body) so tests can check what was sent. With `api_key` set, a request
without `Authorization: Bearer <api_key>` gets a 401 that, like some real APIs, echoes the key sent.

A request with `"stream": true` is answered as OpenAI does: Server-Sent Events, one
`chat.completion.chunk` per word (`Reply.chunk_delay_s` apart), the usage in a last chunk with empty
`choices` when `stream_options.include_usage` asks for it, then `data: [DONE]`. `Reply(stream=False)`
answers such a request with plain JSON anyway, as servers that cannot stream do.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.asgi_server import BackgroundServer


@dataclass
class Reply:
    """One scripted answer. Non-2xx statuses get an OpenAI-style `{"error": {...}}` body."""

    status: int = 200
    content: str | None = None  # None: echo the last user message
    delay_s: float = 0
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # sent verbatim instead of JSON (e.g. to break the contract)
    error_message: str | None = None
    error_code: str | None = None
    stream: bool | None = None  # None: stream when the request asks to; False: answer JSON anyway
    chunk_delay_s: float = 0  # between streamed chunks
    usage: dict[str, int] | None = None  # reported usage (default: 10 prompt tokens, one token per word)
    fail_after_chunks: int | None = None  # streamed: send an error event after this many chunks


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


class OpenAIServer:
    def __init__(self, *, api_key: str | None = None):
        self.api_key = api_key
        self._lock = threading.Lock()
        self._queue: list[Reply] = []
        self._by_model: dict[str, Reply] = {}
        self.requests: list[RecordedRequest] = []
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        self._server = BackgroundServer(app)

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/v1"

    def start(self) -> OpenAIServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def on_model(self, model: str, reply: Reply) -> None:
        with self._lock:
            self._by_model[model] = reply

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._by_model.clear()
            self.requests.clear()

    def _next_reply(self, model: str | None) -> Reply:
        with self._lock:
            if model in self._by_model:
                return self._by_model[model]
            return self._queue.pop(0) if self._queue else Reply()

    async def _chat(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body))
        if self.api_key is not None:
            sent = request.headers.get("authorization", "")
            if sent != f"Bearer {self.api_key}":
                echoed = sent.removeprefix("Bearer ") or "(none)"
                return _error(401, f"Incorrect API key provided: {echoed}", "invalid_api_key", {})
        model = body.get("model") if isinstance(body, dict) else None
        reply = self._next_reply(model)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            return Response(
                reply.raw_body, status_code=reply.status, headers=reply.headers, media_type="application/json"
            )
        if reply.status >= 300:
            message = reply.error_message or f"scripted {reply.status}"
            return _error(reply.status, message, reply.error_code, reply.headers)
        content = reply.content if reply.content is not None else f"echo: {_last_user_message(body)}"
        usage = reply.usage or _usage(content)
        if isinstance(body, dict) and body.get("stream") and reply.stream is not False:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                _chunks(model or "unknown", content, usage if include_usage else None, reply),
                media_type="text/event-stream", headers=reply.headers,
            )  # fmt: skip
        return JSONResponse(_completion(model or "unknown", content, usage), headers=reply.headers)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _last_user_message(body: Any) -> str:
    messages = body.get("messages", []) if isinstance(body, dict) else []
    users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return users[-1] if users else ""


def _usage(content: str) -> dict[str, int]:
    return {"prompt_tokens": 10, "completion_tokens": len(content.split()), "total_tokens": 10 + len(content.split())}


def _completion(model: str, content: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": usage,
    }


def _event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


async def _chunks(model: str, content: str, usage: dict[str, int] | None, reply: Reply):
    base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": model}
    yield _event(
        base | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    )
    words = content.split(" ")
    for i, word in enumerate(words):
        if reply.chunk_delay_s:
            await asyncio.sleep(reply.chunk_delay_s)
        if reply.fail_after_chunks is not None and i >= reply.fail_after_chunks:
            yield _event({"error": {"message": "scripted failure mid-stream", "type": "server_error"}})
            return
        piece = word if i == 0 else " " + word
        yield _event(base | {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    yield _event(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        yield _event(base | {"choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"


def _error(status: int, message: str, code: str | None, headers: dict[str, str]) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
