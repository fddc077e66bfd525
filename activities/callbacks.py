"""callback.deliver: POST the final job document to the caller's callback_url, signed, SSRF-checked.

The URL was checked when the request came in; it is checked again here (defence in depth), its
name is resolved and every address checked, and the connection goes to a checked address, so DNS
cannot be re-pointed at an internal host in between. The signature scheme is in intents/callbacks.py.

Retries: timeouts, connection errors, DNS failures, 408/429/5xx are retryable; a refused URL,
3xx (redirects are not followed: they could lead anywhere) and other 4xx are not.
A failing receiver's body is quoted in the error (it says why), scrubbed of our configured secrets.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timezone

import httpx
from temporalio import activity

from activities.http_errors import body_snippet, status_failure, transport_failure
from activities.redaction import errors_scrubbed, peer_scrubber
from config import Settings
from intents.callbacks import (
    ATTEMPT_HEADER,
    CALLBACK_ACTIVITY,
    CallbackDelivery,
    CallbackReceipt,
    callback_body,
    signed_headers,
)
from intents.errors import ErrorType, app_error
from policies.refusal import Refusal
from policies.url import CallbackTarget, IPAddress, check_callback_url, check_resolved

USER_AGENT = "gpt-orchestrator-callback/1"
MAX_PINNED_ADDRESSES = 3


def host_header(target: CallbackTarget) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def pinned_request(target: CallbackTarget, ip: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL, extra headers and httpx extensions to reach `target` at exactly `ip` (TLS still checks the name)."""
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    url = f"{target.scheme}://{literal}:{target.port}{target.path_and_query}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return url, {"Host": host_header(target)}, extensions


class CallbackActivities:
    def __init__(self, settings: Settings):
        self._settings = settings
        self._scrub = peer_scrubber(settings)

    def activities(self) -> list:
        return [self.deliver]

    async def _addresses(self, target: CallbackTarget) -> list[IPAddress] | None:
        """Checked addresses to pin to; None when the URL may be used as it is (IP literal, allowlisted)."""
        if target.literal_ip is not None or target.allowlisted:
            return None
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except OSError as err:
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE, f"cannot resolve callback host {target.host}: {err}", retryable=True
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        try:
            return check_resolved(target, addresses)
        except Refusal as err:
            raise app_error(ErrorType.CALLBACK_URL_REJECTED, str(err)) from None

    async def _post(
        self, client: httpx.AsyncClient, url: str, target: CallbackTarget, pins, body: bytes, headers
    ) -> httpx.Response:
        if pins is None:
            return await client.post(url, content=body, headers=headers)
        last: httpx.TransportError | None = None
        for ip in pins[:MAX_PINNED_ADDRESSES]:
            pinned_url, extra, extensions = pinned_request(target, ip)
            try:
                return await client.post(pinned_url, content=body, headers=headers | extra, extensions=extensions)
            except httpx.ConnectError as err:  # try the host's next address, as a resolver-driven client would
                last = err
        assert last is not None  # pins is never empty: the policy refused a host with no address
        raise last

    @activity.defn(name=CALLBACK_ACTIVITY)
    async def deliver(self, req: CallbackDelivery) -> CallbackReceipt:
        with errors_scrubbed(self._scrub):
            return await self._deliver(req)

    async def _deliver(self, req: CallbackDelivery) -> CallbackReceipt:
        try:
            target = check_callback_url(req.url, self._settings)
        except Refusal as err:
            raise app_error(ErrorType.CALLBACK_URL_REJECTED, str(err)) from None
        secret = self._settings.callback_secret
        if secret is None:  # the gateway refuses callback_url while unset; a worker configured otherwise says so
            raise app_error(
                ErrorType.MISCONFIGURED, "CALLBACK_SECRET is unset on the worker: callbacks cannot be signed"
            )
        pins = await self._addresses(target)
        info = activity.info()
        job_id = str(req.job.get("job_id") or info.workflow_id)
        body = callback_body(req.job)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            ATTEMPT_HEADER: str(info.attempt),
            **signed_headers(secret, job_id, body),
        }
        try:
            async with httpx.AsyncClient(timeout=self._settings.callback_timeout_s, follow_redirects=False) as client:
                response = await self._post(client, req.url, target, pins, body, headers)
        except httpx.HTTPError as err:
            raise transport_failure(err, f"callback to {target.host}", self._settings.callback_timeout_s) from None
        detail = body_snippet(response, self._scrub) if response.content else ""
        failure = status_failure(
            response.status_code, f"callback receiver {target.host}", detail=detail, auth_hint="; check its secret"
        )
        if failure is not None:
            raise failure
        return CallbackReceipt(
            status_code=response.status_code,
            attempt=info.attempt,
            delivered_at=datetime.now(timezone.utc),
            host=target.host,
        )
