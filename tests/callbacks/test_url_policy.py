"""callback_url is refused (400 naming the field) when it could reach something inside; public https passes."""

from __future__ import annotations

import pytest

from config import Settings
from policies.refusal import Refusal
from policies.url import check_callback_url, check_resolved

SETTINGS = Settings(callback_secret="s", callback_allowlist=["receiver.internal", "127.0.0.1:8080"])

REFUSED = [
    ("ftp://example.com/hook", "only https"),
    ("http://example.com/hook", "http is only allowed to allowlisted"),
    ("https://user:pw@example.com/hook", "credentials"),
    ("https://example.com@127.0.0.1/hook", "credentials"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://127.0.0.1:9090/hook", "loopback"),  # allowlisted only on :8080
    ("https://localhost/hook", "local or internal name"),
    ("https://app.localhost/hook", "local or internal name"),
    ("https://[::1]/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://172.16.0.1/hook", "private"),
    ("https://192.168.1.1/hook", "private"),
    ("https://[fc00::1]/hook", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata name"),
    ("https://100.64.0.1/hook", "carrier-grade NAT"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://[::ffff:127.0.0.1]/hook", "inside an IPv6 address"),
    ("https://[64:ff9b::a9fe:a9fe]/hook", "metadata"),
    ("https://2130706433/hook", "loopback"),
    ("https://0x7f.0.0.1/hook", "loopback"),
    ("https://127.1/hook", "loopback"),
    ("https://1.2.3.4.5/hook", "not a valid IP"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://intranet/hook", "single-label"),
    ("https://example.com:99999/hook", "invalid port"),
    ("https:///hook", "no host"),
    ("https://exa mple.com/hook", "whitespace"),
    ("https://[fe80::1%25eth0]/hook", "zone"),
    ("", "1 to 2048"),
    ("https://example.com/" + "a" * 2100, "1 to 2048"),
]


@pytest.mark.parametrize("url, reason", REFUSED)
def test_refused(url, reason):
    with pytest.raises(Refusal) as info:
        check_callback_url(url, SETTINGS)
    assert info.value.field == "callback_url"
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/cb?job=1",
        "https://93.184.216.34/cb",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/cb",
        "http://127.0.0.1:8080/cb",  # allowlisted host:port, http allowed
        "http://receiver.internal/cb",  # allowlisted host, any port
    ],
)
def test_accepted(url):
    check_callback_url(url, SETTINGS)


def test_callbacks_need_a_secret():
    with pytest.raises(Refusal, match="CALLBACK_SECRET"):
        check_callback_url("https://hooks.example.com/cb", Settings())


def test_a_public_name_that_resolves_inside_is_refused_at_delivery():
    target = check_callback_url("https://hooks.example.com/cb", SETTINGS)
    assert [str(ip) for ip in check_resolved(target, ["93.184.216.34"])] == ["93.184.216.34"]
    with pytest.raises(Refusal, match="resolves to 10.0.0.7, a private address"):
        check_resolved(target, ["93.184.216.34", "10.0.0.7"])
    allowlisted = check_callback_url("http://receiver.internal/cb", SETTINGS)
    assert check_resolved(allowlisted, ["10.0.0.7"])  # allowlisted hosts may live inside
