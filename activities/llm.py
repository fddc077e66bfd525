"""agent.chat: one chat turn with a GPT agent, over an OpenAI-compatible API or the offline provider.

The `openai` provider speaks plain Chat Completions over httpx, so OpenAI, Ollama, vLLM and LiteLLM
all work. Failures are classified for the activity retry policy: rate limits, 5xx, timeouts and
connection errors are retryable; 400/401/403/404 and broken answers are not (retrying cannot help).
The `offline` provider answers deterministically without network, labelled as offline.
Whatever the API answers (error messages, completions) is scrubbed of our configured secrets, its own
key among them, before it reaches a result, an error or a log line.
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

from activities.heartbeat import with_heartbeats
from activities.http_errors import status_failure, transport_failure
from activities.redaction import errors_scrubbed, peer_scrubber
from config.agents import Agent, AgentConfigError, AgentRegistry, Endpoint, resolve_endpoint
from config.errors import NotConfigured
from config.settings import Settings
from intents.agents import CHAT_ACTIVITY, ChatRequest, ChatResult
from intents.errors import ErrorType, app_error
from intents.text import one_line
from policies.redact import Scrubber

# A peer asking us to wait longer than this is treated as "retry with the policy's backoff".
MAX_RETRY_AFTER = timedelta(minutes=5)
_DETAIL_CHARS = 300


class LlmActivities:
    """Holds the agent registry, the resolved endpoints and one shared HTTP client."""

    def __init__(self, settings: Settings, agents: AgentRegistry):
        self._settings = settings
        self._agents = agents
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
        if endpoint.provider == "offline":
            return await self._offline_chat(agent, endpoint, req)
        with errors_scrubbed(self._scrub):
            return await self._openai_chat(agent, endpoint, req)

    async def _offline_chat(self, agent: Agent, endpoint: Endpoint, req: ChatRequest) -> ChatResult:
        latency_s = self._settings.llm_offline_latency_ms / 1000
        if latency_s:
            await with_heartbeats(asyncio.sleep(latency_s))
        return ChatResult(
            agent=agent.name,
            model=endpoint.model,
            provider="offline",
            content=offline_reply(agent, req),
            offline=True,
        )

    async def _openai_chat(self, agent: Agent, endpoint: Endpoint, req: ChatRequest) -> ChatResult:
        url = f"{endpoint.base_url}/chat/completions"
        where = _describe(url)
        secret = endpoint.api_key.get_secret_value() if endpoint.api_key is not None else None
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        body = {"model": endpoint.model, "messages": chat_messages(agent, req)}
        timeout = httpx.Timeout(self._settings.llm_timeout_s, connect=min(10.0, self._settings.llm_timeout_s))

        started = time.monotonic()
        try:
            resp = await with_heartbeats(self._client().post(url, json=body, headers=headers, timeout=timeout))
        except httpx.HTTPError as exc:
            raise transport_failure(exc, where, self._settings.llm_timeout_s) from None
        activity.logger.info(
            "agent.chat %s step=%s model=%s %s -> %s in %.0f ms",
            agent.name, req.step_id, endpoint.model, where, resp.status_code, (time.monotonic() - started) * 1000,
        )
        raise_for_status(resp, where=where, model=endpoint.model, scrub=self._scrub)
        return _parse_completion(resp, agent=agent, endpoint=endpoint, where=where, scrub=self._scrub)

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


def offline_reply(agent: Agent, req: ChatRequest) -> str:
    """A readable, deterministic stand-in answer: same agent + message + context, same text."""
    digest = hashlib.sha256(
        "\x1f".join([agent.name, req.message, *req.context]).encode()
    ).hexdigest()[:8]
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


def _parse_completion(resp: httpx.Response, *, agent: Agent, endpoint: Endpoint, where: str, scrub: Scrubber) -> ChatResult:
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
    usage = data.get("usage")
    return ChatResult(
        agent=agent.name,
        model=scrub.text(str(data.get("model") or endpoint.model)),
        provider="openai",
        content=scrub.text(content),
        offline=False,
        usage=scrub(usage) if isinstance(usage, dict) else None,
    )


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


__all__ = ["AgentConfigError", "LlmActivities", "chat_messages", "offline_reply", "raise_for_status", "retry_after"]
