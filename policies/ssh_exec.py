"""Which ssh.exec commands may run without a human: `review_command(command, host) -> [risks]` (pure).

The rule fails closed. A command runs at once only when every part of it is understood and safe:

1. it parses (tree-sitter-bash) into simple commands of literal words, joined by `;`, newlines,
   `&&`, `||` and pipes (`policies.shell_parse`): no expansion, substitution, glob, brace or tilde
   pattern, function, trap, here-document, group, background job or variable assignment;
2. each simple command is either
   - a program known to only read (its options checked against its own option table, long
     options resolved the way getopt_long does), or one that `ssh.exec.peek` would accept; or
   - a known writing program (rm, mkdir, cp, mv, chmod, tee, …) whose every target lies inside
     the host's `writable` area (empty by default), or
   - matched by one of the host's `auto_approve` argv patterns;
3. every redirection writes only to /dev/null (or stdout/stderr) or inside the writable area, and
   nothing reads process state (/proc/<pid>, `environ`), devices (/dev/sda, /dev/tcp/…) or
   secret files (/etc/shadow, ~/.ssh/…).

Anything else comes back with a risk line saying why, and the job waits for approval. A wrapper
(`sudo`, `timeout`, `nice`, plain `env`) is looked through: the command it runs is judged instead.

Symbolic links inside the writable area are not resolved (the check is on the text of the path),
so the operator must keep that area free of links that point outside it.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from policies.getopt import (
    NotUnderstood,
    Opt,
    Options,
    Parsed,
    flag,
    optional,
    opts,
    valued,
)
from policies.refusal import Refusal
from policies.shell_parse import (
    BASH_ONLY_OPERATORS,
    READ_OPERATORS,
    WRITE_OPERATORS,
    SimpleCommand,
    parse_script,
)
from policies.ssh_peek import check_peek

MAX_DEPTH = 4
# Where *output* may go besides the writable area (redirections, tee, sort -o); never a target of rm, mv, chmod…
OUTPUT_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
# Harmless devices a command may read; any other /dev path (disks, /dev/tcp, /dev/fd/..) is a risk.
READABLE_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"})
# /proc files that describe the machine, not a process; anything else under /proc is a risk.
READABLE_PROC = frozenset({"/proc/loadavg", "/proc/meminfo", "/proc/cpuinfo", "/proc/uptime", "/proc/version",
                           "/proc/mounts", "/proc/swaps", "/proc/stat", "/proc/vmstat", "/proc/diskstats",
                           "/proc/partitions", "/proc/filesystems", "/proc/net/dev"})  # fmt: skip
SECRET_FILES = re.compile(
    r"^/etc/(g?shadow|sudoers)|/\.ssh/|\.(pem|key)$|^/root(/|$)|/\.(netrc|pgpass|aws|docker)(/|$)"
)
BIN_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"})


@dataclass(frozen=True)
class HostRules:
    """What an operator allows on one host without a human (from the inventory)."""

    writable: tuple[str, ...] = ()  # absolute directories; a target inside one may be written
    auto_approve: tuple[tuple[str, ...], ...] = ()  # argv patterns (fnmatch per argument)

    @classmethod
    def of(cls, writable: Sequence[str] = (), auto_approve: Sequence[str] = ()) -> HostRules:
        return cls(tuple(normalize_area(w) for w in writable), tuple(tuple(shlex.split(p)) for p in auto_approve))


def normalize_area(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"writable path {path!r} must be absolute")
    norm = "/" + posixpath.normpath(path).lstrip("/")  # POSIX keeps a leading `//`; we do not
    if norm == "/":
        raise ValueError("the whole filesystem cannot be a writable area")
    if ".." in path.split("/"):
        raise ValueError(f"writable path {path!r} must not contain '..'")
    return norm


NO_RULES = HostRules()


@dataclass
class Review:
    """One simple command's findings: risks need a human; writes need their target inside the area."""

    risks: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (path, what is done to it)
    outputs: list[tuple[str, str]] = field(default_factory=list)  # output written to a path (may be /dev/null)

    def add(self, other: Review) -> None:
        self.risks += other.risks
        self.writes += other.writes
        self.outputs += other.outputs


def review_command(command: str, rules: HostRules = NO_RULES) -> list[str]:
    """Reasons a human must approve `command` on a host with `rules`; empty = proven safe."""
    return list(dict.fromkeys(_review_text(command, rules)))


