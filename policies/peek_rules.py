"""The rule engine behind ssh.exec.peek's allowlist: how one program's argv may look (pure, no I/O).

A `Rule` lists a program's accepted options by their *exact* names. GNU getopt_long accepts any
unique prefix of a long option (`--vac` = `--vacuum-size`), so the engine never matches a prefix:
an option that is not spelled exactly as listed is refused, and when it abbreviates a refused
option the reason names that option. `Verbs` is for programs whose first operand is an exact verb
(`systemctl status`, `docker ps`). Programs that resolve their own prefixes (`ip`) or re-parse
their argv in a second syntax (`ps`) have their own modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Check", "PolicyViolation", "Rule", "Verbs"]


class PolicyViolation(ValueError):
    """One reason an argv is not allowed; check_peek turns it into a Refusal naming the program."""


Check = Callable[[str], None]

_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:+,=%/-]*$")

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


# --- operand checks ---------------------------------------------------------------------------


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


def any_value(value: str) -> None:
    """Free text (a date such as "1 hour ago"); shell syntax was already excluded by the scan."""


def date_format(value: str) -> None:
    if not value.startswith("+"):
        raise PolicyViolation("only a +FORMAT operand is allowed; setting the clock is not read-only")


def bounded_int(low: int, high: int) -> Check:
    def check(value: str) -> None:
        if not value.isdigit() or not low <= int(value) <= high:
            raise PolicyViolation(f"expected a number from {low} to {high}, got {value!r}")

    return check


def one_of(*choices: str, why: str = "") -> Check:
    def check(value: str) -> None:
        if value not in choices:
            reason = f" ({why})" if why else ""
            raise PolicyViolation(f"expected one of {', '.join(choices)}, got {value!r}{reason}")

    return check


def comma_list(allowed: frozenset[str], what: str, *, signed: bool = False) -> Check:
    """`a,b,c` where every item is in `allowed` (with an optional +/- when `signed`, for sort keys)."""

    def check(value: str) -> None:
        for item in value.split(","):
            name = item[1:] if signed and item[:1] in "+-" else item
            if name not in allowed:
                raise PolicyViolation(f"{what} {item!r} is not allowed (allowed: {', '.join(sorted(allowed))})")

    return check


def writes(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


# --- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one read-only command may be called.

    flags: single-letter options, combinable (`-hT`); long_flags: whole options without a value
    (`--total`, also single-dash words such as `-br`), matched exactly; valued: options taking a value
    (`-n 5`, `-n5`, `--lines=5`) mapped to the value's check; operands: check for each non-option
    argument (None = none allowed); required: groups of options of which one must be present (e.g. a
    bound on journalctl's output); refuse: option/operand -> reason, so dangerous options get a
    precise answer (also when abbreviated).
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
                raise PolicyViolation(f"{name}: {self.refuse.get(arg) or self.refuse[name]}")
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
                raise PolicyViolation(f"{option}: {self.refuse[option]}")
            if option in self.valued:
                value = arg[pos + 1 :]
                if not value:
                    value, i = self._next_value(option, args, i)
                self.valued[option](value)
                seen.add(option)
                return i
            if letter not in self.flags:
                raise PolicyViolation(self._unknown(option if pos == 1 else f"{option} (in {arg})"))
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
        """Refuse an unlisted option; name the refused option(s) it abbreviates, as getopt_long would read it."""
        abbreviates = sorted(
            r for r in self.refuse if option.startswith("--") and len(option) > 2 and r.startswith(option)
        )
        if abbreviates:
            return (
                f"option {option} is an abbreviation of {' / '.join(abbreviates)} (getopt_long accepts unique prefixes): "
                f"{self.refuse[abbreviates[0]]}; only exact option names are accepted"
            )
        allowed = sorted({f"-{c}" for c in self.flags} | set(self.long_flags) | set(self.valued))
        return f"option {option} is not allowed (allowed, exact names only: {' '.join(allowed) or 'none'})"


@dataclass(frozen=True)
class Verbs:
    """A command whose first operand is a verb matched exactly (`systemctl status`, `docker ps`).

    Each read-only verb has its own Rule for what follows it; `options` may come before the verb;
    `refuse` explains the well-known write verbs. Programs here (systemctl, docker) never accept an
    abbreviated verb, so an exact match is also how the program reads it.
    """

    verbs: Mapping[str, Rule]
    options: Rule = Rule()
    refuse: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, args: list[str]) -> None:
        position = next((n for n, a in enumerate(args) if not a.startswith("-")), None)
        self.options(args[: len(args) if position is None else position])
        if position is None:
            raise PolicyViolation(f"needs one of: {', '.join(sorted(self.verbs))}")
        verb = args[position]
        if verb in self.refuse:
            raise PolicyViolation(f"{verb!r} {self.refuse[verb]}")
        rule = self.verbs.get(verb)
        if rule is None:
            raise PolicyViolation(f"{verb!r} is not a read-only verb here (allowed: {', '.join(sorted(self.verbs))})")
        rule(args[position + 1 :])
