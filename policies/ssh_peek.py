"""What ssh.exec.peek may run: a strict, data-driven allowlist of read-only commands (pure, no I/O).

`check_peek(command)` returns the argv to run or raises `RequestRejected(UNSAFE_COMMAND)` saying why.
The raw text is scanned for shell syntax *before* it is parsed, so nothing the remote shell would
expand (`$`, backticks, globs, `~`, redirections, `;`...) ever reaches it; the caller then sends
`shlex.join(argv)`, never a string built from the request.

Each allowed command maps to a validator in `PEEK_COMMANDS`; most are a declarative `Rule` (which
options, which take a value, what an operand may be). Commands whose first operand is a verb
(`systemctl status`, `docker ps`, `ip addr`) use `Verbs`. Anything not listed is refused.

The other half of the SSH policy, `classify_danger` for ssh.exec, lives in `intents/ssh_danger.py`
and is re-exported here so callers import both from one place.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from policies.refusal import Refusal

__all__ = ["PEEK_COMMANDS", "Rule", "Verbs", "check_peek", "reject"]

MAX_COMMAND_CHARS = 1000
MAX_LINES = 10_000  # the largest -n accepted by head/tail/journalctl

# Characters the remote shell gives meaning to, with the reason shown to the caller.
SHELL_SYNTAX = {
    ";": "command separator",
    "&": "background/and-list operator",
    "|": "pipe",
    ">": "output redirection",
    "<": "input redirection",
    "$": "variable or command expansion",
    "`": "command substitution",
    "(": "subshell",
    ")": "subshell",
    "{": "brace expansion/group",
    "}": "brace expansion/group",
    "*": "glob",
    "?": "glob",
    "[": "glob",
    "]": "glob",
    "!": "history expansion/negation",
    "~": "home-directory expansion",
    "\\": "escape character",
    "#": "comment",
    "^": "history substitution",
}


class PolicyViolation(ValueError):
    """One reason a command is not allowed; turned into RequestRejected by check_peek."""


def reject(reason: str) -> Refusal:
    return Refusal(reason, field="inputs.command")


def check_peek(command: str) -> list[str]:
    """Return argv for a read-only command, or raise RequestRejected(UNSAFE_COMMAND) naming the reason."""
    scan_for_shell_syntax(command)
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise reject(f"command cannot be parsed: {err}") from None
    if not argv:
        raise reject("command is empty")
    name, args = argv[0], argv[1:]
    if "/" in name:
        raise reject(f"give the bare command name, not a path ({name!r})")
    validator = PEEK_COMMANDS.get(name)
    if validator is None:
        raise reject(
            f"{name!r} is not on the read-only allowlist of ssh.exec.peek (allowed: {', '.join(sorted(PEEK_COMMANDS))}); "
            "use ssh.exec for anything else"
        )
    try:
        validator(args)
    except PolicyViolation as err:
        raise reject(f"{name}: {err}") from None
    return argv


def scan_for_shell_syntax(command: str) -> None:
    if not command.strip():
        raise reject("command is empty")
    if len(command) > MAX_COMMAND_CHARS:
        raise reject(f"command is longer than {MAX_COMMAND_CHARS} characters")
    for ch in command:
        if ch in SHELL_SYNTAX:
            raise reject(
                f"shell metacharacter {ch!r} ({SHELL_SYNTAX[ch]}) is not allowed in ssh.exec.peek; "
                "use ssh.exec for shell syntax"
            )
        if ch == "\x00":
            raise reject("NUL byte in command")
        if ch in "\n\r":
            raise reject("newline in command (would start a second command)")
        if not (" " <= ch <= "~"):
            raise reject(f"character {ch!r} is not allowed: only printable ASCII")


# --- operand checks ---------------------------------------------------------------------------

Check = Callable[[str], None]

_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:+,=%/-]*$")
_SORT_KEYS = re.compile(r"^[-+]?[A-Za-z0-9%_]+(,[-+]?[A-Za-z0-9%_]+)*$")

# Files whose *contents* peek may show (cat/head/tail/wc). Entries ending in "/" cover everything below.
# Symlinks are not resolved here: a link under /var/log pointing elsewhere can only be made by root.
READABLE_FILES = (
    "/var/log/",
    "/etc/os-release",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/timezone",
    "/etc/debian_version",
    "/etc/lsb-release",
    "/etc/redhat-release",
    "/etc/resolv.conf",
    "/etc/fstab",
    "/proc/loadavg",
    "/proc/meminfo",
    "/proc/cpuinfo",
    "/proc/uptime",
    "/proc/version",
    "/proc/mounts",
    "/proc/swaps",
)


def any_path(value: str) -> None:
    """A plain path: no `.`/`..` components and no empty ones, so prefix checks cannot be dodged."""
    if value.startswith("-"):
        raise PolicyViolation(f"unexpected option {value!r}")
    parts = value.split("/")
    inner = parts[1:-1] if value.startswith("/") else parts[:-1]
    if any(p in (".", "..") for p in parts) or "" in inner:
        raise PolicyViolation(f"path {value!r} must not contain '.', '..' or '//'")


def readable_file(value: str) -> None:
    any_path(value)
    if not any(value.startswith(p) if p.endswith("/") else value == p for p in READABLE_FILES):
        raise PolicyViolation(
            f"reading {value!r} is not allowed; readable: {', '.join(READABLE_FILES)} ('/var/log/' = anything below)"
        )


def word(value: str) -> None:
    """A unit, user, interface or field name: letters, digits and a few separators."""
    if not _WORD.match(value):
        raise PolicyViolation(f"unexpected argument {value!r}")


def sort_keys(value: str) -> None:
    if not _SORT_KEYS.match(value):
        raise PolicyViolation(f"unexpected sort/field list {value!r}")


def any_value(value: str) -> None:
    """Free text (a date such as "1 hour ago"); shell syntax was already excluded by the scan."""


def date_format(value: str) -> None:
    if not value.startswith("+"):
        raise PolicyViolation("only a +FORMAT operand is allowed; setting the clock is not read-only")


def bsd_letters(value: str) -> None:
    """`ps aux`-style options: letters only (ps cannot change anything, whatever it is asked)."""
    if not value.isalpha():
        raise PolicyViolation(f"unexpected operand {value!r}")


def bounded_int(low: int, high: int) -> Check:
    def check(value: str) -> None:
        if not value.isdigit() or not low <= int(value) <= high:
            raise PolicyViolation(f"expected a number from {low} to {high}, got {value!r}")

    return check


def one_of(*choices: str) -> Check:
    def check(value: str) -> None:
        if value not in choices:
            raise PolicyViolation(f"expected one of {', '.join(choices)}, got {value!r}")

    return check


# --- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one read-only command may be called.

    flags: single-letter options, combinable (`-hT`); long_flags: whole options without a value
    (`--total`, also single-dash words such as `-br`); valued: options taking a value (`-n 5`, `-n5`,
    `--lines=5`) mapped to the value's check; operands: check for each non-option argument
    (None = none allowed); required: groups of options of which one must be present (e.g. a bound
    on journalctl's output); refuse: option/operand -> reason, so common mistakes get a precise answer.
    """

    flags: str = ""
    long_flags: frozenset[str] = frozenset()
    valued: Mapping[str, Check] = field(default_factory=dict)
    operands: Check | None = None
    min_operands: int = 0
    max_operands: int = 8
    required: tuple[tuple[str, ...], ...] = ()
    refuse: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, args: list[str]) -> None:
        seen: set[str] = set()
        operands: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            name, eq, value = arg.partition("=")
            if arg in self.refuse or name in self.refuse:
                raise PolicyViolation(self.refuse.get(arg) or self.refuse[name])
            if arg == "--":
                operands.extend(args[i:])
                break
            if arg in self.long_flags:
                seen.add(arg)
            elif arg.startswith("--"):
                if name not in self.valued:
                    raise PolicyViolation(self._unknown(name))
                if not eq:
                    value, i = self._next_value(name, args, i)
                self.valued[name](value)
                seen.add(name)
            elif arg.startswith("-") and len(arg) > 1:
                i = self._short_cluster(arg, args, i, seen)
            else:
                operands.append(arg)
        for group in self.required:
            if not seen.intersection(group):
                raise PolicyViolation(f"{' or '.join(group)} is required (it bounds the output)")
        self._check_operands(operands)

    def _short_cluster(self, arg: str, args: list[str], i: int, seen: set[str]) -> int:
        for pos, letter in enumerate(arg[1:], start=1):
            option = f"-{letter}"
            if option in self.refuse:
                raise PolicyViolation(self.refuse[option])
            if option in self.valued:
                value = arg[pos + 1 :]
                if not value:
                    value, i = self._next_value(option, args, i)
                self.valued[option](value)
                seen.add(option)
                return i
            if letter not in self.flags:
                raise PolicyViolation(self._unknown(option))
            seen.add(option)
        return i

    @staticmethod
    def _next_value(option: str, args: list[str], i: int) -> tuple[str, int]:
        if i >= len(args):
            raise PolicyViolation(f"option {option} needs a value")
        return args[i], i + 1

    def _check_operands(self, operands: list[str]) -> None:
        if operands and self.operands is None:
            raise PolicyViolation(f"takes no operands here, got {operands[0]!r}")
        if len(operands) < self.min_operands:
            raise PolicyViolation(f"needs at least {self.min_operands} operand(s)")
        if len(operands) > self.max_operands:
            raise PolicyViolation(f"takes at most {self.max_operands} operands")
        for operand in operands:
            self.operands(operand)  # type: ignore[misc]

    def _unknown(self, option: str) -> str:
        allowed = sorted({f"-{c}" for c in self.flags} | set(self.long_flags) | set(self.valued))
        return f"option {option} is not allowed (allowed: {' '.join(allowed) or 'none'})"