def classify_danger(command: str) -> list[str]:
    """The review against a host with no writable area and no auto-approvals."""
    return review_command(command)


def _review_text(command: str, rules: HostRules) -> list[str]:
    script = parse_script(command)
    risks = [f"command {p}" if not p.startswith("command") else p for p in script.problems]
    for simple in script.commands:
        risks += _review_simple(simple, rules)
    return risks


def _review_simple(simple: SimpleCommand, rules: HostRules) -> list[str]:
    review = Review()
    for redirect in simple.redirects:
        if redirect.operator in BASH_ONLY_OPERATORS:
            review.risks.append(f"uses {redirect.operator}, which shells other than bash read as a background job")
        elif redirect.operator in WRITE_OPERATORS:
            if redirect.operator in (">&", "<&") and (redirect.target.isdigit() or redirect.target == "-"):
                continue  # 2>&1, >&2, 3>&-: duplicates or closes a descriptor
            review.outputs.append((redirect.target, f"redirects output ({redirect.operator}) to"))
        elif redirect.operator in READ_OPERATORS:
            if redirect.operator == "<&" and (redirect.target.isdigit() or redirect.target == "-"):
                continue
            review.risks += _read_risks([redirect.target])
        else:
            review.risks.append(f"uses redirection {redirect.operator}")
    if not _auto_approved(simple.argv, rules):
        review.add(review_argv(simple.argv, depth=0))
    risks = list(review.risks)
    for path, how in review.outputs:
        if path not in OUTPUT_SINKS and (problem := _outside_area(path, rules)):
            risks.append(f"{how} {problem}")
    for path, how in review.writes:
        if problem := _outside_area(path, rules):
            risks.append(f"{how} {problem}")
    return risks


def _auto_approved(argv: list[str], rules: HostRules) -> bool:
    return any(
        len(pattern) == len(argv) and all(fnmatch.fnmatchcase(a, p) for a, p in zip(argv, pattern, strict=True))
        for pattern in rules.auto_approve
    )


def _outside_area(path: str, rules: HostRules) -> str | None:
    """None when writing `path` is allowed; otherwise why not, naming the path."""
    if not path.startswith("/"):
        return (
            f"the relative path {path!r}, which depends on the login directory: not provably inside the writable area"
        )
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    for area in rules.writable:
        if norm == area or norm.startswith(area + "/"):
            return None
    where = ", ".join(rules.writable) if rules.writable else "none on this host"
    return f"{norm}, outside the writable area ({where})"


# --- one argv ------------------------------------------------------------------------------------


def review_argv(argv: list[str], depth: int) -> Review:
    if depth > MAX_DEPTH:
        return Review(risks=["wrappers nested too deeply to check"])
    name = argv[0]
    if "/" in name:
        directory, base = posixpath.split(name)
        if posixpath.normpath(directory) not in BIN_DIRS:
            return Review(risks=[f"runs a program by path outside the system directories: {name}"])
        name = base
    args = argv[1:]
    program = PROGRAMS.get(name)
    if program is not None:
        try:
            return program(name, args, depth)
        except NotUnderstood as err:
            return Review(risks=[str(err)])
    if _peek_accepts([name, *args]):
        return Review()
    return Review(risks=[_unknown(name)])


def _peek_accepts(argv: list[str]) -> bool:
    try:
        check_peek(shlex.join(argv))
    except Refusal:
        return False
    return True


def _unknown(name: str) -> str:
    if name in RUNS_ARGUMENTS:
        return f"runs its arguments as a command: {name}"
    if name in INTERPRETERS or re.fullmatch(r"(python|perl|ruby|php|lua|node)[0-9.]*", name):
        return f"runs code in an interpreter, which cannot be checked: {name}"
    if name in KNOWN_RISKS:
        return f"{name} {KNOWN_RISKS[name]}"
    if name.startswith(("mkfs", "mke2fs")):
        return f"{name} formats a filesystem"
    return f"{name} is not a program known to be safe here, so what it changes cannot be shown"


# --- program knowledge ---------------------------------------------------------------------------

Program = Callable[[str, list[str], int], Review]


