"""Keys change while the gateway runs: a revoked key stops working on its next request, a rotated key's
old secret stops and the new one works, an expired key is refused, and a broken keys file fails
closed for named keys while the bootstrap API_KEY still lets an operator in. No restart anywhere."""

from __future__ import annotations

from datetime import date, timedelta

from config.api_keys import add_key, load_keys, revoke_key
from worker.cli import main as cli


async def test_revoke_takes_effect_on_the_next_request(keyed):
    async with keyed.as_("acme-gpt") as gpt:
        assert (await gpt.get("/whoami")).json() == {
            "name": "acme-gpt",
            "role": "caller",
            "tenant": "acme",
            "rate": "100000/min",
        }
        revoke_key(keyed.path, "acme-gpt")
        gone = await gpt.get("/whoami")
        assert gone.status_code == 401 and gone.json()["error"]["message"] == "invalid bearer token"
        refused = await gpt.post("/orchestrate", json={"intent": "memory.search", "inputs": {"query": "x"}})
        assert refused.status_code == 401, "refused before the body is read, too"


async def test_rotate_swaps_the_secret_and_keeps_the_grants(keyed, monkeypatch, capsys):
    old = keyed.tokens["acme-lead"]
    monkeypatch.setenv("API_KEYS_FILE", str(keyed.path))
    from config import get_settings

    get_settings.cache_clear()
    try:
        assert cli(["keys", "rotate", "acme-lead"]) == 0
    finally:
        get_settings.cache_clear()
    new = capsys.readouterr().out.strip()
    keyed.tokens["old"], keyed.tokens["new"] = old, new
    async with keyed.as_("old") as stale, keyed.as_("new") as fresh:
        assert (await stale.get("/whoami")).status_code == 401
        me = await fresh.get("/whoami")
        assert me.status_code == 200 and me.json()["name"] == "acme-lead" and me.json()["role"] == "approver"


async def test_a_key_added_while_running_works_at_once_and_expired_keys_do_not(keyed):
    keyed.tokens["late"], _ = add_key(keyed.path, "late", "caller", tenant="acme")
    yesterday = date.today() - timedelta(days=2)
    keyed.tokens["stale"], _ = add_key(keyed.path, "stale", "caller", expires=yesterday)
    keyed.tokens["today"], _ = add_key(keyed.path, "today", "caller", expires=date.today() + timedelta(days=1))
    async with keyed.as_("late") as late, keyed.as_("stale") as stale, keyed.as_("today") as today:
        assert (await late.get("/whoami")).json()["name"] == "late"
        expired = await stale.get("/whoami")
        assert (
            expired.status_code == 401 and f"expired on {yesterday.isoformat()}" in expired.json()["error"]["message"]
        )
        assert (await today.get("/whoami")).status_code == 200


async def test_a_broken_keys_file_fails_closed_but_the_bootstrap_key_still_works(keyed):
    good = keyed.path.read_text()
    keyed.path.write_text(good.replace("role: caller", "role: superuser", 1))
    async with keyed.as_("acme-gpt") as gpt, keyed.as_("api-key") as admin:
        broken = await gpt.get("/whoami")
        assert broken.status_code == 503 and broken.json()["error"]["type"] == "Misconfigured"
        assert "API_KEYS_FILE" in broken.json()["error"]["message"] and "role" in broken.json()["error"]["message"]
        assert (await admin.get("/whoami")).json()["name"] == "api-key"
        keyed.path.write_text(good)
        assert (await gpt.get("/whoami")).status_code == 200


async def test_admins_manage_keys_over_http_with_the_same_rules(keyed):
    async with keyed.as_("acme-ops") as ops, keyed.as_("acme-gpt") as gpt:
        made = await ops.post("/keys", json={"name": "ci-bot", "role": "caller", "tenant": "acme", "rate": "10/min"})
        assert made.status_code == 201, made.text
        token = made.json()["key"]
        assert token.startswith("gpo_") and token not in keyed.path.read_text()
        listed = (await ops.get("/keys")).json()
        assert "ci-bot" in [k["name"] for k in listed] and all("key" not in k and "hash" not in k for k in listed)
        assert (await ops.post("/keys", json={"name": "ci-bot", "role": "caller"})).status_code == 409
        assert (await gpt.get("/keys")).status_code == 403
        keyed.tokens["ci-bot"] = token
        async with keyed.as_("ci-bot") as bot:
            assert (await bot.get("/whoami")).json()["rate"] == "10/min"
            assert (await ops.delete("/keys/ci-bot")).status_code == 200
            assert (await bot.get("/whoami")).status_code == 401
        assert (await ops.delete("/keys/ci-bot")).status_code == 404
    assert "ci-bot" not in load_keys(keyed.path).names()
