"""Each key has a token bucket: past it, 429 with Retry-After and the IETF RateLimit-Policy / RateLimit
fields (draft-ietf-httpapi-ratelimit-headers); every answer to a limited key carries the fields."""

from __future__ import annotations

import asyncio
import re

from config.api_keys import Rate, add_key
from gateway.ratelimit import RateLimiter
from tests.auth.conftest import keyed_gateway

FIELD = re.compile(r'^"key";r=(\d+);t=(\d+)$')


async def test_past_its_rate_a_key_hears_429_with_the_headers(keyed):
    keyed.tokens["slow"], _ = add_key(keyed.path, "slow", "caller", tenant="acme", rate="3/min")
    async with keyed.as_("slow") as http:
        answers = [await http.get("/whoami") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [FIELD.match(a.headers["RateLimit"]).group(1) for a in answers] == ["2", "1", "0"]
        assert all(a.headers["RateLimit-Policy"] == '"key";q=3;w=60' for a in answers)

        limited = await http.get("/whoami")
        assert limited.status_code == 429
        assert limited.json()["error"]["type"] == "RateLimited" and "3/min" in limited.json()["error"]["message"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 20  # one token comes back every 20 s
        assert limited.headers["RateLimit-Policy"] == '"key";q=3;w=60'
        remaining, reset = FIELD.match(limited.headers["RateLimit"]).groups()
        assert remaining == "0" and 40 <= int(reset) <= 60

        # Before the body is read, on every route: a body-carrying request is refused the same way.
        posted = await http.post("/orchestrate", json={"intent": "memory.search", "inputs": {"query": "x"}})
        assert posted.status_code == 429 and "Retry-After" in posted.headers and "RateLimit" in posted.headers
    async with keyed.as_("acme-gpt") as other:
        assert (await other.get("/whoami")).status_code == 200, "buckets are per key"


async def test_the_bucket_refills_at_its_rate(keyed):
    keyed.tokens["burst"], _ = add_key(keyed.path, "burst", "caller", rate="2/s")
    async with keyed.as_("burst") as http:
        assert [(await http.get("/whoami")).status_code for _ in range(3)] == [200, 200, 429]
        await asyncio.sleep(0.6)
        assert (await http.get("/whoami")).status_code == 200


async def test_the_bootstrap_key_is_unlimited_unless_api_key_rate_sets_it(keyed):
    async with keyed.as_("api-key") as admin:
        resp = await admin.get("/whoami")
        assert resp.status_code == 200 and "RateLimit" not in resp.headers and resp.json()["rate"] is None


def test_a_token_bucket_on_a_fake_clock():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    rate = Rate.parse("60/min")
    verdicts = [limiter.take("k", rate) for _ in range(61)]
    assert all(v.allowed for v in verdicts[:60]) and not verdicts[60].allowed
    assert verdicts[60].retry_after_s == 1 and verdicts[60].reset_s == 60
    now[0] = 30.0
    half = limiter.take("k", rate)
    assert half.allowed and half.remaining == 29
    assert limiter.take("k", Rate.parse("5/min")).remaining == 4, "a changed rate starts a full bucket"


async def test_api_key_rate_gives_the_bootstrap_key_a_bucket_too(client, settings, worker, tmp_path):
    async with keyed_gateway(client, settings, tmp_path / "keys.yaml", api_key_rate="2/min") as keyed:
        async with keyed.as_("api-key") as admin:
            answers = [await admin.get("/whoami") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"] == '"key";q=2;w=60' and answers[0].json()["rate"] == "2/min"