def _read_risks(args: list[str]) -> list[str]:
    """Reading is allowed, except process state (/proc/<pid>, environ), devices, and secret files."""
    risks = []
    for arg in args:
        for candidate in dict.fromkeys((arg, arg.partition("=")[2], arg[2:] if arg.startswith("-") else "")):
            if candidate and (problem := _read_problem(candidate)):
                risks.append(f"{problem}: {candidate}")
    return risks


def _read_problem(path: str) -> str | None:
    if "environ" in path:
        return "reads a process environment"
    norm = posixpath.normpath(path) if path.startswith("/") else path
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    if norm in ("/proc", "/dev") or (norm.startswith("/proc/") and norm not in READABLE_PROC):
        return "reads process state under /proc"
    if norm.startswith("/dev/") and norm not in READABLE_DEVICES:
        return "reads a device or descriptor under /dev"
    if SECRET_FILES.search(norm):
        return "reads a secret file"
    return None


def reads(table: Options | None = None) -> Program:
    """A program that only reads (audited: none of its options writes, executes or signals).

    With a table, its options must be in it; without, any option is accepted, since no option of
    the program can change anything (cat, ls, grep…)."""

    def review(name: str, args: list[str], depth: int) -> Review:
        if table is not None:
            table.parse(args, name)
        return Review(risks=_read_risks(args))

    return review


def peek_or(fallback: Program | None = None) -> Program:
    """Safe when ssh.exec.peek's strict allowlist accepts the argv as it is."""

    def review(name: str, args: list[str], depth: int) -> Review:
        try:
            check_peek(shlex.join([name, *args]))
            return Review()
        except Refusal as err:
            if fallback is not None:
                return fallback(name, args, depth)
            return Review(risks=[f"not a read-only use of {name} ({err})"])

    return review


def writes(table: Options, targets: Callable[[Parsed], list[tuple[str, str]]]) -> Program:
    def review(name: str, args: list[str], depth: int) -> Review:
        parsed = table.parse(args, name)
        found = targets(parsed)
        if found is None:
            return Review(risks=[f"{name}: operands not understood"])
        return Review(writes=[(path, f"{name} {how}") for path, how in found])

    return review


def _each(how: str) -> Callable[[Parsed], list[tuple[str, str]]]:
    def targets(parsed: Parsed) -> list[tuple[str, str]]:
        return [(p, how) for p in parsed.operands]

    return targets


HELP = (flag("help"), flag("version"))

RM = opts(
    flag("force", "f"), optional("interactive", "i"), Opt("interactive-once", "I"), flag("one-file-system"),
    flag("no-preserve-root"), optional("preserve-root"), flag("recursive", "rR"), flag("dir", "d"),
    flag("verbose", "v"), *HELP, complete=True,
)  # fmt: skip
RMDIR = opts(flag("ignore-fail-on-non-empty"), flag("parents", "p"), flag("verbose", "v"), *HELP, complete=True)
MKDIR = opts(
    valued("mode", "m"), flag("parents", "p"), flag("verbose", "v"), optional("context", "Z"), *HELP, complete=True
)
TOUCH = opts(
    Opt("atime", "a"), flag("no-create", "c"), valued("date", "d"), Opt("ignored", "f"), flag("no-dereference", "h"),
    Opt("mtime", "m"), valued("reference", "r"), Opt("stamp", "t", value=True), valued("time"), *HELP, complete=True,
)  # fmt: skip
_COPY_COMMON = (
    optional("backup"), Opt("backup-short", "b"), flag("debug"), flag("force", "f"), flag("interactive", "i"),
    flag("no-clobber", "n"), flag("strip-trailing-slashes"), valued("suffix", "S"), valued("target-directory", "t"),
    flag("no-target-directory", "T"), optional("update"), Opt("update-short", "u"), flag("verbose", "v"),
)  # fmt: skip
CP = opts(
    *_COPY_COMMON, flag("archive", "a"), flag("attributes-only"), flag("copy-contents"), Opt("no-deref-preserve", "d"),
    Opt("deref-args", "H"), flag("link", "l"), flag("dereference", "L"), flag("no-dereference", "P"),
    Opt("preserve-short", "p"), optional("preserve"), valued("no-preserve"), flag("parents"), flag("recursive", "rR"),
    optional("reflink"), flag("remove-destination"), valued("sparse"), flag("symbolic-link", "s"),
    flag("keep-directory-symlink"), flag("one-file-system", "x"), optional("context", "Z"), *HELP, complete=True,
)  # fmt: skip
MV = opts(*_COPY_COMMON, flag("exchange"), flag("no-copy"), optional("context", "Z"), *HELP, complete=True)
LN = opts(
    optional("backup"), Opt("backup-short", "b"), flag("directory", "dF"), flag("force", "f"), flag("interactive", "i"),
    flag("logical", "L"), flag("no-dereference", "n"), flag("physical", "P"), flag("relative", "r"), flag("symbolic", "s"),
    valued("suffix", "S"), valued("target-directory", "t"), flag("no-target-directory", "T"), flag("verbose", "v"),
    *HELP, complete=True,
)  # fmt: skip
_OWNER_COMMON = (
    flag("changes", "c"), flag("silent", "f", "silent", "quiet"), flag("verbose", "v"), flag("dereference"),
    flag("no-dereference", "h"), flag("no-preserve-root"), flag("preserve-root"), valued("reference"),
    flag("recursive", "R"), Opt("traverse-H", "H"), Opt("traverse-L", "L"), Opt("traverse-P", "P"), *HELP,
)  # fmt: skip
CHMOD = opts(*_OWNER_COMMON, complete=True)
CHOWN = opts(*_OWNER_COMMON, valued("from"), complete=True)
TEE = opts(
    flag("append", "a"),
    flag("ignore-interrupts", "i"),
    Opt("pipe", "p"),
    optional("output-error"),
    *HELP,
    complete=True,
)
TRUNCATE = opts(
    flag("no-create", "c"), flag("io-blocks", "o"), valued("reference", "r"), valued("size", "s"), *HELP, complete=True
)
# One clause of a symbolic mode; each operator starts a new action, so matching is linear.
_MODE_CLAUSE = re.compile(r"^[ugoa]*(?:[-+=](?:[rwxX]*|[ugo]))+$")
_OCTAL_MODE = re.compile(r"^0?[0-7]{1,3}$")  # no setuid/setgid/sticky digit


