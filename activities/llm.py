"""agent.chat: one chat turn with a GPT agent, over an OpenAI-compatible API or the offline provider.

The `openai` provider speaks plain Chat Completions over httpx, so OpenAI, Ollama, vLLM and LiteLLM
all work. It asks for a streamed answer (`stream: true`, LLM_STREAM) and heartbeats the text so far,
which the gateway streams to watchers (activities/llm_stream.py); the result is the same whole answer.
Failures are classified for the activity retry policy: rate limits, 5xx, timeouts and
connection errors are retryable; 400/401/403/404 and broken answers are not (retrying cannot help).
The `offline` provider answers deterministically without network, labelled as offline, and streams its
reply out over LLM_OFFLINE_LATENCY_MS.
Whatever the API answers (error messages, completions) is scrubbed of our configured secrets, its own
key among them, before it reaches a result, an error, a heartbeat or a log line.

Every call's usage (the provider's, or an estimate offline) is priced from the prices file, counted in
the worker's metrics (by agent, model and tenant) and, with a daily token budget, checked before the
call and recorded after it (activities/budget.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from temporalio import activity

from activities.budget import TokenBudget
from activities.http_errors import status_failure, transport_failure
from activities.llm_stream import PartialReporter, beating, read_completion_stream
from activities.redaction import errors_scrubbed, peer_scrubber
from config.agents import Agent, AgentConfigError, AgentRegistry, Endpoint, resolve_endpoint
from config.api_keys import DEFAULT_TENANT
from config.errors import NotConfigured
from config.prices import OFFLINE_MODEL, PriceList, load_prices
from config.settings import Settings
from intents import usage as usage_
from intents.agents import CHAT_ACTIVITY, ChatRequest, ChatResult
from intents.errors import ErrorType, app_error
from intents.text import one_line
from intents.usage import Usage
from policies.redact import Scrubber

# A peer asking us to wait longer than this is treated as "retry with the policy's backoff".
MAX_RETRY_AFTER = timedelta(minutes=5)
_DETAIL_CHARS = 300
MAX_ERROR_BODY_BYTES = 65_536
MAX_JSON_ANSWER_BYTES = 8_000_000
OFFLINE_CHUNKS = 20  # an offline reply streams out in about this many pieces over LLM_OFFLINE_LATENCY_MS


class LlmActivities:
    """Holds the agent registry, the resolved endpoints and one shared HTTP client."""

    def __init__(
        self,
        settings: Settings,
        agents: AgentRegistry,
        *,
        prices: PriceList | None = None,
        budget: TokenBudget | None = None,
    ):
        self._settings = settings
        self._agents = agents
        self._prices = prices or load_prices(settings)  # a broken prices file stops the worker at start-up
        self._budget = budget or TokenBudget(settings)
        self._counters: dict[int, tuple[Any, Any, Any]] = {}
        # Resolve every agent now so a misconfigured one stops the worker at start-up, not mid-workflow.
        self._endpoints: dict[str, Endpoint] = {}
        for agent in agents:
            self._endpoints[agent.name] = resolve_endpoint(agent, settings)
        keys = [e.api_key.get_secret_value() for e in self._endpoints.values() if e.api_key is not None]
        self._scrub = peer_scrubber(settings, agents, extra=keys)
        self._http: httpx.AsyncClient | None = None

    def activities(self) -> list:
        return [self.chat]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @activity.defn(name=CHAT_ACTIVITY)
    async def chat(self, req: ChatRequest) -> ChatResult:
        try:
            agent = self._agents.get(req.agent)
        except NotConfigured as exc:
            raise app_error(ErrorType.UNKNOWN_AGENT, str(exc)) from None
        endpoint = self._endpoints.get(agent.name)
        if endpoint is None:  # registry and endpoints are built together; guard against drift anyway
            raise app_error(ErrorType.INTERNAL, f"agent {agent.name!r} has no resolved endpoint")
        tenant = req.tenant or DEFAULT_TENANT
        await self._budget.admit(tenant)  # BudgetExceeded before anything is sent: never a half-run step
        reporter = PartialReporter(agent=agent.name, step_id=req.step_id, scrub=self._scrub)
        if endpoint.provider == "offline":
            result = await self._offline_chat(agent, endpoint, req, reporter)
        else:
            with errors_scrubbed(self._scrub):
                result = await self._openai_chat(agent, endpoint, req, reporter)
        result = result.model_copy(update={"usage": self.price(result)})
        self._count(result, tenant)
        if activity.in_activity() and result.usage is not None:
            await self._budget.record(tenant, result.usage.total_tokens, activity.info().task_queue)
        return result

    def price(self, result: ChatResult) -> Usage:
        counted = result.usage or Usage()
        price = self._prices.for_model(OFFLINE_MODEL if result.offline else result.model)
        return usage_.priced(counted, price.input_per_1m, price.output_per_1m)

    def _count(self, result: ChatResult, tenant: str) -> None:
        """Prometheus counters on the worker's metrics endpoint (WORKER_METRICS_ADDRESS), by agent, model and tenant."""
        if not activity.in_activity() or result.usage is None:
            return
        meter = activity.metric_meter()
        counters = self._counters.get(id(meter))
        if counters is None:
            counters = (
                meter.create_counter(
                    "llm_tokens", "LLM tokens used, by agent, model, tenant and kind (prompt|completion).", "tokens"
                ),
                meter.create_counter(
                    "llm_cost_microdollars",
                    "Cost of LLM calls in millionths of a US dollar (PRICES_FILE).",
                    "microdollars",
                ),
                meter.create_counter("llm_calls", "LLM calls that answered, by agent, model and tenant.", "calls"),
            )
            self._counters[id(meter)] = counters
        tokens, cost, calls = counters
        labels = {"agent": result.agent, "model": result.model, "tenant": tenant}
        tokens.add(result.usage.prompt_tokens, labels | {"kind": "prompt"})
        tokens.add(result.usage.completion_tokens, labels | {"kind": "completion"})
        cost.add(round(result.usage.cost_usd * 1_000_000), labels)
        calls.add(1, labels)

    async def _offline_chat(
        self, agent: Agent, endpoint: Endpoint, req: ChatRequest, reporter: PartialReporter
    ) -> ChatResult:
        reply = offline_reply(agent, req)
        latency_s = self._settings.llm_offline_latency_ms / 1000

        async def stream_out() -> None:
            pieces = offline_pieces(reply)
            for piece in pieces:
                await asyncio.sleep(latency_s / len(pieces))
                reporter.add(piece)

        if latency_s:
            await beating(stream_out(), reporter)
        prompt = [m["content"] for m in chat_messages(agent, req)]
        return ChatResult(
            agent=agent.name,
            model=endpoint.model,
            provider="offline",
            content=reply,
            offline=True,
            usage=usage_.estimated(prompt, reply),
        )

    async def _openai_chat(
        self, agent: Agent, endpoint: Endpoint, req: ChatRequest, reporter: PartialReporter
    ) -> ChatResult:
        url = f"{endpoint.base_url}/chat/completions"
        where = _describe(url)
        secret = endpoint.api_key.get_secret_value() if endpoint.api_key is not None else None
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        body: dict[str, Any] = {"model": endpoint.model, "messages": chat_messages(agent, req)}
        if self._settings.llm_stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        timeout = httpx.Timeout(self._settings.llm_timeout_s, connect=min(10.0, self._settings.llm_timeout_s))

        started = time.monotonic()
        try:
            result, status = await beating(
                self._call(url, body, headers, timeout, agent, endpoint, where, reporter), reporter
            )
        except httpx.HTTPError as exc:
            raise transport_failure(exc, where, self._settings.llm_timeout_s) from None
        activity.logger.info(
            "agent.chat %s step=%s model=%s %s -> %s in %.0f ms",
            agent.name,
            req.step_id,
            endpoint.model,
            where,
            status,
            (time.monotonic() - started) * 1000,
        )
        return result

    async def _call(
        self, url: str, body: dict[str, Any], headers: dict[str, str], timeout: httpx.Timeout,
        agent: Agent, endpoint: Endpoint, where: str, reporter: PartialReporter,
    ) -> tuple[ChatResult, int]:  # fmt: skip
        async with self._client().stream("POST", url, json=body, headers=headers, timeout=timeout) as resp:
            if not 200 <= resp.status_code < 300:
                raw = await _read_bounded(resp, MAX_ERROR_BODY_BYTES)
                raise_for_status(_buffered(resp, raw), where=where, model=endpoint.model, scrub=self._scrub)
            if "text/event-stream" not in resp.headers.get("content-type", ""):
                # A server that ignored `stream` (or LLM_STREAM=false): one JSON completion.
                raw = await _read_bounded(resp, MAX_JSON_ANSWER_BYTES, where=where)
                return _parse_completion(
                    _buffered(resp, raw), agent=agent, endpoint=endpoint, where=where, scrub=self._scrub
                ), resp.status_code
            streamed = await read_completion_stream(resp.aiter_bytes(), where=where, on_text=reporter.add)
        if streamed.chunks == 0:
            raise app_error(
                ErrorType.UPSTREAM_PROTOCOL, f"{where} streamed no completion chunk (not Chat Completions?)"
            )
        return ChatResult(
            agent=agent.name,
            model=self._scrub.text(streamed.model or endpoint.model),
            provider="openai",
            content=self._scrub.text(streamed.content),
            offline=False,
            usage=usage_.from_provider(streamed.usage),
        ), resp.status_code

    def _client(self) -> httpx.AsyncClient:
        # Created lazily so it binds to the worker's event loop; reused for connection pooling.
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http


