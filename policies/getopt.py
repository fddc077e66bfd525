"""Read an argv the way GNU getopt_long does, from a declared option table (pure).

An `Options` table names each option once, with its short letter(s) and long name(s), and whether
it takes a value. `Options.parse(args)` returns the options seen (by canonical name) and the
operands, or raises `NotUnderstood` for anything the table does not cover: an unknown option, a
missing value, a value given to a flag, an ambiguous abbreviation.

GNU rules followed: short options cluster (`-rf`), a short option's value may be attached (`-n5`)
or next (`-n 5`); `--name=value` or `--name value`; options may follow operands (permutation);
`--` ends options; `-` alone is an operand. A long option may be abbreviated to any unique prefix,
*but only when the table is `complete`* (it lists every long option the real program has):
otherwise a prefix unique in our table could be exact, or ambiguous, in the real program.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class NotUnderstood(ValueError):
    """The argv uses an option the table does not describe, or uses one wrongly."""


@dataclass(frozen=True)
class Opt:
    name: str  # canonical name, e.g. "recursive"
    short: str = ""  # letters, e.g. "rR"
    long: tuple[str, ...] = ()  # long names without dashes, e.g. ("recursive",)
    value: bool = False  # takes a required value
    optional_value: bool = False  # long form may take `=value` (GNU optional argument)


@dataclass
class Parsed:
    options: dict[str, list[str | None]] = field(default_factory=dict)
    operands: list[str] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(n in self.options for n in names)

    def values(self, name: str) -> list[str]:
        return [v for v in self.options.get(name, []) if v is not None]


@dataclass(frozen=True)
class Options:
    opts: tuple[Opt, ...]
    complete: bool = False  # every long option of the real program is listed: abbreviations resolve
    numeric: bool = False  # `-5`/`-9` style options (head, kill) are operands of their own kind

    def _short(self, letter: str) -> Opt | None:
        return next((o for o in self.opts if letter in o.short), None)

    def _long(self, name: str, program: str) -> Opt:
        exact = [o for o in self.opts if name in o.long]
        if exact:
            return exact[0]
        if not self.complete:
            raise NotUnderstood(f"unknown option --{name} of {program}")
        matches = {o.name: o for o in self.opts if any(n.startswith(name) for n in o.long)}
        if len(matches) == 1:
            return next(iter(matches.values()))
        if not matches:
            raise NotUnderstood(f"unknown option --{name} of {program}")
        raise NotUnderstood(
            f"ambiguous option --{name} of {program} (could be {', '.join('--' + n for n in sorted(matches))})"
        )

    def parse(self, args: list[str], program: str, *, stop_at_operand: bool = False) -> Parsed:
        """`stop_at_operand`: options end at the first operand (getopt's `+` mode, used by wrappers such
        as sudo and timeout, whose first operand starts the command they run)."""
        parsed = Parsed()
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                parsed.operands.extend(args[i:])
                break
            if arg.startswith("--"):
                name, eq, value = arg[2:].partition("=")
                opt = self._long(name, program)
                if opt.value and not eq:
                    if i >= len(args):
                        raise NotUnderstood(f"option --{name} of {program} needs a value")
                    value, i = args[i], i + 1
                elif eq and not (opt.value or opt.optional_value):
                    raise NotUnderstood(f"option --{name} of {program} takes no value")
                parsed.options.setdefault(opt.name, []).append(value if (eq or opt.value) else None)
            elif arg.startswith("-") and len(arg) > 1:
                if self.numeric and arg[1:].isdigit():
                    parsed.options.setdefault("number", []).append(arg[1:])
                    continue
                pos = 1
                while pos < len(arg):
                    letter = arg[pos]
                    short = self._short(letter)
                    if short is None:
                        raise NotUnderstood(f"unknown option -{letter} of {program}")
                    opt = short
                    pos += 1
                    if opt.value:
                        value = arg[pos:]
                        if not value:
                            if i >= len(args):
                                raise NotUnderstood(f"option -{letter} of {program} needs a value")
                            value, i = args[i], i + 1
                        parsed.options.setdefault(opt.name, []).append(value)
                        break
                    parsed.options.setdefault(opt.name, []).append(None)
            elif stop_at_operand:
                parsed.operands.extend(args[i - 1 :])
                break
            else:
                parsed.operands.append(arg)
        return parsed


def opts(*specs: Opt, complete: bool = False, numeric: bool = False) -> Options:
    return Options(tuple(specs), complete=complete, numeric=numeric)


def flag(name: str, short: str = "", *long: str) -> Opt:
    return Opt(name, short, long or (name,))


def valued(name: str, short: str = "", *long: str) -> Opt:
    return Opt(name, short, long or (name,), value=True)


def short_only(name: str, letters: str, *, value: bool = False) -> Opt:
    return Opt(name, letters, (), value=value)


def optional(name: str, short: str = "", *long: str) -> Opt:
    return Opt(name, short, long or (name,), optional_value=True)