def is_plain_mode(mode: str) -> bool:
    """A chmod/mkdir -m mode that sets no setuid, setgid or sticky bit."""
    return len(mode) <= 64 and (
        bool(_OCTAL_MODE.match(mode)) or all(_MODE_CLAUSE.match(clause) for clause in mode.split(","))
    )


def _chmod(name: str, args: list[str], depth: int) -> Review:
    # `chmod -x f` and `chmod -w,+r f`: GNU chmod reads a leading-dash mode as the mode, not an option.
    modes = [a for a in args if a.startswith("-") and a != "--" and len(a) > 1 and a[1] in "rwxX" and is_plain_mode(a)]
    rest = [a for a in args if a not in modes]
    parsed = CHMOD.parse(rest, name)
    if not modes and not parsed.has("reference"):
        if not parsed.operands:
            return Review(risks=[f"{name}: operands not understood"])
        modes, parsed.operands = parsed.operands[:1], parsed.operands[1:]
    review = Review(writes=[(p, f"{name} changes the mode of") for p in parsed.operands])
    if not parsed.operands:
        review.risks.append(f"{name}: operands not understood")
    if parsed.has("reference") or not all(is_plain_mode(m) for m in modes):
        review.risks.append(f"{name} may set setuid, setgid or sticky bits (or copies a mode from another file)")
    return review


def _owner(table: Options) -> Program:
    def review(name: str, args: list[str], depth: int) -> Review:
        parsed = table.parse(args, name)
        operands = parsed.operands if parsed.has("reference") else parsed.operands[1:]
        if not operands:
            return Review(risks=[f"{name}: operands not understood"])
        return Review(writes=[(p, f"{name} changes the owner of") for p in operands])

    return review


def _rmdir_targets(parsed: Parsed) -> list[tuple[str, str]]:
    found = []
    for path in parsed.operands:
        found.append((path, "removes"))
        if parsed.has("parents"):  # -p removes each parent too, up to the root
            parent = posixpath.dirname(posixpath.normpath(path))
            while parent not in ("", "/", "."):
                found.append((parent, "removes (as a parent, -p)"))
                parent = posixpath.dirname(parent)
    return found


def _copy_targets(moves: bool) -> Callable[[Parsed], list[tuple[str, str]]]:
    def targets(parsed: Parsed) -> list[tuple[str, str]]:
        if parsed.has("target-directory"):
            destination, sources = parsed.values("target-directory")[-1], parsed.operands
        elif len(parsed.operands) >= 2:
            destination, sources = parsed.operands[-1], parsed.operands[:-1]
        else:
            return None  # type: ignore[return-value]
        found = [(destination, "writes into")]
        if moves:
            found += [(s, "moves away") for s in sources]
        return found

    return targets


