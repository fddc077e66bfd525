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
3. every redirection writes only to /dev/null or inside the writable area.

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

from policies.getopt import NotUnderstood, Opt, Options, Parsed, flag, optional, opts, short_only, valued
from policies.refusal import Refusal
from policies.shell_parse import READ_OPERATORS, WRITE_OPERATORS, SimpleCommand, parse_script
from policies.ssh_peek import check_peek

MAX_DEPTH = 4
HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
BIN_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"})
_ENVIRON = re.compile(r"(^|/)environ$")


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
    norm = posixpath.normpath(path)
    if norm == "/" or norm.startswith("//"):
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

    def add(self, other: Review) -> None:
        self.risks += other.risks
        self.writes += other.writes


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
        if redirect.operator in WRITE_OPERATORS:
            if redirect.operator in (">&", "<&") and (redirect.target.isdigit() or redirect.target == "-"):
                continue  # 2>&1, >&2, 3>&-: duplicates or closes a descriptor
            review.writes.append((redirect.target, f"redirects output ({redirect.operator}) to"))
        elif redirect.operator in READ_OPERATORS:
            if redirect.operator == "<&" and (redirect.target.isdigit() or redirect.target == "-"):
                continue
            review.risks += _read_risks([redirect.target])
        else:
            review.risks.append(f"uses redirection {redirect.operator}")
    if not _auto_approved(simple.argv, rules):
        review.add(review_argv(simple.argv, depth=0))
    risks = list(review.risks)
    for path, how in review.writes:
        problem = _outside_area(path, rules)
        if problem:
            risks.append(f"{how} {problem}")
    return risks


def _auto_approved(argv: list[str], rules: HostRules) -> bool:
    return any(
        len(pattern) == len(argv) and all(fnmatch.fnmatchcase(a, p) for a, p in zip(argv, pattern, strict=True))
        for pattern in rules.auto_approve
    )


def _outside_area(path: str, rules: HostRules) -> str | None:
    """None when writing `path` is allowed; otherwise why not, naming the path."""
    if path in HARMLESS_TARGETS:
        return None
    if not path.startswith("/"):
        return f"the relative path {path!r}, which depends on the login directory: not provably inside the writable area"
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
    """Reading is allowed anywhere, except the environment of processes (/proc/<pid>/environ)."""
    risks = []
    for arg in args:
        for candidate in {arg, arg.partition("=")[2], arg[2:] if arg.startswith("-") else arg}:
            norm = posixpath.normpath(candidate) if candidate else ""
            if "proc" in norm and _ENVIRON.search(norm):
                risks.append(f"reads a process environment: {candidate}")
    return risks


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
MKDIR = opts(valued("mode", "m"), flag("parents", "p"), flag("verbose", "v"), optional("context", "Z"), *HELP, complete=True)
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
TEE = opts(flag("append", "a"), flag("ignore-interrupts", "i"), Opt("pipe", "p"), optional("output-error"), *HELP, complete=True)
TRUNCATE = opts(
    flag("no-create", "c"), flag("io-blocks", "o"), valued("reference", "r"), valued("size", "s"), *HELP, complete=True
)
_CHMOD_MODE = re.compile(r"^([ugoa]*[-+=]([rwxXst]*|[ugo]))+(,([ugoa]*[-+=]([rwxXst]*|[ugo])))*$|^[0-7]{1,4}$")


def _chmod(name: str, args: list[str], depth: int) -> Review:
    # `chmod -x f` and `chmod -w,+r f`: GNU chmod reads a leading-dash mode as the mode, not an option.
    modes = [a for a in args if a.startswith("-") and a != "--" and _CHMOD_MODE.match(a)]
    rest = [a for a in args if a not in modes]
    parsed = CHMOD.parse(rest, name)
    operands = parsed.operands if (modes or parsed.has("reference")) else parsed.operands[1:]
    if not operands:
        return Review(risks=[f"{name}: operands not understood"])
    return Review(writes=[(p, f"{name} changes the mode of") for p in operands])


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


def _cp(name: str, args: list[str], depth: int) -> Review:
    # A link in the writable area that points outside it would turn a later "safe" write into a
    # write elsewhere: cp may only copy contents (no -s/-l, and recursion only with -L).
    parsed = CP.parse(args, name)
    review = writes(CP, _copy_targets(moves=False))(name, args, depth)
    if parsed.has("symbolic-link", "link"):
        review.risks.append("cp creates links, which could point outside the writable area")
    elif parsed.has("archive", "no-deref-preserve", "no-dereference", "recursive") and not parsed.has("dereference"):
        review.risks.append("cp copies symbolic links as links (use -L to copy what they point to)")
    return review


def _ln(name: str, args: list[str], depth: int) -> Review:
    LN.parse(args, name)
    return Review(risks=["ln creates links, which could point outside the writable area"])


def _tee_targets(parsed: Parsed) -> list[tuple[str, str]]:
    return [(p, "writes") for p in parsed.operands]


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
    return Review(risks=_read_risks(parsed.operands), writes=[(p, "sort -o writes") for p in parsed.values("output")])