@dataclass(frozen=True)
class Verbs:
    """A command whose first operand is a verb (`systemctl status`, `docker ps`, `ip addr`).

    Each read-only verb has its own Rule for what follows it; `options` may come before the verb
    (`ip -br addr`); `refuse` explains the well-known write verbs.
    """

    verbs: Mapping[str, Rule]
    options: Rule = Rule()
    refuse: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, args: list[str]) -> None:
        position = next((n for n, a in enumerate(args) if not a.startswith("-")), None)
        if position is None:
            raise PolicyViolation(f"needs one of: {', '.join(sorted(self.verbs))}")
        self.options(args[:position])
        verb = args[position]
        if verb in self.refuse:
            raise PolicyViolation(f"{verb!r} {self.refuse[verb]}")
        rule = self.verbs.get(verb)
        if rule is None:
            raise PolicyViolation(f"{verb!r} is not a read-only verb here (allowed: {', '.join(sorted(self.verbs))})")
        rule(args[position + 1 :])


def _writes(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


LINES = bounded_int(1, MAX_LINES)
FOLLOW = "follows output forever; use -n to read the last lines"
NO_ARGS = Rule()

_HEAD_TAIL = Rule(
    flags="qv",
    valued={"-n": LINES, "--lines": LINES},
    operands=readable_file,
    min_operands=1,
    refuse=_writes(FOLLOW, "-f", "-F", "--follow", "--retry"),
)

_SYSTEMCTL_READ = Rule(
    flags="alq",
    long_flags=frozenset({"--no-pager", "--all", "--failed", "--plain", "--no-legend", "--full", "--quiet"}),
    valued={"-n": LINES, "--lines": LINES, "-t": word, "--type": word, "--state": word, "-p": word, "--property": word},
    operands=word,
    max_operands=16,
)

_DOCKER_LIST = Rule(
    flags="aqsl",
    long_flags=frozenset({"--all", "--quiet", "--no-trunc", "--size", "--latest", "--digests"}),
    valued={"-n": bounded_int(1, 1000), "--last": bounded_int(1, 1000), "-f": word, "--filter": word},
)

_IP_SHOW = Rule(
    operands=word,
    max_operands=4,
    refuse=_writes("changes network configuration", "add", "del", "delete", "flush", "set", "change",
                   "replace", "append", "prepend", "save", "restore", "exec"),
)

_CLEARS_RING = "clears the kernel ring buffer"

PEEK_COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "df": Rule(
        flags="ahHiklPT",
        long_flags=frozenset({"--human-readable", "--si", "--total", "--print-type", "--inodes", "--local", "--all"}),
        valued={"-t": word, "--type": word, "-x": word, "--exclude-type": word, "--output": word},
        operands=any_path,
    ),
    "du": Rule(
        flags="achskmxS",
        long_flags=frozenset({"--summarize", "--total", "--human-readable", "--one-file-system", "--apparent-size"}),
        valued={"-d": bounded_int(0, 10), "--max-depth": bounded_int(0, 10)},
        operands=any_path,
        refuse=_writes("reads its list of paths from a file", "--files0-from"),
    ),
    "uptime": Rule(flags="ps", long_flags=frozenset({"--pretty", "--since"})),
    "free": Rule(
        flags="bkmghltw",
        long_flags=frozenset({"--human", "--si", "--total", "--wide", "--bytes", "--kibi", "--mebi", "--gibi"}),
        refuse=_writes("repeats (never returns at once)", "-s", "--seconds", "-c", "--count"),
    ),
    "uname": Rule(flags="asnrvmpio", long_flags=frozenset({"--all"})),
    "whoami": NO_ARGS,
    # No operands: `hostname NAME` renames the machine.
    "hostname": Rule(
        flags="fsdiIA",
        long_flags=frozenset({"--fqdn", "--short", "--domain", "--ip-address", "--all-ip-addresses"}),
        refuse=_writes("sets the hostname", "-F", "--file", "-b", "--boot"),
    ),
    "id": Rule(flags="ugGnr", operands=word, max_operands=1),
    "date": Rule(
        flags="uRI",
        long_flags=frozenset({"--utc", "--rfc-email"}),
        valued={"--iso-8601": one_of("date", "hours", "minutes", "seconds", "ns"), "--rfc-3339": one_of("date", "seconds", "ns")},
        operands=date_format,
        max_operands=1,
        refuse={**_writes("sets the clock", "-s", "--set"), **_writes("reads a file", "-f", "--file")},
    ),
    "ls": Rule(flags="aAlhtrSs1dinRFG", long_flags=frozenset({"--all", "--human-readable", "--full-time"}), operands=any_path, max_operands=16),
    "cat": Rule(flags="nbsAET", operands=readable_file, min_operands=1),
    "head": _HEAD_TAIL,
    "tail": _HEAD_TAIL,
    "wc": Rule(flags="lwcm", operands=readable_file, min_operands=1),
    "ps": Rule(
        flags="eAaflFHjLMTwxuyZ",
        long_flags=frozenset({"--forest", "--no-headers", "--headers"}),
        valued={"-o": sort_keys, "-O": sort_keys, "--format": sort_keys, "--sort": sort_keys, "-p": word,
                "--pid": word, "-C": word, "-U": word, "-u": word, "--user": word},
        operands=bsd_letters,
        max_operands=2,
    ),
    "systemctl": Verbs(
        verbs=dict.fromkeys(
            ("status", "is-active", "is-enabled", "is-failed", "list-units", "list-unit-files",
             "list-timers", "list-sockets", "show", "cat"),
            _SYSTEMCTL_READ,
        ),
        options=Rule(long_flags=frozenset({"--no-pager", "--failed", "--all"})),
        refuse=_writes(
            "changes system state; only status, is-active, is-enabled, is-failed, list-*, show and cat are read-only",
            "start", "stop", "restart", "reload", "enable", "disable", "mask", "unmask", "kill", "reboot",
            "poweroff", "halt", "isolate", "edit", "daemon-reload", "reset-failed", "set-property", "try-restart",
        ),
    ),
    "journalctl": Rule(
        flags="kxqrab",
        long_flags=frozenset({"--no-pager", "--dmesg", "--reverse", "--utc", "--quiet", "--no-hostname", "--catalog", "--boot"}),
        valued={"-n": LINES, "--lines": LINES, "-u": word, "--unit": word, "-p": word, "--priority": word,
                "-S": any_value, "--since": any_value, "-U": any_value, "--until": any_value, "-o": word,
                "--output": word, "-t": word, "--identifier": word, "-g": any_value, "--grep": any_value},
        required=(("-n", "--lines"),),
        refuse={
            **_writes(FOLLOW, "-f", "--follow"),
            **_writes("deletes or rewrites journal files", "--vacuum-size", "--vacuum-time", "--vacuum-files",
                      "--rotate", "--flush", "--sync", "--relinquish-var", "--smart-relinquish-var", "--setup-keys"),
            **_writes("reads files outside the system journal", "-D", "--directory", "--file", "-i", "--root", "--image"),
        },
    ),
    "docker": Verbs(
        verbs={"ps": _DOCKER_LIST, "images": _DOCKER_LIST, "version": NO_ARGS, "info": NO_ARGS},
        refuse=_writes(
            "changes containers or images; only ps, images, version and info are read-only",
            "run", "rm", "rmi", "stop", "kill", "restart", "start", "exec", "prune", "system", "pull", "compose",
        ),
    ),
    "ip": Verbs(
        verbs=dict.fromkeys(("addr", "address", "a", "link", "l", "route", "r", "ro", "neigh", "n", "rule"), _IP_SHOW),
        options=Rule(flags="46sdc", long_flags=frozenset({"-br", "-brief", "-details", "-stats"})),
    ),
    "ss": Rule(
        flags="tulnpaxs46emoiHw",
        long_flags=frozenset({"--tcp", "--udp", "--listening", "--numeric", "--processes", "--all", "--summary"}),
        refuse={**_writes("kills sockets", "-K", "--kill"), **_writes("reads or writes files", "-D", "--diag", "-F", "--filter")},
    ),
    "netstat": Rule(flags="tulnpaeirs46"),
    "w": Rule(flags="hsif", operands=word, max_operands=1),
    "who": Rule(flags="abqrHu"),
    "last": Rule(flags="aFiwx", valued={"-n": bounded_int(1, 1000)}, required=(("-n",),), operands=word, max_operands=1),
    "lsblk": Rule(flags="afblmpdnJS", valued={"-o": sort_keys, "--output": sort_keys}, operands=any_path, max_operands=4),
    "lscpu": NO_ARGS,
    "nproc": Rule(long_flags=frozenset({"--all"})),
    "arch": NO_ARGS,
    "dmesg": Rule(
        flags="TxkHL",
        long_flags=frozenset({"--ctime", "--decode", "--kernel", "--human", "--nopager"}),
        valued={"-l": word, "--level": word},
        refuse={
            **_writes(_CLEARS_RING, "-C", "-c", "--clear", "--read-clear"),
            **_writes(FOLLOW, "-w", "-W", "--follow", "--follow-new"),
            **_writes("changes console logging", "-n", "--console-level", "-D", "--console-off", "-E", "--console-on"),
        },
    ),
    "vmstat": Rule(flags="asdwt", valued={"-S": one_of("k", "K", "m", "M")}),  # no operands: `vmstat 1` never ends
}
