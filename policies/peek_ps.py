"""`ps` (procps-ng) for ssh.exec.peek: no argv may make ps show another process's environment (pure).

procps-ng reads three syntaxes (src/ps/parser.c): BSD letters without a dash (`aux`), UNIX letters
with one (`-ef`) and exact GNU long options (`--sort`, looked up with bsearch: no prefixes). The
environment appears in two ways: the BSD `e` letter (`ps e`, `ps axe`, `ps eww`) and the `environ`
format field. And a trap: when the UNIX parse fails for any reason (an unknown user, `-x` without a
personality, conflicting formats), ps re-parses the *whole* argv as BSD, dashes ignored, so `-ex`
becomes BSD `e` + `x`, and a value such as `-u eve`, which BSD `u` does not consume, is read as
letters too. So:
- BSD words may only use letters from BSD_FLAGS (no `e`, none that take a value);
- format and sort fields come from PS_FIELDS (no `environ`);
- an `e` may appear only as UNIX `-e` in an argv whose UNIX parse cannot fail (the shapes in
  `_check_unix_all`), and otherwise no word ps could re-read as BSD letters may contain an `e`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.peek_rules import Check, PolicyViolation, comma_list

__all__ = ["PS_FIELDS", "check_ps"]

PS_FIELDS = frozenset({
    "pid", "ppid", "pgid", "pgrp", "sid", "tid", "lwp", "spid", "nlwp", "tgid", "user", "euser", "ruser", "uid",
    "euid", "ruid", "group", "egroup", "rgroup", "gid", "egid", "rgid", "comm", "ucmd", "ucomm", "args", "cmd",
    "command", "%cpu", "pcpu", "%mem", "pmem", "rss", "rsz", "vsz", "vsize", "sz", "stat", "state", "s", "tty",
    "tt", "tname", "time", "cputime", "etime", "etimes", "lstart", "start", "start_time", "stime", "bsdstart",
    "bsdtime", "nice", "ni", "pri", "priority", "psr", "cls", "class", "policy", "rtprio", "wchan", "f",
    "flags", "c", "cp", "maj_flt", "min_flt", "majflt", "minflt",
})  # fmt: skip

_PIDS = re.compile(r"^[1-9][0-9]{0,9}(,[1-9][0-9]{0,9})*$")
_NAMES = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(,[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})*$")
ENV = "would show the environment of processes (secrets)"

# UNIX letters without a value that cannot fail on their own. `-x` is not here: procps refuses it
# without a personality, and the failure makes ps re-read everything as BSD letters.
UNIX_FLAGS = "AadefFHjlLTwy"
# BSD letters without a value; `e` (environment) and the value-taking ones (o O k p t U) are not here.
BSD_FLAGS = "auxwfcjlvrSn"


def fields(value: str) -> None:
    comma_list(PS_FIELDS, "ps field")(value)


def sort_keys(value: str) -> None:
    comma_list(PS_FIELDS, "ps sort key", signed=True)(value)


def pids(value: str) -> None:
    if not _PIDS.match(value) or any(int(p) > 0x7FFFFFFF for p in value.split(",")):
        raise PolicyViolation(f"expected process IDs (1, 2, ...), got {value!r}")


def names(value: str) -> None:
    if not _NAMES.match(value):
        raise PolicyViolation(f"expected user or command names, got {value!r}")


# UNIX letters taking a value -> (check, does BSD's letter of the same name consume the value too?)
UNIX_VALUED: dict[str, tuple[Check, bool]] = {
    "o": (fields, True), "O": (fields, True), "p": (pids, True), "U": (names, True),
    "u": (names, False), "C": (names, False),
}  # fmt: skip
GNU_VALUED: dict[str, Check] = {"--sort": sort_keys, "--format": fields, "--pid": pids, "--ppid": pids}
GNU_FLAGS = frozenset({"--forest", "--no-headers", "--headers"})
_REFUSED = {
    "--info": "prints ps's own internals",
    "--cumulative": "is not on the peek list",
    "--context": "is not on the peek list",
}


@dataclass
class _Parsed:
    unix: list[str]  # letters of UNIX clusters (values excluded)
    bsd: list[str]  # BSD words
    bsd_exposed: list[str]  # text a BSD re-parse would read as letters
    valued: list[str]  # value-taking options used ("o", "--sort", ...)
    headers: int = 0
    bare_pids: bool = False


def check_ps(args: list[str]) -> None:
    parsed = _parse(args)
    if any("e" in w for w in parsed.bsd):
        raise PolicyViolation(f"the BSD `e` option {ENV}")
    if parsed.headers > 1:
        raise PolicyViolation("only one of --headers/--no-headers")
    if any("e" in letters for letters in parsed.unix):
        _check_unix_all(parsed)
    else:
        for text in parsed.bsd_exposed:
            if "e" in text:
                raise PolicyViolation(
                    f"{text!r} would be re-read as BSD letters if ps's UNIX parse failed, and BSD `e` {ENV}; "
                    "use a numeric ID"
                )


def _parse(args: list[str]) -> _Parsed:
    parsed = _Parsed([], [], [], [])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        name, eq, value = arg.partition("=")
        if arg.startswith("--"):
            if name in _REFUSED:
                raise PolicyViolation(f"{name} {_REFUSED[name]}")
            if arg in GNU_FLAGS:
                parsed.headers += arg in ("--no-headers", "--headers")
                continue
            if name not in GNU_VALUED:
                allowed = " ".join(sorted(GNU_FLAGS | set(GNU_VALUED)))
                raise PolicyViolation(f"option {name} is not allowed (allowed, exact names only: {allowed})")
            if not eq:
                value, i = _next(name, args, i)
            GNU_VALUED[name](value)
            parsed.valued.append(name)
        elif arg.startswith("-") and arg[1:2].isalpha():
            i = _unix_cluster(arg, args, i, parsed)
        elif arg[:1].isalpha():
            bad = sorted(set(arg) - set(BSD_FLAGS) - {"e"})
            if bad:
                raise PolicyViolation(f"BSD option {bad[0]!r} (in {arg!r}) is not allowed (allowed: {BSD_FLAGS})")
            parsed.bsd.append(arg)
            parsed.bsd_exposed.append(arg)
        elif _PIDS.match(arg):
            parsed.bare_pids = True
        else:
            raise PolicyViolation(f"unexpected argument {arg!r}")
    return parsed


def _unix_cluster(arg: str, args: list[str], i: int, parsed: _Parsed) -> int:
    for pos, letter in enumerate(arg[1:], start=1):
        if letter in UNIX_VALUED:
            check, bsd_consumes = UNIX_VALUED[letter]
            value = arg[pos + 1 :]
            attached = bool(value)
            if not attached:
                value, i = _next(f"-{letter}", args, i)
            check(value)
            parsed.unix.append(arg[1:pos])
            parsed.valued.append(letter)
            parsed.bsd_exposed.append(arg[: pos + 1])
            if not bsd_consumes:
                parsed.bsd_exposed.append(value)
            return i
        if letter == "x":
            raise PolicyViolation(
                "-x is refused by procps without a personality, and then ps re-reads the whole argv as BSD "
                "letters; use `ps ax` or `ps -e`"
            )
        if letter not in UNIX_FLAGS:
            raise PolicyViolation(f"option -{letter} (in {arg}) is not allowed (allowed: -{' -'.join(UNIX_FLAGS)})")
    parsed.unix.append(arg[1:])
    parsed.bsd_exposed.append(arg)
    return i


def _check_unix_all(parsed: _Parsed) -> None:
    """`-e` is safe only when ps's UNIX parse cannot fail, so it never re-reads `-e` as BSD `e`.

    The proven shapes: UNIX letters from `AefFHjlLTwy`, no BSD words or bare PIDs, no selection
    (-p/-u/-U/-C/--pid/--ppid), formats only `-o`/`--format`/`--sort` with PS_FIELDS; and none of the
    combinations procps rejects (sortformat.c, parser.c: -y without -l, -o with -f/-F/-l/-j/-y,
    -L with -T, -L/-T with a forest, -H with --sort).
    """
    letters = set("".join(parsed.unix))
    why = "ps re-reads `-e` as the BSD `e` (environment) when its UNIX parse fails, so `-e` is only accepted"
    if parsed.bsd or parsed.bare_pids:
        raise PolicyViolation(f"{why} without BSD words or bare PIDs; use `ps aux` or `ps -ef`")
    if set(parsed.valued) - {"o", "--format", "--sort"}:
        raise PolicyViolation(f"{why} without process selection (-p/-u/-U/-C/-O/--pid/--ppid)")
    extra = letters - set("AefFHjlLTwy")
    if extra:
        raise PolicyViolation(f"{why} with -A -e -f -F -H -j -l -L -T -w -y (not -{min(extra)})")
    formats = bool({"o", "--format"} & set(parsed.valued))
    conflicts = [
        ("y" in letters and "l" not in letters, "-y needs -l"),
        (formats and bool(letters & set("fFljy")), "-o/--format conflicts with -f/-F/-l/-j/-y"),
        ({"L", "T"} <= letters, "-L conflicts with -T"),
        (bool(letters & {"L", "T"}) and "H" in letters, "-L/-T conflicts with -H"),
        ("H" in letters and "--sort" in parsed.valued, "-H conflicts with --sort"),
    ]
    for hit, what in conflicts:
        if hit:
            raise PolicyViolation(f"{what}; {why} in argv shapes ps parses without error")


def _next(option: str, args: list[str], i: int) -> tuple[str, int]:
    if i >= len(args):
        raise PolicyViolation(f"option {option} needs a value")
    return args[i], i + 1