UNIQ = opts(
    flag("count", "c"), flag("repeated", "d"), optional("all-repeated", "D"), valued("skip-fields", "f"),
    optional("group"), flag("ignore-case", "i"), valued("skip-chars", "s"), flag("unique", "u"),
    flag("zero-terminated", "z"), valued("check-chars", "w"), *HELP,
)  # fmt: skip


def _uniq(name: str, args: list[str], depth: int) -> Review:
    parsed = UNIQ.parse(args, name)
    # uniq [INPUT [OUTPUT]]: a second operand is a file it writes.
    return Review(risks=_read_risks(parsed.operands[:1]), writes=[(p, "uniq writes") for p in parsed.operands[1:2]])


SED = opts(
    flag("quiet", "n", "quiet", "silent"), flag("regexp-extended", "Er"), valued("expression", "e"),
    optional("in-place", "i"), flag("separate", "s"), flag("null-data", "z"), flag("posix"), flag("sandbox"),
    valued("line-length", "l"), flag("unbuffered", "u"), flag("debug"), *HELP,
)  # fmt: skip
# Scripts sed can only print with: s/re/repl/flags (no w, e or m-with-file flags), p, d, q, line ranges.
_SED_SAFE = re.compile(
    r"^\s*(?:(?:\d+|\$)(?:,(?:\d+|\$))?)?\s*(?:[pdq]|\d*q|s(?P<d>[/|#:,@])(?:(?!(?P=d)).|\\.)*(?P=d)(?:(?!(?P=d)).|\\.)*(?P=d)[gpiI0-9]*)\s*$"
)


def _sed(name: str, args: list[str], depth: int) -> Review:
    # `-i` takes an optional *attached* suffix only (`-i.bak`); GNU sed never reads `-i X` as a value.
    args = ["--in-place" if a.startswith("-i") and len(a) > 2 and not a.startswith("--") else a for a in args]
    parsed = SED.parse(args, name)
    scripts = parsed.values("expression") or parsed.operands[:1]
    files = parsed.operands if parsed.has("expression") else parsed.operands[1:]
    review = Review(risks=_read_risks(files))
    for script in scripts or [""]:
        if not all(_SED_SAFE.match(part) for part in script.split(";")):
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
    while i < len(args) and args[i] in ("-P", "-H", "-L", "-D", "-O"):
        if args[i] in ("-H", "-L"):
            review.risks.append(f"find {args[i]} follows symbolic links")
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
            end = next((j for j in range(i, len(args)) if args[j] in (";", "+")), None)
            if end is None or end == i:
                review.risks.append(f"find {token} without a complete command")
                break
            inner = args[i:end]
            for start in starts:  # `{}` is some path under a starting point: judge the starting point
                review.add(review_argv([start if a == "{}" else a for a in inner], depth + 1))
            i = end + 1
        else:
            review.risks.append(f"find: expression {token!r} is not understood")
            break
    return review


SUDO = opts(
    flag("non-interactive", "n"), valued("user", "u"), valued("group", "g"), flag("set-home", "H"), *HELP,
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
    return Review() if len(args) <= 1 and not (args and args[0].startswith("-") and args[0] != "-") else Review(
        risks=["cd: options not understood"]
    )


PROGRAMS: dict[str, Program] = {
    **dict.fromkeys(
        # Audited: no option of these writes a file, runs a command or signals a process.
        ("exit", "cat", "tac", "head", "tail", "wc", "ls", "dir", "grep", "egrep", "fgrep", "zgrep", "cut", "tr", "nl",
         "rev", "fold", "paste", "join", "comm", "cmp", "diff", "expand", "unexpand", "column", "strings", "od",
         "hexdump", "base64", "md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum",
         "cksum", "stat", "basename", "dirname", "readlink", "realpath", "pwd", "echo", "printf", "true", "false",
         "sleep", "seq", "whoami", "groups", "printenv", "which", "getent", "findmnt", "lsof", "du", "df", "free",
         "uptime", "uname", "nproc", "arch", "lscpu", "lsblk", "w", "who", "id", "zcat", "numfmt", "test"),
        reads(),
    ),  # fmt: skip
    "rm": writes(RM, _each("removes")),
    "unlink": writes(opts(*HELP, complete=True), _each("removes")),
    "rmdir": writes(RMDIR, _rmdir_targets),
    "mkdir": writes(MKDIR, _each("creates")),
    "touch": writes(TOUCH, _each("touches")),
    "cp": _cp,
    "mv": writes(MV, _copy_targets(moves=True)),
    "ln": _ln,
    "tee": writes(TEE, _tee_targets),
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
    # The strict read-only allowlist of ssh.exec.peek (verbs, options and operands audited there).
    **dict.fromkeys(
        ("ps", "ip", "ss", "netstat", "systemctl", "journalctl", "docker", "dmesg", "date", "hostname", "last",
         "vmstat"),
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
