"""What ssh.exec.peek may run: a strict, data-driven allowlist of read-only commands (pure, no I/O).

`check_peek(command)` returns the argv to run or raises `RequestRejected(UNSAFE_COMMAND)` saying why.
The raw text is scanned for shell syntax *before* it is parsed, so nothing the remote shell would
expand (`$`, backticks, globs, `~`, redirections, `;`...) ever reaches it; the caller then sends
`shlex.join(argv)`, never a string built from the request.

Each allowed command maps to a validator in `PEEK_COMMANDS`; most are a declarative `Rule`
(policies/peek_rules.py: which options, by exact name, which take a value, what an operand may be).
Commands whose first operand is an exact verb (`systemctl status`, `docker ps`) use `Verbs`. `ip`
resolves abbreviations as iproute2 does (policies/peek_iproute.py) and `ps` is checked against
procps-ng's two parses (policies/peek_ps.py). Anything not listed is refused.

The other half of the SSH policy, `classify_danger` for ssh.exec, lives in `policies/ssh_exec.py`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from policies.peek_iproute import check_ip
from policies.peek_ps import check_ps
from policies.peek_rules import (
    READABLE_FILES,
    PolicyViolation,
    Rule,
    Verbs,
    any_path,
    any_value,
    bounded_int,
    comma_list,
    date_format,
    one_of,
    readable_file,
    word,
    writes,
)
from policies.refusal import Refusal

__all__ = ["PEEK_COMMANDS", "READABLE_FILES", "Rule", "Verbs", "check_peek", "reject"]

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


def reject(reason: str) -> Refusal:
    return Refusal(reason, field="command")


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


# --- the allowlist ------------------------------------------------------------------------------
# Every option is listed by its exact name (see policies/peek_rules.py); `refuse` entries give the
# reason for the dangerous ones and also catch their abbreviations (`--vac`, `--fol`).

LINES = bounded_int(1, MAX_LINES)
FOLLOW = "follows output forever; use -n to read the last lines"
REMOTE = "talks to another host or machine"
NO_ARGS = Rule()


def columns(value: str) -> None:
    """A comma list of column names (lsblk -o, df --output): harmless labels."""
    for item in value.split(","):
        if not item.replace("-", "").replace("_", "").replace("%", "").isalnum():
            raise PolicyViolation(f"unexpected column {item!r}")


_HEAD_TAIL = Rule(
    flags="qv",
    valued={"-n": LINES, "--lines": LINES},
    operands=readable_file,
    min_operands=1,
    refuse={**writes(FOLLOW, "-f", "-F", "--follow", "--retry"), **writes("waits for a process", "--pid")},
)

# What `systemctl show -p` may print: state and timing, never Environment=, ExecStart= or paths to env files.
SYSTEMD_PROPERTIES = frozenset({
    "Id", "Names", "Description", "LoadState", "ActiveState", "SubState", "UnitFileState", "UnitFilePreset",
    "MainPID", "ControlPID", "ExecMainPID", "ExecMainStatus", "ExecMainCode", "ExecMainStartTimestamp",
    "ExecMainExitTimestamp", "ActiveEnterTimestamp", "ActiveExitTimestamp", "InactiveEnterTimestamp",
    "StateChangeTimestamp", "NRestarts", "Result", "Type", "Restart", "RestartUSec", "MemoryCurrent",
    "MemoryPeak", "CPUUsageNSec", "TasksCurrent", "User", "Group", "After", "Before", "Requires", "Wants",
    "WantedBy", "FragmentPath", "Triggers", "TriggeredBy", "NextElapseUSecRealtime", "LastTriggerUSec",
})  # fmt: skip
_SYSTEMCTL_REFUSE = {
    **writes(REMOTE, "-H", "--host", "-M", "--machine"),
    **writes("reads another root directory or image", "--root", "--image"),
    **writes("talks to a user's service manager", "--user", "--global"),
    **writes("changes what systemctl does next boot or at runtime", "--runtime", "--now", "--force"),
    **writes("prints journal entries in a verbose/export format", "-o", "--output"),
}
_SYSTEMCTL_LIST: dict[str, Any] = dict(
    flags="alq",
    long_flags=frozenset({"--no-pager", "--all", "--failed", "--plain", "--no-legend", "--full", "--quiet"}),
    valued={"-n": LINES, "--lines": LINES, "-t": word, "--type": word, "--state": word},
    operands=word,
    max_operands=16,
    refuse=_SYSTEMCTL_REFUSE,
)
_SYSTEMCTL_READ = Rule(**_SYSTEMCTL_LIST)
_PROPERTIES = comma_list(SYSTEMD_PROPERTIES, "unit property")
_SYSTEMCTL_SHOW = Rule(
    **{**_SYSTEMCTL_LIST, "valued": {"-p": _PROPERTIES, "--property": _PROPERTIES}},
    required=(("-p", "--property"),),
)

_DOCKER_LIST = Rule(
    flags="aqsl",
    long_flags=frozenset({"--all", "--quiet", "--no-trunc", "--size", "--latest", "--digests"}),
    valued={"-n": bounded_int(1, 1000), "--last": bounded_int(1, 1000), "-f": word, "--filter": word},
    refuse=writes("runs a Go template over every field (labels, mounts...); use the default table", "--format"),
)

JOURNAL_FORMATS = (
    "short",
    "short-iso",
    "short-iso-precise",
    "short-precise",
    "short-monotonic",
    "short-unix",
    "cat",
    "with-unit",
)
_JOURNAL_FORMAT = one_of(
    *JOURNAL_FORMATS, why="verbose/export/json print every field, including _CMDLINE and binary data"
)

PEEK_COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "df": Rule(
        flags="ahHiklPT",
        long_flags=frozenset({"--human-readable", "--si", "--total", "--print-type", "--inodes", "--local", "--all"}),
        valued={"-t": word, "--type": word, "-x": word, "--exclude-type": word, "--output": columns},
        operands=any_path,
    ),
    "du": Rule(
        flags="achskmxS",
        long_flags=frozenset({"--summarize", "--total", "--human-readable", "--one-file-system", "--apparent-size"}),
        valued={"-d": bounded_int(0, 10), "--max-depth": bounded_int(0, 10)},
        operands=any_path,
        refuse=writes("reads a list of paths or patterns from a file", "--files0-from", "-X", "--exclude-from"),
    ),
    "uptime": Rule(flags="ps", long_flags=frozenset({"--pretty", "--since"})),
    "free": Rule(
        flags="bkmghltw",
        long_flags=frozenset({"--human", "--si", "--total", "--wide", "--bytes", "--kibi", "--mebi", "--gibi"}),
        refuse=writes("repeats (never returns at once)", "-s", "--seconds", "-c", "--count"),
    ),
    "uname": Rule(flags="asnrvmpio", long_flags=frozenset({"--all"})),
    "whoami": NO_ARGS,
    # No operands: `hostname NAME` renames the machine.
    "hostname": Rule(
        flags="fsdiIA",
        long_flags=frozenset({"--fqdn", "--short", "--domain", "--ip-address", "--all-ip-addresses"}),
        refuse=writes("sets the hostname", "-F", "--file", "-b", "--boot"),
    ),
    "id": Rule(flags="ugGnr", operands=word, max_operands=1),
    "date": Rule(
        flags="uRI",
        long_flags=frozenset({"--utc", "--rfc-email"}),
        valued={
            "--iso-8601": one_of("date", "hours", "minutes", "seconds", "ns"),
            "--rfc-3339": one_of("date", "seconds", "ns"),
        },
        operands=date_format,
        max_operands=1,
        refuse={
            **writes("sets the clock", "-s", "--set"),
            **writes("reads a file", "-f", "--file", "-r", "--reference"),
        },
    ),
    "ls": Rule(
        flags="aAlhtrSs1dinRFG",
        long_flags=frozenset({"--all", "--human-readable", "--full-time"}),
        operands=any_path,
        max_operands=16,
    ),
    "cat": Rule(flags="nbsAET", operands=readable_file, min_operands=1),
    "head": _HEAD_TAIL,
    "tail": _HEAD_TAIL,
    "wc": Rule(
        flags="lwcm",
        operands=readable_file,
        min_operands=1,
        refuse=writes("reads a list of files from a file", "--files0-from"),
    ),
    "ps": check_ps,
    "systemctl": Verbs(
        verbs={
            **dict.fromkeys(
                (
                    "status",
                    "is-active",
                    "is-enabled",
                    "is-failed",
                    "list-units",
                    "list-unit-files",
                    "list-timers",
                    "list-sockets",
                ),
                _SYSTEMCTL_READ,
            ),
            "show": _SYSTEMCTL_SHOW,
        },
        options=Rule(long_flags=frozenset({"--no-pager", "--failed", "--all"}), refuse=_SYSTEMCTL_REFUSE),
        refuse={
            **writes(
                "changes system state; only status, is-*, list-* and show -p are read-only",
                "start",
                "stop",
                "restart",
                "reload",
                "enable",
                "disable",
                "mask",
                "unmask",
                "kill",
                "reboot",
                "poweroff",
                "halt",
                "isolate",
                "edit",
                "daemon-reload",
                "reset-failed",
                "set-property",
                "try-restart",
                "reload-or-restart",
                "try-reload-or-restart",
                "set-environment",
                "unset-environment",
                "import-environment",
                "link",
                "revert",
                "preset",
                "preset-all",
                "set-default",
                "default",
                "rescue",
                "emergency",
                "suspend",
                "hibernate",
                "kexec",
                "exit",
                "switch-root",
                "daemon-reexec",
                "freeze",
                "thaw",
                "clean",
                "bind",
                "mount-image",
                "add-wants",
                "add-requires",
                "log-level",
                "log-target",
                "service-log-level",
            ),
            "cat": "prints unit files, whose Environment= lines may hold secrets; use `show -p` with named properties",
            "show-environment": "prints the service manager's environment (secrets)",
        },
    ),
    "journalctl": Rule(
        flags="kxqrab",
        long_flags=frozenset(
            {"--no-pager", "--dmesg", "--reverse", "--utc", "--quiet", "--no-hostname", "--catalog", "--boot"}
        ),
        valued={
            "-n": LINES,
            "--lines": LINES,
            "-u": word,
            "--unit": word,
            "-p": word,
            "--priority": word,
            "-S": any_value,
            "--since": any_value,
            "-U": any_value,
            "--until": any_value,
            "-o": _JOURNAL_FORMAT,
            "--output": _JOURNAL_FORMAT,
            "-t": word,
            "--identifier": word,
            "-g": any_value,
            "--grep": any_value,
        },
        required=(("-n", "--lines"),),
        refuse={
            **writes(FOLLOW, "-f", "--follow", "-e", "--pager-end"),
            **writes(
                "deletes or rewrites journal files",
                "--vacuum-size",
                "--vacuum-time",
                "--vacuum-files",
                "--rotate",
                "--flush",
                "--sync",
                "--relinquish-var",
                "--smart-relinquish-var",
                "--setup-keys",
                "--update-catalog",
            ),
            **writes("writes the cursor to a file", "--cursor-file"),
            **writes(
                "reads files outside the system journal", "-D", "--directory", "--file", "-i", "--root", "--image"
            ),
            **writes(REMOTE, "-M", "--machine", "-m", "--merge"),
        },
    ),
    "docker": Verbs(
        verbs={"ps": _DOCKER_LIST, "images": _DOCKER_LIST, "version": NO_ARGS},
        options=Rule(
            refuse={
                **writes(REMOTE + " (another Docker daemon)", "-H", "--host", "-c", "--context"),
                **writes("reads another client configuration (credentials)", "--config"),
                **writes(
                    "not needed for a local read",
                    "--tls",
                    "--tlsverify",
                    "--tlscacert",
                    "--tlscert",
                    "--tlskey",
                    "-D",
                    "--debug",
                    "-l",
                    "--log-level",
                ),
            },
        ),
        refuse={
            **writes(
                "changes containers or images; only ps, images and version are read-only",
                "run",
                "rm",
                "rmi",
                "stop",
                "kill",
                "restart",
                "start",
                "exec",
                "prune",
                "system",
                "pull",
                "compose",
                "create",
                "cp",
                "commit",
                "build",
                "push",
                "tag",
                "update",
                "pause",
                "unpause",
                "rename",
                "network",
                "volume",
                "container",
                "image",
                "plugin",
                "swarm",
                "service",
                "secret",
                "config",
                "login",
                "logout",
                "load",
                "import",
                "attach",
                "wait",
            ),
            **writes("shows containers' environment (secrets)", "inspect"),
            "info": "prints the daemon's proxy and registry settings, which may carry credentials",
            **writes("streams forever", "events", "stats", "logs", "top", "save", "export"),
        },
    ),
    "ip": check_ip,
    "ss": Rule(
        flags="tulnpaxs46emoiHw",
        long_flags=frozenset({"--tcp", "--udp", "--listening", "--numeric", "--processes", "--all", "--summary"}),
        refuse={
            **writes("kills sockets", "-K", "--kill"),
            **writes("reads or writes files", "-D", "--diag", "-F", "--filter"),
            **writes("switches to another network namespace", "-N", "--net"),
            **writes(FOLLOW, "-E", "--events"),
        },
    ),
    "netstat": Rule(flags="tulnpaeirs46", refuse=writes("repeats forever", "-c", "--continuous")),
    "w": Rule(flags="hsif", operands=word, max_operands=1),
    "who": Rule(flags="abqrHu"),
    "last": Rule(
        flags="aFiwx",
        valued={"-n": bounded_int(1, 1000)},
        required=(("-n",),),
        operands=word,
        max_operands=1,
        refuse=writes("reads another log file", "-f", "--file"),
    ),
    "lsblk": Rule(flags="afblmpdnJS", valued={"-o": columns, "--output": columns}, operands=any_path, max_operands=4),
    "lscpu": NO_ARGS,
    "nproc": Rule(long_flags=frozenset({"--all"})),
    "arch": NO_ARGS,
    "dmesg": Rule(
        flags="TxkL",
        long_flags=frozenset({"--ctime", "--decode", "--kernel", "--nopager"}),
        valued={"-l": word, "--level": word},
        refuse={
            **writes("clears the kernel ring buffer", "-C", "-c", "--clear", "--read-clear"),
            **writes(FOLLOW, "-w", "-W", "--follow", "--follow-new"),
            **writes("changes console logging", "-n", "--console-level", "-D", "--console-off", "-E", "--console-on"),
            **writes("starts a pager, which can run commands", "-H", "--human"),
            **writes("reads a file", "-F", "--file"),
        },
    ),
    "vmstat": Rule(flags="asdwt", valued={"-S": one_of("k", "K", "m", "M")}),  # no operands: `vmstat 1` never ends
}