CP_ONLY_CONTENTS = ("force", "interactive", "no-clobber", "verbose", "target-directory", "no-target-directory",
                    "dereference", "update", "update-short", "strip-trailing-slashes", "help", "version", "debug")  # fmt: skip


def _cp(name: str, args: list[str], depth: int) -> Review:
    # cp may only copy file *contents* into the area: links (-s, -l, or symlinks copied as links by
    # -R/-a/-P) could point outside it, -R copies device nodes, -p/-a keep setuid bits, --parents
    # appends the source's own path (../../etc) to the destination.
    parsed = CP.parse(args, name)
    review = writes(CP, _copy_targets(moves=False))(name, args, depth)
    review.risks += _read_risks(parsed.operands[:-1] if not parsed.has("target-directory") else parsed.operands)
    if set(parsed.options) - set(CP_ONLY_CONTENTS):
        review.risks.append(
            "cp with options beyond copying contents (-f -i -n -u -v -t -T -L) may copy links, devices or special bits, "
            "or write elsewhere"
        )
    return review


def _mkdir(name: str, args: list[str], depth: int) -> Review:
    parsed = MKDIR.parse(args, name)
    review = Review(writes=[(p, "mkdir creates") for p in parsed.operands])
    if not all(is_plain_mode(m) for m in parsed.values("mode")):
        review.risks.append("mkdir -m may set setuid, setgid or sticky bits")
    return review


def _ln(name: str, args: list[str], depth: int) -> Review:
    LN.parse(args, name)
    return Review(risks=["ln creates links, which could point outside the writable area"])


def _tee(name: str, args: list[str], depth: int) -> Review:
    return Review(outputs=[(p, "tee writes") for p in TEE.parse(args, name).operands])


SORT = opts(
    flag("ignore-leading-blanks", "b"), flag("dictionary-order", "d"), flag("ignore-case", "f"),
    flag("general-numeric-sort", "g"), flag("ignore-nonprinting", "i"), flag("month-sort", "M"),
    flag("human-numeric-sort", "h"), flag("numeric-sort", "n"), flag("random-sort", "R"), flag("reverse", "r"),
    flag("version-sort", "V"), optional("check", "c"), Opt("check-quiet", "C"), flag("merge", "m"),
    flag("stable", "s"), flag("unique", "u"), flag("zero-terminated", "z"), valued("key", "k"),
    valued("field-separator", "t"), valued("buffer-size", "S"), valued("output", "o"), valued("parallel"), *HELP,
)  # fmt: skip


def _sort(name: str, args: list[str], depth: int) -> Review:
    parsed = SORT.parse(args, name)
    return Review(risks=_read_risks(parsed.operands), outputs=[(p, "sort -o writes") for p in parsed.values("output")])


UNIQ = opts(
    flag("count", "c"), flag("repeated", "d"), optional("all-repeated", "D"), valued("skip-fields", "f"),
    optional("group"), flag("ignore-case", "i"), valued("skip-chars", "s"), flag("unique", "u"),
    flag("zero-terminated", "z"), valued("check-chars", "w"), *HELP,
)  # fmt: skip


def _uniq(name: str, args: list[str], depth: int) -> Review:
    parsed = UNIQ.parse(args, name)
    # uniq [INPUT [OUTPUT]]: a second operand is a file it writes.
    return Review(risks=_read_risks(parsed.operands[:1]), outputs=[(p, "uniq writes") for p in parsed.operands[1:2]])


SED = opts(
    flag("quiet", "n", "quiet", "silent"), flag("regexp-extended", "Er"), valued("expression", "e"),
    optional("in-place", "i"), flag("separate", "s"), flag("null-data", "z"), flag("posix"), flag("sandbox"),
    valued("line-length", "l"), flag("unbuffered", "u"), flag("debug"), *HELP,
)  # fmt: skip
# Scripts sed can only print with: p, d, q, line ranges, and s/re/repl/ with `/` delimiters and no
# backslash at all (so no escape can turn a delimiter, a comment or a w/e flag into something else).
_SED_SAFE = re.compile(r"^ *(?:(?:[0-9]+|\$)(?:,(?:[0-9]+|\$))?)? *(?:[pd]|[0-9]*q|s/[^/\\\n]*/[^/\\\n]*/[gpI0-9]*) *$")


