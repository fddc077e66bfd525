"""`ip` (iproute2) for ssh.exec.peek: resolve objects, verbs and global options as ip itself does (pure).

iproute2 accepts any prefix of a word: `matches(prefix, word)` in lib/utils.c is true when `prefix`
is a non-empty prefix of `word`, and each dispatcher takes the *first* entry that matches, in its
own order. So `ip a a` is `ip address add`, `ip l s` is `ip link set` (iplink.c tests `set` before
`show`) and `ip -b` is `ip -batch` (ip.c tests `-batch` before `-brief`). The tables below copy
that order from the source (iproute2 ip/ip.c, ip/ipaddress.c, ip/iproute.c, ip/iplink.c,
ip/ipneigh.c, ip/iprule.c); a word is resolved with them and only a listing verb is accepted.
Global options are an exact allowlist, each checked to resolve to the option it is meant to be.
"""

from __future__ import annotations

from policies.peek_rules import PolicyViolation, word

__all__ = ["IP_GLOBAL_OPTIONS", "IP_OBJECTS", "IP_VERBS", "check_ip", "resolve"]

# ip/ip.c `cmds[]`, in order. Only the objects mapped to a verb table may be peeked at.
IP_OBJECTS = (
    "address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl",
    "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics",
    "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop",
    "mptcp", "ioam", "help", "stats",
)  # fmt: skip

# Each object's verb dispatch, in source order. Words compared with strcmp (not matches) say so.
_ADDRESS = (
    "add",
    "change",
    "=chg",
    "replace",
    "delete",
    "list",
    "show",
    "lst",
    "flush",
    "save",
    "showdump",
    "restore",
    "help",
)
_ROUTE = ("add", "change", "=chg", "replace", "prepend", "append", "test", "delete", "list", "show", "lst", "get",
          "flush", "save", "restore", "showdump", "help")  # fmt: skip
_LINK = ("add", "set", "change", "replace", "delete", "show", "lst", "list", "xstats", "afstats", "property", "help")
_NEIGH = ("add", "change", "=chg", "replace", "delete", "get", "show", "lst", "list", "flush", "help")
_RULE = ("list", "lst", "show", "save", "restore", "add", "delete", "flush", "help")
IP_VERBS = {
    "address": _ADDRESS, "route": _ROUTE, "link": _LINK, "neighbor": _NEIGH, "neighbour": _NEIGH, "rule": _RULE,
}  # fmt: skip

LISTING = frozenset({"list", "show", "lst"})
_WHAT_VERBS_DO = {
    "get": "performs a lookup, not a listing",
    "save": "dumps binary netlink data",
    "showdump": "reads a dump from stdin",
    "restore": "changes network configuration from stdin",
    "help": "is not a listing",
    "xstats": "is not a listing",
    "afstats": "is not a listing",
    "property": "changes link properties",
}

# ip/ip.c main(): global options in the order they are tried (`=` = compared exactly), each with
# whether it takes a value. What the first matching entry does decides what an abbreviation does.
_GLOBAL_CHAIN = (
    ("-loops", True), ("-family", True), ("=-4", False), ("=-6", False), ("=-0", False), ("=-M", False),
    ("=-B", False), ("-human", False), ("-human-readable", False), ("-iec", False), ("-stats", False),
    ("-statistics", False), ("-details", False), ("-resolve", False), ("-oneline", False),
    ("-timestamp", False), ("-tshort", False), ("-Version", False), ("-force", False), ("-batch", True),
    ("-brief", False), ("-json", False), ("-pretty", False), ("-rcvbuf", True), ("-color", False),
    ("-help", False), ("-netns", True), ("-Numeric", False), ("-all", False), ("=-echo", False),
)  # fmt: skip
_GLOBAL_DANGER = {
    "-batch": "runs the commands in a file (or stdin)",
    "-force": "keeps going after errors in batch mode",
    "-netns": "switches to another network namespace",
    "-all": "runs the command in every network namespace",
    "-resolve": "makes DNS queries to other hosts",
    "-loops": "tunes flush, which peek never runs",
    "-rcvbuf": "tunes the netlink socket",
}
# Exactly these spellings are accepted; test_peek_ip checks each resolves to the option named here.
IP_GLOBAL_OPTIONS = {
    "-4": "-4", "-6": "-6", "-s": "-stats", "-stats": "-stats", "-d": "-details", "-details": "-details",
    "-br": "-brief", "-brief": "-brief", "-o": "-oneline", "-oneline": "-oneline", "-j": "-json",
    "-json": "-json", "-p": "-pretty", "-pretty": "-pretty", "-h": "-human", "-human": "-human",
    "-N": "-Numeric", "-Numeric": "-Numeric", "-iec": "-iec",
}  # fmt: skip


def matches(prefix: str, full: str) -> bool:
    """lib/utils.c `matches()`: a non-empty prefix matches."""
    return bool(prefix) and full.startswith(prefix)


def resolve(token: str, table: tuple[str, ...]) -> str | None:
    """The entry iproute2 dispatches `token` to: the first that matches (an `=` entry only exactly)."""
    for entry in table:
        exact = entry.startswith("=")
        name = entry.lstrip("=")
        if (token == name) if exact else matches(token, name):
            return name
    return None


def resolve_global(option: str) -> str | None:
    """What ip's main() does with `option` (it strips one of two leading dashes first)."""
    opt = option[1:] if option.startswith("--") else option
    for name, _ in _GLOBAL_CHAIN:
        bare = name.lstrip("=")
        candidate = opt.partition("=")[0] if bare == "-color" else opt  # lib/color.c matches_color()
        if (opt == bare) if name.startswith("=") else matches(candidate, bare):
            return bare
    return None


def check_ip(args: list[str]) -> None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        _check_global(args[i])
        i += 1
    if i == len(args):
        raise PolicyViolation("needs an object: address, link, route, rule or neigh")
    token, rest = args[i], args[i + 1 :]
    obj = resolve(token, IP_OBJECTS)
    if obj is None:
        raise PolicyViolation(f"`{token}` is not an ip object")
    if obj not in IP_VERBS:
        raise PolicyViolation(
            f"`{token}` resolves to `{obj}` in ip: not on the peek list (address, link, route, rule, neighbor)"
        )
    if rest:
        verb = resolve(rest[0], IP_VERBS[obj])
        if verb not in LISTING:
            what = _WHAT_VERBS_DO.get(verb or "", "changes network configuration")
            resolved = f"resolves to `{verb}`" if verb else "is no verb"
            raise PolicyViolation(f"`{rest[0]}` {resolved} in `ip {obj}`: {what}; only list/show are read-only")
        rest = rest[1:]
    for arg in rest:  # filters of a listing (dev X, table main, scope link, 10.0.0.0/8...)
        if arg.startswith("-"):
            raise PolicyViolation(f"unexpected option {arg!r} after `ip {obj}`")
        word(arg)
    if len(rest) > 6:
        raise PolicyViolation("at most 6 filter words")


def _check_global(option: str) -> None:
    if option in IP_GLOBAL_OPTIONS:
        return
    if option == "--":
        raise PolicyViolation("`--` is not needed before an ip object")
    resolved = resolve_global(option)
    if resolved is None:
        raise PolicyViolation(f"option {option} is not an ip option")
    reason = _GLOBAL_DANGER.get(resolved, "is not on the exact list of peek options")
    allowed = " ".join(IP_GLOBAL_OPTIONS)
    raise PolicyViolation(f"option `{option}` resolves to `{resolved}` in ip: {reason} (allowed: {allowed})")