def chat_messages(agent: Agent, req: ChatRequest) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": agent.system_prompt}]
    if req.context:
        notes = "\n".join(f"- {item}" for item in req.context)
        messages.append({"role": "system", "content": f"Context you may use:\n{notes}"})
    messages.append({"role": "user", "content": req.message})
    return messages


def offline_pieces(reply: str) -> list[str]:
    """The offline reply in about OFFLINE_CHUNKS pieces, cut at spaces (joined, they are the reply)."""
    words = reply.split(" ")
    size = max(1, -(-len(words) // OFFLINE_CHUNKS))
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [g + (" " if i < len(groups) - 1 else "") for i, g in enumerate(groups)]


def offline_reply(agent: Agent, req: ChatRequest) -> str:
    """A readable, deterministic stand-in answer: same agent + message + context, same text."""
    digest = hashlib.sha256("\x1f".join([agent.name, req.message, *req.context]).encode()).hexdigest()[:8]
    lines = [
        f"[offline:{agent.name}] {agent.name} ({agent.category}) on: {one_line(req.message, 200)}",
        f"Role: {agent.description or 'general assistant'}",
    ]
    if req.context:
        shown = "; ".join(one_line(c, 80) for c in req.context[:3])
        more = f" (+{len(req.context) - 3} more)" if len(req.context) > 3 else ""
        lines.append(f"Context used: {shown}{more}")
    lines.append(f"(Deterministic offline reply {digest}; set LLM_BASE_URL to use a real model.)")
    return "\n".join(lines)


def raise_for_status(resp: httpx.Response, *, where: str, model: str, scrub: Scrubber) -> None:
    """Map an HTTP answer to the ApplicationError the retry policy should see (or return on 2xx).

    The shared peer policy (activities/http_errors.py), plus what Chat Completions APIs add: 404 means
    the model or endpoint is missing, a 429 for exhausted quota will not heal, Retry-After is honoured.
    """
    status = resp.status_code
    if 200 <= status < 300:
        return
    detail = _upstream_detail(resp, scrub)
    said = f"{where} answered {status}" + (f": {detail}" if detail else "")
    if status == 404:
        raise app_error(ErrorType.NOT_FOUND, f"{said} (is model {model!r} available and the base URL right?)")
    if status == 429 and _upstream_code(resp) == "insufficient_quota":
        raise app_error(ErrorType.UPSTREAM_BAD_REQUEST, f"{said} (quota exhausted; retrying will not help)")
    failure = status_failure(status, where, detail=detail, auth_hint=" (check LLM_API_KEY or the agent's api_key_env)")
    if not failure.non_retryable and (delay := retry_after(resp)) is not None:
        raise app_error(ErrorType.UPSTREAM_UNAVAILABLE, failure.message, retryable=True, next_retry_delay=delay)
    raise failure


def retry_after(resp: httpx.Response) -> timedelta | None:
    """The peer's requested wait (`retry-after-ms` or `Retry-After` seconds/HTTP date), if sane."""
    delay: timedelta | None = None
    try:
        if (ms := resp.headers.get("retry-after-ms")) is not None:
            delay = timedelta(milliseconds=float(ms))
        elif (value := resp.headers.get("retry-after")) is not None:
            if value.strip().replace(".", "", 1).isdigit():
                delay = timedelta(seconds=float(value))
            else:
                delay = parsedate_to_datetime(value) - datetime.now(timezone.utc)
    except (ValueError, TypeError, OverflowError):
        return None
    if delay is None or delay <= timedelta(0) or delay > MAX_RETRY_AFTER:
        return None
    return delay


def _parse_completion(
    resp: httpx.Response, *, agent: Agent, endpoint: Endpoint, where: str, scrub: Scrubber
) -> ChatResult:
    try:
        data = resp.json()
    except ValueError:
        raise app_error(
            ErrorType.UPSTREAM_PROTOCOL, f"{where} answered {resp.status_code} with a body that is not JSON"
        ) from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise app_error(
            ErrorType.UPSTREAM_PROTOCOL, f"{where} answered without choices[0].message.content (not Chat Completions?)"
        )
    return ChatResult(
        agent=agent.name,
        model=scrub.text(str(data.get("model") or endpoint.model)),
        provider="openai",
        content=scrub.text(content),
        offline=False,
        usage=usage_.from_provider(data.get("usage")),
    )


async def _read_bounded(resp: httpx.Response, limit: int, *, where: str | None = None) -> bytes:
    """The body, at most `limit` bytes: an error body is cut there; an answer (where=...) that is longer fails."""
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            if where is not None:
                raise app_error(ErrorType.UPSTREAM_PROTOCOL, f"{where} answered with more than {limit} bytes")
            break
    return b"".join(parts)[:limit]


def _buffered(resp: httpx.Response, raw: bytes) -> httpx.Response:
    """A read-back copy of a streamed response, for the parsers that take a whole response."""
    headers = [
        (k, v)
        for k, v in resp.headers.items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(resp.status_code, headers=headers, content=raw, request=resp.request)


def _upstream_json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _upstream_code(resp: httpx.Response) -> str | None:
    data = _upstream_json(resp)
    error = data.get("error") if isinstance(data, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _upstream_detail(resp: httpx.Response, scrub: Scrubber) -> str:
    """The peer's own error message (OpenAI-style `error.message`), short, scrubbed before it is cut."""
    data = _upstream_json(resp)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
    elif isinstance(error, str):
        text = error
    else:
        text = resp.text
    return one_line(scrub.text(text), _DETAIL_CHARS)


def _describe(url: str) -> str:
    """`LLM API at host:port` — never the path's query or any userinfo."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"LLM API at {parsed.host}{port}"


__all__ = [
    "AgentConfigError",
    "LlmActivities",
    "chat_messages",
    "offline_pieces",
    "offline_reply",
    "raise_for_status",
    "retry_after",
]