def _sed(name: str, args: list[str], depth: int) -> Review:
    if any(a.startswith("-i") and len(a) > 2 or a.startswith("--in-place=") for a in args):
        return Review(risks=["sed -i with a backup suffix writes a second file, whose name the suffix decides"])
    parsed = SED.parse(args, name)
    scripts = parsed.values("expression") or parsed.operands[:1]
    files = parsed.operands if parsed.has("expression") else parsed.operands[1:]
    review = Review(risks=_read_risks(files))
    for script in scripts or [""]:
        if len(script) > 500 or not all(_SED_SAFE.match(part) for part in script.split(";")):
            review.risks.append(f"sed script may write files or run commands (w, e, r, …): {script[:60]!r}")
    if parsed.has("in-place"):
        review.writes += [(p, "sed -i edits") for p in files]
    return review


FIND_TESTS_WITH_VALUE = frozenset({
    "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type", "-xtype",
    "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size", "-newer", "-anewer", "-cnewer", "-user",
    "-group", "-uid", "-gid", "-perm", "-maxdepth", "-mindepth", "-links", "-inum", "-samefile", "-lname",
    "-ilname", "-used", "-printf", "-regextype", "-fstype", "-context", "-newermt", "-newerat", "-newerct",
})  # fmt: skip
FIND_FLAGS = frozenset({
    "-print", "-print0", "-ls", "-prune", "-quit", "-o", "-or", "-a", "-and", "-not", "!", "(", ")", ",", "-empty",
    "-true", "-false", "-readable", "-writable", "-executable", "-nouser", "-nogroup", "-xdev", "-mount",
    "-depth", "-d", "-ignore_readdir_race", "-noignore_readdir_race", "-daystart", "-noleaf", "-P",
})  # fmt: skip
FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
FIND_WRITES = {"-fprint": 1, "-fprint0": 1, "-fls": 1, "-fprintf": 2}


def _find(name: str, args: list[str], depth: int) -> Review:
    review = Review()
    i = 0
    while i < len(args) and (args[i] in ("-P", "-H", "-L") or args[i].startswith(("-D", "-O"))):
        if args[i] != "-P":
            review.risks.append(f"find {args[i]}: only -P is understood before the starting points")
        i += 1
    starts = []
    while i < len(args) and not (args[i].startswith("-") or args[i] in ("(", "!", ")", ",")):
        starts.append(args[i])
        i += 1
    starts = starts or ["."]
    review.risks += _read_risks(starts)
    while i < len(args):
        token = args[i]
        i += 1
        if token in FIND_FLAGS:
            continue
        if token in FIND_TESTS_WITH_VALUE:
            i += 1
            continue
        if token == "-follow":
            review.risks.append("find -follow follows symbolic links")
        elif token == "-delete":
            review.writes += [(s, "find -delete removes files under") for s in starts]
        elif token in FIND_WRITES:
            review.writes += [(args[i], f"find {token} writes")] if i < len(args) else []
            i += FIND_WRITES[token]
        elif token in FIND_EXEC:
            # `;` ends the command; `+` only right after `{}` (anywhere else it is an argument).
            end = next(
                (j for j in range(i, len(args)) if args[j] == ";" or (args[j] == "+" and args[j - 1] == "{}")), None
            )
            if end is None or end == i:
                review.risks.append(f"find {token} without a complete command")
                break
            inner = args[i:end]
            if any("{}" in a and a != "{}" for a in inner):
                review.risks.append(f"find {token} puts {{}} inside a word, so the path it makes cannot be judged")
            for start in starts:  # `{}` is some path under a starting point: judge the starting point
                review.add(review_argv([start if a == "{}" else a for a in inner], depth + 1))
            i = end + 1
        else:
            review.risks.append(f"find: expression {token!r} is not understood")
            break
    return review


SUDO = opts(
    flag("non-interactive", "n"),
    valued("user", "u"),
    valued("group", "g"),
    flag("set-home", "H"),
    *HELP,
)
TIMEOUT = opts(valued("signal", "s"), valued("kill-after", "k"), flag("preserve-status"), flag("foreground"),
               flag("verbose", "v"), *HELP)  # fmt: skip
