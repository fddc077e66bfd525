"""SSRF policy for callback URLs: where the orchestrator may POST a finished job.

Allowed: https to a public host, or http/https to a host on `settings.callback_allowlist` (`host`
or `host:port`). Refused unless allowlisted: loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), link-local (169.254/16, fe80::/10), carrier-grade NAT (100.64/10), unspecified,
multicast, reserved, cloud metadata addresses and names, IPv4 hidden in IPv6 (::ffff:a.b.c.d,
64:ff9b::/96, 2002::/16), numeric IPv4 spellings (2130706433, 0x7f.1, 127.1), single-label names
(resolved through search domains to internal hosts), userinfo (`user@host`), and odd characters.

Two moments, two checks:
- request time (`check_callback_url`, pure, used by the gateway for a 400): the URL's shape, and
  literal IPs. Hostnames are NOT resolved here: DNS may be slow or down, and a name can change
  its answer before the job ends anyway.
- delivery time (the callback activity): the same check again, then every address the name
  resolves to must pass `address_problem`, and the connection is pinned to a checked address,
  so a DNS answer that changes between check and connect (rebinding) cannot redirect the POST.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings
from policies.refusal import Refusal

FIELD = "callback_url"
MAX_URL_CHARS = 2048
METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "fd00:ec2::23")
}
METADATA_NAMES = {
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
}
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class CallbackTarget:
    """A URL that passed the request-time check, taken apart for delivery."""

    scheme: str
    host: str  # lower-case, no trailing dot, no brackets
    port: int
    path_and_query: str
    literal_ip: IPAddress | None
    allowlisted: bool


def reject(message: str) -> Refusal:
    return Refusal(f"callback_url refused: {message}", field=FIELD)


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_problem(ip: IPAddress) -> str | None:
    """Why a callback must not go to this address, or None when it is a public unicast address."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        return f"{problem} (inside an IPv6 address)" if problem else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((why for hit, why in checks if hit), None)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The host as an IP address, including the numeric IPv4 spellings resolvers accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    labels = host.split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 127.1, ...
        except OSError:
            raise reject(f"{host!r} is not a valid IP address") from None
    return None


def _allowlist(settings: Settings) -> set[tuple[str, int | None]]:
    entries = set()
    for entry in settings.callback_allowlist:
        parts = urlsplit(f"//{entry.strip().lower()}")
        if parts.hostname:
            entries.add((parts.hostname.rstrip("."), parts.port))
    return entries


def check_callback_url(url: str, settings: Settings) -> CallbackTarget:
    """Raise Refusal (the gateway answers 400 CallbackUrlRejected naming callback_url) unless the URL may be called back.

    Pure: no DNS. Returns the parsed target (the gateway may ignore it; the activity uses it).
    """
    if settings.callback_secret is None:
        raise reject("callbacks are disabled on this server (CALLBACK_SECRET is not set)")
    if not url or len(url) > MAX_URL_CHARS:
        raise reject(f"must be 1 to {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise reject("contains whitespace, control characters or backslashes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise reject("only https URLs (or http to an allowlisted host) are accepted")
    if "@" in parts.netloc:
        raise reject("credentials in the URL (user@host) are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise reject("has no host")
    if "%" in host:
        raise reject("IPv6 zone identifiers are not accepted")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise reject("has an invalid port") from None
    path_and_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    allowlist = _allowlist(settings)
    allowlisted = (host, None) in allowlist or (host, port) in allowlist
    ip = parse_ip_literal(host)
    target = CallbackTarget(scheme, host, port, path_and_query, ip, allowlisted)
    if allowlisted:
        return target
    if scheme != "https":
        raise reject(f"http is only allowed to allowlisted hosts (CALLBACK_ALLOWLIST); use https for {host}")
    if ip is not None:
        problem = address_problem(ip)
        if problem:
            raise reject(f"{host} is {problem}")
        return target
    if host in METADATA_NAMES:
        raise reject(f"{host} is a cloud metadata name")
    if host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES):
        raise reject(f"{host} is a local or internal name")
    if "." not in host:
        raise reject(f"{host} is a single-label name (resolved through local search domains)")
    return target


def check_resolved(target: CallbackTarget, addresses: list[str]) -> list[IPAddress]:
    """Delivery time: every address the host resolves to must be public (unless allowlisted)."""
    ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not ips:
        raise reject(f"{target.host} resolves to no address")
    if not target.allowlisted:
        for ip in ips:
            problem = address_problem(ip)
            if problem:
                raise reject(f"{target.host} resolves to {ip}, {problem}")
    return ips
