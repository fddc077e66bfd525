"""A peer echoes one of our secrets back, in any simple disguise: the scrubber replaces it, and leaves
the rest of the text (and short, common words) alone, fast enough to run on every response."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

from config import Settings
from config.mcp_servers import McpServerConfig
from policies.redact import REDACTED, is_secret_key, redact_keys, scrub, scrubber, secret_values

SECRET = "n8n-s3cret/with+odd=chars"
SECRETS = frozenset({SECRET})


def test_the_secret_itself_is_replaced_wherever_it_appears():
    said = f"403 Forbidden: header X-Orchestrator-Secret={SECRET} does not match"
    assert scrub(said, SECRETS) == f"403 Forbidden: header X-Orchestrator-Secret={REDACTED} does not match"


def test_a_bearer_header_echoed_back_loses_its_credential():
    assert scrub(f"got Authorization: Bearer {SECRET}", SECRETS) == f"got Authorization: Bearer {REDACTED}"


def test_url_encoded_echoes_are_replaced_in_upper_and_lower_case_hex():
    for echoed in (quote(SECRET, safe=""), quote(SECRET, safe="").lower(), quote(SECRET), quote_plus(SECRET)):
        assert echoed != SECRET
        assert scrub(f"GET /hook?secret={echoed}&x=1", SECRETS) == f"GET /hook?secret={REDACTED}&x=1", echoed


def test_base64_echoes_are_replaced_alone_and_inside_basic_auth():
    alone = base64.b64encode(SECRET.encode()).decode()
    assert scrub(f"token={alone};", SECRETS) == f"token={REDACTED};"
    url_safe = base64.urlsafe_b64encode(SECRET.encode()).decode()
    assert SECRET not in scrub(url_safe, SECRETS) and scrub(url_safe, SECRETS).count(REDACTED) == 1
    for user in ("a", "ab", "abc", "orchestrator"):  # every byte offset inside a longer base64 string
        basic = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
        cleaned = scrub(f"Authorization: Basic {basic}", SECRETS)
        assert REDACTED in cleaned, user
        leftover = cleaned.replace(REDACTED, "").split()[-1]
        assert len(leftover) < len(basic) // 2, (user, cleaned)


def test_a_json_escaped_secret_is_replaced_too():
    quoted = 'abc"def\\ghi'
    body = json.dumps({"error": f"bad key {quoted}"})
    assert quoted not in json.loads(scrub(body, {quoted}))["error"]
    assert json.loads(scrub(body, {quoted})) == {"error": f"bad key {REDACTED}"}


def test_nested_json_values_are_scrubbed_keys_and_all():
    echoed = {
        "ok": False,
        "error": {"message": f"secret was {SECRET}", "tries": [1, SECRET, {"again": f"x{SECRET}x"}]},
        SECRET: ("tuple", SECRET),
        "count": 3,
        "flag": None,
    }
    cleaned = scrub(echoed, SECRETS)
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["error"] == {"message": f"secret was {REDACTED}", "tries": [1, REDACTED, {"again": f"x{REDACTED}x"}]}
    assert cleaned[REDACTED] == ("tuple", REDACTED) and cleaned["count"] == 3 and cleaned["flag"] is None


def test_short_secrets_are_left_alone_so_common_words_survive():
    # A five-letter "secret" like `admin` would rewrite every admin in every answer and hide nothing.
    assert scrub("the admin said dev is fine", {"admin", "dev"}) == "the admin said dev is fine"
    assert secret_values(Settings(api_key=SecretStr("admin"), callback_secret=SecretStr("longer-secret"))) == {
        "longer-secret"
    }


def test_text_without_secrets_is_returned_unchanged_and_no_secrets_means_no_work():
    text = "nothing to see here"
    assert scrub(text, SECRETS) is text
    assert scrub({"a": [text]}, frozenset()) == {"a": [text]}


def test_a_secret_inside_another_is_replaced_whole():
    assert scrub("key=abcdef-123456 and abcdef", {"abcdef", "abcdef-123456"}) == f"key={REDACTED} and {REDACTED}"


def test_a_megabyte_of_peer_output_is_scrubbed_in_linear_time():
    secrets = frozenset(f"secret-value-number-{i}-{'x' * i}" for i in range(12))
    clean = scrubber(secrets)  # built once per set of secrets, as the activities do at start-up
    text = ('The quick brown fox jumps over the lazy dog 0123456789 {"a": [1, 2]}\n' * 16_000)[:1_000_000]
    started = time.perf_counter()
    assert clean(text) is text
    assert time.perf_counter() - started < 0.05

    leaky = text[:500_000] + "secret-value-number-3-xxx" + text[500_000:]
    started = time.perf_counter()
    assert clean(leaky).count(REDACTED) == 1
    assert time.perf_counter() - started < 0.05


def test_every_configured_secret_is_collected_from_the_settings():
    settings = Settings(
        api_key=SecretStr("gateway-api-key"),
        callback_secret=SecretStr("callback-hmac-key"),
        llm_api_key=SecretStr("sk-llm-api-key"),
        n8n_webhook_secret=SecretStr("n8n-shared-secret"),
        metrics_token=SecretStr("metrics-scrape-token"),
        embeddings_api_key=SecretStr("embeddings-key"),
        mcp_servers={
            "crm": McpServerConfig(url="https://crm.test/mcp", headers={"Authorization": "Bearer crm-bearer-token"}),
            "gh": McpServerConfig(command=["gh-mcp"], env={"GITHUB_TOKEN": "ghp_tokenvalue", "HOME_DIR": "/srv/data"}),
        },
    )
    found = secret_values(settings, extra=["per-agent-api-key", None, ""])
    assert found == {
        "gateway-api-key", "callback-hmac-key", "sk-llm-api-key", "n8n-shared-secret", "metrics-scrape-token",
        "embeddings-key", "Bearer crm-bearer-token", "crm-bearer-token", "ghp_tokenvalue", "per-agent-api-key",
    }  # fmt: skip
    assert "/srv/data" not in found, "an env value under an ordinary name is not a secret"


def test_values_under_secret_looking_keys_are_masked_and_ordinary_ones_kept():
    inputs = {
        "password": "hunter2", "db_pass": "x", "client_secret": "x", "access_token": "x", "apiKey": "x",
        "X-Api-Key": "x", "Authorization": "x", "private_key": "x", "Cookie": "x", "credentials": {"a": 1},
        "nested": [{"token": "x", "text": "keep"}],
        "basic_auth": "x",
        "max_tokens": 5, "author": "Ann", "passenger": "Bo", "bypass_cache": True, "auth_header": "X-Key", "text": "keep",
    }  # fmt: skip
    masked = redact_keys(inputs)
    hidden = [k for k, v in masked.items() if v == "***"]
    assert hidden == ["password", "db_pass", "client_secret", "access_token", "apiKey", "X-Api-Key", "Authorization",
                      "private_key", "Cookie", "credentials", "basic_auth"]  # fmt: skip
    assert masked["nested"] == [{"token": "***", "text": "keep"}]
    assert not any(
        is_secret_key(k) for k in ("max_tokens", "author", "passenger", "bypass_cache", "auth_header", "text")
    )
    assert redact_keys({"key": SecretStr("zzz")}) == {"key": "**********"}