NICE = opts(valued("adjustment", "n"), *HELP, numeric=True)


def wrapper(table: Options | None, skip_operands: int = 0) -> Program:
    """A wrapper that runs the rest of its argv as a command: judge that command instead.

    Its own options must be in its table (unknown ones may change how or as whom it runs);
    `skip_operands` skips operands before the command (timeout's DURATION)."""

    def review(name: str, args: list[str], depth: int) -> Review:
        if table is None:  # env: only the plain form, which changes nothing about the command
            if not args:
                return Review()  # bare `env` prints the environment
            if args[0].startswith("-") or "=" in args[0]:
                return Review(risks=[f"runs its arguments as a command with changed settings: {name} {args[0]}"])
            return review_argv(args, depth + 1)
        parsed = table.parse(args, name, stop_at_operand=True)
        command = parsed.operands[skip_operands:]
        if not command:
            return Review(risks=[f"{name} without a command to run"])
        return review_argv(command, depth + 1)

    return review


def _cd(name: str, args: list[str], depth: int) -> Review:
    # Later relative paths read from here; so it must be an absolute, ordinary directory.
    if len(args) != 1 or not args[0].startswith("/"):
        return Review(risks=["cd to anything but one absolute directory is not understood"])
    return Review(risks=_read_risks(args))


def _printf(name: str, args: list[str], depth: int) -> Review:
    # bash's `printf -v NAME` assigns a variable (PATH, or an array subscript it evaluates).
    if args and args[0].startswith("-"):
        return Review(risks=["printf with options (printf -v assigns shell variables)"])
    return Review()


def _exit(name: str, args: list[str], depth: int) -> Review:
    return (
        Review()
        if not args or (len(args) == 1 and args[0].isdigit())
        else Review(risks=["exit with a non-numeric status"])
    )


PROGRAMS: dict[str, Program] = {
    **dict.fromkeys(
        # Audited: no option of these writes a file, runs a command or signals a process.
        (
            "cat",
            "tac",
            "head",
            "tail",
            "wc",
            "ls",
            "dir",
            "grep",
            "egrep",
            "fgrep",
            "cut",
            "tr",
            "nl",
            "rev",
            "fold",
            "paste",
            "join",
            "comm",
            "cmp",
            "diff",
            "expand",
            "unexpand",
            "column",
            "strings",
            "od",
            "hexdump",
            "base64",
            "md5sum",
            "sha1sum",
            "sha224sum",
            "sha256sum",
            "sha384sum",
            "sha512sum",
            "b2sum",
            "cksum",
            "stat",
            "basename",
            "dirname",
            "readlink",
            "realpath",
            "pwd",
            "echo",
            "true",
            "false",
            "sleep",
            "seq",
            "whoami",
            "groups",
            "printenv",
            "which",
            "getent",
            "findmnt",
            "lsof",
            "du",
            "df",
            "free",
            "uptime",
            "uname",
            "nproc",
            "arch",
            "lscpu",
            "lsblk",
            "w",
            "who",
            "id",
            "zcat",
            "numfmt",
        ),
        reads(),
    ),  # fmt: skip
    "rm": writes(RM, _each("removes")),
    "unlink": writes(opts(*HELP, complete=True), _each("removes")),
    "rmdir": writes(RMDIR, _rmdir_targets),
    "mkdir": _mkdir,
    "touch": writes(TOUCH, _each("touches")),
    "cp": _cp,
    "mv": writes(MV, _copy_targets(moves=True)),
    "ln": _ln,
    "tee": _tee,
    "truncate": writes(TRUNCATE, _each("truncates")),
    "chmod": _chmod,
    "chown": _owner(CHOWN),
    "chgrp": _owner(CHOWN),
    "sort": _sort,
    "uniq": _uniq,
    "sed": _sed,
    "find": _find,
    "sudo": wrapper(SUDO),
    "timeout": wrapper(TIMEOUT, skip_operands=1),
    "nice": wrapper(NICE),
    "env": wrapper(None),
    "cd": _cd,
    "printf": _printf,
    "exit": _exit,
    # The strict read-only allowlist of ssh.exec.peek (verbs, options and operands audited there).
    **dict.fromkeys(
        (
            "ps",
            "ip",
            "ss",
            "netstat",
            "systemctl",
            "journalctl",
            "docker",
            "dmesg",
            "date",
            "hostname",
            "last",
            "vmstat",
        ),
        peek_or(),
    ),  # fmt: skip
}

