"""Per-key rate limits: a token bucket per key name, and the IETF RateLimit headers.

A key's `rate` (`120/min`) is a bucket of 120 requests that refills evenly (2 a second). A request
takes one token; with none left the answer is 429 `RateLimited` with `Retry-After` (seconds until a
token is back). Every answer to a limited key carries the two fields of
draft-ietf-httpapi-ratelimit-headers (structured fields, one policy named "key"):

    RateLimit-Policy: "key";q=120;w=60     the quota: 120 requests per 60-second window
    RateLimit: "key";r=37;t=42             37 left; the bucket is full again in 42 s

The buckets live in the gateway process: N gateways behind a load balancer allow up to N times a
key's rate (give each key rate/N, or limit at the balancer). The bootstrap API_KEY is unlimited
unless API_KEY_RATE sets its bucket.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.api_keys import Rate

POLICY = "key"
# Where a request's headers wait for its response (scope["state"] is shared with request.state).
STATE_KEY = "ratelimit_headers"


@dataclass
class _Bucket:
    rate: Rate
    tokens: float
    at: float


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    reset_s: int  # until the bucket is full again
    retry_after_s: int  # until the next request would be allowed (0 when it is now)
    rate: Rate

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Policy": f'"{POLICY}";q={self.rate.limit};w={self.rate.period_s}',
            "RateLimit": f'"{POLICY}";r={self.remaining};t={self.reset_s}',
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after_s)
        return out


class RateLimiter:
    """Token buckets by key name. A key whose rate changes (edited file) starts a full bucket at the new rate."""

    def __init__(self, clock=time.monotonic) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._clock = clock

    def take(self, name: str, rate: Rate) -> Verdict:
        now = self._clock()
        bucket = self._buckets.get(name)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[name] = _Bucket(rate=rate, tokens=float(rate.limit), at=now)
        bucket.tokens = min(float(rate.limit), bucket.tokens + (now - bucket.at) * rate.per_second)
        bucket.at = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        return Verdict(
            allowed=allowed,
            remaining=int(bucket.tokens),
            reset_s=_seconds(rate, rate.limit - bucket.tokens),
            retry_after_s=0 if allowed else max(1, _seconds(rate, 1.0 - bucket.tokens)),
            rate=rate,
        )

    def forget(self, keep: set[str]) -> None:
        """Drop the buckets of names no longer in use (revoked keys)."""
        for name in [n for n in self._buckets if n not in keep]:
            del self._buckets[name]


def _seconds(rate: Rate, missing_tokens: float) -> int:
    return 0 if missing_tokens <= 1e-9 else math.ceil(missing_tokens / rate.per_second)


class RateLimitHeaders:
    """ASGI middleware: put the RateLimit fields the auth dependency computed on the response, whatever
    produced it (a route, an error handler, the body guard)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and (extra := state.get(STATE_KEY)):
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [
                    (k.lower().encode(), v.encode()) for k, v in extra.items() if k.lower().encode() not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