RUNS_ARGUMENTS = frozenset({
    "xargs", "watch", "flock", "script", "nohup", "setsid", "chroot", "su", "runuser", "doas", "pkexec", "busybox",
    "strace", "ltrace", "parallel", "exec", "command", "builtin", "eval", "source", ".", "time", "trap", "stdbuf",
    "unbuffer", "ionice", "taskset", "chrt", "nsenter", "unshare", "systemd-run", "at", "batch", "ssh", "sshpass",
    "expect", "socat", "setpriv", "capsh", "fakeroot", "firejail", "bwrap", "numactl", "sg", "newgrp", "caller",
    "coproc", "alias", "enable", "hash", "set", "shopt", "export", "local", "declare", "typeset", "readonly",
    "let", "unset", "ulimit", "umask", "wait", "fg", "bg", "disown", "mapfile", "readarray", "read",
    "dbus-send", "busctl", "sudoedit", "run-parts",
})  # fmt: skip
INTERPRETERS = frozenset({
    "sh", "bash", "rbash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "yash", "posh",
    "python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php", "lua", "awk", "gawk", "mawk", "nawk",
    "busybox", "tclsh", "wish", "Rscript", "julia", "pwsh", "osascript", "gdb", "vi", "vim", "nvim", "ex", "ed",
    "emacs", "less", "more", "man", "jq", "make", "java", "jshell", "groovy", "deno", "bun", "irb", "lldb",
})  # fmt: skip
KNOWN_RISKS = {
    "dd": "copies raw data and can overwrite devices", "shred": "destroys file contents",
    "wipefs": "wipes filesystem signatures", "fdisk": "changes partitions", "sfdisk": "changes partitions",
    "parted": "changes partitions", "reboot": "reboots the host", "shutdown": "powers off or reboots the host",
    "poweroff": "powers off the host", "halt": "halts the host", "init": "changes the runlevel",
    "telinit": "changes the runlevel", "kill": "signals processes", "pkill": "signals processes",
    "crontab": "replaces or removes scheduled jobs", "killall": "signals processes",
    "iptables": "changes the firewall", "ip6tables": "changes the firewall", "nft": "changes the firewall",
    "ufw": "changes the firewall", "firewall-cmd": "changes the firewall", "useradd": "changes users",
    "userdel": "changes users", "usermod": "changes users", "passwd": "changes passwords",
    "chpasswd": "changes passwords", "groupadd": "changes groups", "groupdel": "changes groups",
    "mount": "mounts filesystems", "umount": "unmounts filesystems", "swapoff": "disables swap",
    "sysctl": "changes kernel settings", "modprobe": "loads kernel modules", "rmmod": "unloads kernel modules",
    "insmod": "loads kernel modules", "apt": "installs or removes packages", "apt-get": "installs or removes packages",
    "dpkg": "installs or removes packages", "yum": "installs or removes packages", "dnf": "installs or removes packages",
    "pip": "installs packages", "pip3": "installs packages", "npm": "installs packages", "curl": "transfers data over the network",
    "wget": "transfers data over the network", "scp": "copies files over the network", "rsync": "copies and deletes files",
    "tar": "creates or extracts archives", "unzip": "extracts archives", "zip": "writes archives", "gzip": "replaces files",
    "gunzip": "replaces files", "install": "copies files and sets permissions", "git": "changes repositories",
    "kubectl": "changes a cluster", "service": "changes service state", "chattr": "changes file attributes",
    "setfacl": "changes file permissions", "visudo": "edits sudo rules", "hostnamectl": "changes the hostname",
    "timedatectl": "changes the clock", "ifdown": "takes a network interface down", "ifup": "changes network interfaces",
    "nmcli": "changes the network", "tc": "changes network queues", "xxd": "can write files (-r)", "file": "can write files (-C)",
}  # fmt: skip


def check_rules(rules: HostRules) -> None:
    """Operator settings that could never work: fail at start-up, not at the first command."""
    for pattern in rules.auto_approve:
        if not pattern:
            raise ValueError("an auto_approve pattern is empty")
        if pattern[0] in ("*", "?") or any(ch in pattern[0] for ch in "*?["):
            raise ValueError(f"auto_approve pattern {' '.join(pattern)!r}: the program name must be literal")
