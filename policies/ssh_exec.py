"""Which ssh.exec commands need a human's approval: `classify_danger(command) -> [reasons]` (pure).

The command runs through the remote shell, so every simple command in it is classified: each part
of `;`/`&&`/`||`/`|` lists, subshells, `$(...)`/backtick/`<(...)` substitutions, `sh -c '...'`,
`eval`, `su -c`, `find -exec` and `xargs`, after unwrapping `sudo`/`doas`/`env`/`nohup`/`timeout`...
When the text cannot be parsed, that itself is a reason.

This is a guard against accidents and obvious abuse, not a sandbox: a script file or an
interpreter one-liner can do anything. That is why dangerous commands wait for a person, and why
an empty answer means "nothing known to be destructive", not "proven harmless".
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from policies.shell_words import WRITE_REDIRECTS, ShellSyntaxError, SimpleCommand, split_commands

MAX_DEPTH = 4

# Top-level paths whose loss breaks the machine; any single-component absolute path counts as broad too.
SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/opt", "/proc", "/root",
    "/sbin", "/srv", "/sys", "/usr", "/var", "/usr/bin", "/usr/lib", "/usr/local", "/usr/sbin", "/usr/share",
    "/var/lib", "/var/log", "/var/www", "/etc/ssh", "/etc/systemd", "/var/lib/docker", "/var/lib/mysql",
    "/var/lib/postgresql",
})
# Writing below these changes how the system boots, authenticates or runs.
SYSTEM_PREFIXES = ("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/var/lib/",
                   "/proc/sys/", "/proc/sysrq-trigger", "/sys/", "/root/.ssh/")
HARMLESS_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/random",
                              "/dev/urandom", "/dev/full"})
CRITICAL_UNITS = frozenset({
    "ssh", "sshd", "ssh.socket", "networking", "network", "NetworkManager", "systemd-networkd", "systemd-resolved",
    "dbus", "dbus-broker", "systemd-journald", "systemd-logind", "systemd-udevd", "ufw", "firewalld", "nftables",
    "iptables", "netfilter-persistent", "containerd", "docker", "kubelet",
})
CRITICAL_PROCESSES = frozenset({"sshd", "systemd", "init", "dbus-daemon", "systemd-journald", "containerd", "dockerd"})
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish"})
INTERPRETERS = SHELLS | {"python", "python2", "python3", "perl", "ruby", "node", "php", "lua"}
DOWNLOADERS = re.compile(r"\b(curl|wget|fetch|aria2c|lwp-request)\b")

FORK_BOMBS = (
    re.compile(r"([\w:.]+)\s*\(\s*\)\s*\{[^}]*?\1\s*\|\s*&?\s*\1"),  # :(){ :|:& };:  and  b(){ b|b& };b
    re.compile(r"\bfork\s+while\s+fork\b"),  # perl -e 'fork while fork'
    re.compile(r"\$0\s*[|&]\s*\$0"),
)

# Prefix commands that run their operand as a command: value-taking options to skip, operands to skip.
WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-R", "--user", "--group",
                        "--host", "--prompt", "--close-from", "--chdir", "--role", "--type", "--other-user",
                        "--command-timeout", "--chroot"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "pkexec": (frozenset({"--user"}), 0),
    "busybox": (frozenset(), 0),
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "--class", "--classdata"}), 0),
    "nohup": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "unbuffer": (frozenset(), 0),
    "time": (frozenset(), 0),
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "chroot": (frozenset({"--userspec", "--groups"}), 1),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "watch": (frozenset({"-n", "--interval", "-d", "--differences"}), 0),
    "xargs": (frozenset({"-I", "-n", "-P", "-L", "-s", "-d", "-E", "-a", "--max-args", "--max-procs",
                         "--max-lines", "--delimiter", "--arg-file", "--replace", "--eof", "--max-chars"}), 0),
    "strace": (frozenset({"-e", "-o", "-p", "-s", "-u"}), 0),
}
ESCALATORS = frozenset({"sudo", "doas", "su", "runuser", "pkexec"})

Checker = Callable[[list[str]], list[str]]


def classify_danger(command: str) -> list[str]:
    """Reasons a human must approve this command; empty = nothing known to be destructive."""
    reasons = _classify(command, depth=0)
    return list(dict.fromkeys(reasons))


def _classify(command: str, depth: int) -> list[str]:
    if depth > MAX_DEPTH:
        return ["commands nested too deeply to check"]
    if "\x00" in command:
        return ["NUL byte in command"]
    reasons = [f"fork bomb ({m.group(0)!r})" for rx in FORK_BOMBS if (m := rx.search(command))]
    try:
        commands = split_commands(command)
    except ShellSyntaxError as err:
        return [*reasons, f"command cannot be parsed ({err}), so it cannot be shown to be safe"]
    for simple in commands:
        reasons += _classify_simple(simple, depth)
    return reasons


def _classify_simple(simple: SimpleCommand, depth: int) -> list[str]:
    reasons: list[str] = []
    for op, target in simple.redirects:
        if op in WRITE_REDIRECTS and not target.text.isdigit() and target.text != "-":
            reasons += _write_target(target.text, truncates=op in (">", ">|", "&>", "<>"), how=f"redirect {op}")
        for inner in target.substitutions:
            reasons += _classify(inner, depth + 1)
    for word in simple.words:
        for inner in word.substitutions:
            reasons += _classify(inner, depth + 1)
    argv, via = _unwrap(_strip_prefix(simple.argv))
    reasons += _argv_reasons(argv, depth, via)
    if argv and _basename(argv[0]) in INTERPRETERS:
        reasons += _runs_untrusted_code(simple, argv)
    return reasons


def _argv_reasons(argv: list[str], depth: int, via: list[str]) -> list[str]:
    """Reasons for one argv, including command strings it hands to a shell (`sh -c`, `eval`, `su -c`)."""
    if not argv:
        return []
    suffix = f" (via {'/'.join(via)})" if via else ""
    if any(ch.isspace() for ch in argv[0]):  # `watch "rm -rf /"`, `env -S "..."`: a command line in one word
        return [r + suffix for r in _classify(" ".join(argv), depth + 1)]
    name = _basename(argv[0])
    reasons = [r + suffix for r in _checker(name)(argv)]
    inner_via = via + [name] if name in ESCALATORS else via
    inner_suffix = f" (via {'/'.join(inner_via)})" if inner_via else ""
    for inner in _command_strings(name, argv):
        reasons += [r + inner_suffix for r in _classify(inner, depth + 1)]
    if name == "find":
        for inner_argv in _find_exec(argv):
            reasons += _argv_reasons(inner_argv, depth + 1, via)
    return reasons


def _nothing(argv: list[str]) -> list[str]:
    return []


# --- unwrapping ----------------------------------------------------------------------------------

_RESERVED = frozenset({"{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "esac", "coproc"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")


def _strip_prefix(argv: list[str]) -> list[str]:
    """Drop shell keywords (`if`, `do`, `{`) and `VAR=value` assignments before the command name."""
    i = 0
    while i < len(argv) and (argv[i] in _RESERVED or _ASSIGNMENT.match(argv[i])):
        i += 1
    return argv[i:]


def _unwrap(argv: list[str]) -> tuple[list[str], list[str]]:
    """Peel `sudo -u x`, `env A=1`, `nohup`, `timeout 5`, `xargs -n1`... off; returns (argv, escalators seen)."""
    via: list[str] = []
    for _ in range(8):
        if not argv:
            break
        name = _basename(argv[0])
        if name not in WRAPPERS:
            break
        if name in ESCALATORS:
            via.append(name)
        value_options, skip_operands = WRAPPERS[name]
        i = 1
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
            option = argv[i].split("=", 1)[0]
            i += 1
            if option == "--":
                break
            if option in value_options and "=" not in argv[i - 1]:
                i += 1
        while name == "env" and i < len(argv) and _ASSIGNMENT.match(argv[i]):
            i += 1
        argv = argv[i + skip_operands :]
    return argv, via


def _command_strings(name: str, argv: list[str]) -> list[str]:
    """Text a command hands to a shell: `sh -c TEXT`, `eval TEXT`, `su -c TEXT`."""
    args = argv[1:]
    if name in SHELLS:
        for n, arg in enumerate(args):
            if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
                return args[n + 1 : n + 2]
        return []
    if name == "eval":
        return [" ".join(args)]
    if name in ("su", "runuser", "sg"):
        for n, arg in enumerate(args):
            if arg in ("-c", "--command") and n + 1 < len(args):
                return [args[n + 1]]
            if arg.startswith("--command="):
                return [arg.split("=", 1)[1]]
    return []


def _find_exec(argv: list[str]) -> list[list[str]]:
    found, i = [], 0
    while i < len(argv):
        if argv[i] in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(i + 1, len(argv)) if argv[j] in (";", "+")), len(argv))
            found.append(argv[i + 1 : end])
            i = end
        i += 1
    return found


def _runs_untrusted_code(simple: SimpleCommand, argv: list[str]) -> list[str]:
    """`curl | sh`, `sh <(wget ...)`, `bash -c "$(curl ...)"`: code nobody has seen runs as it arrives."""
    name = _basename(argv[0])
    upstream = simple.pipeline()[:-1]
    if any(DOWNLOADERS.search(" ".join(c.argv)) for c in upstream):
        return [f"downloads code and pipes it into {name}"]
    substituted = [s for w in simple.words for s in w.substitutions]
    if any(DOWNLOADERS.search(s) for s in substituted):
        return [f"runs downloaded code with {name}"]
    if name in SHELLS and upstream and not _command_strings(name, argv):
        script = [a for a in argv[1:] if not a.startswith("-")]
        if not script or "-s" in argv:
            return [f"pipes text into {name} to run as a script, so it cannot be checked"]
    return []


# --- paths -------------------------------------------------------------------------------------------


def _basename(word: str) -> str:
    return posixpath.basename(word) or word


def _norm(path: str) -> str:
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path


def is_broad(path: str) -> bool:
    """Root, a whole home, a top-level or system directory, or a path we cannot know (`~`, `$X`, `*`)."""
    if path.startswith(("~", "$")) or all(p in ("", ".", "..", "*", ".*") for p in path.split("/")):
        return True
    norm = _norm(path)
    while norm.endswith(("/*", "/.*", "/.")) and len(norm) > 2:
        norm = norm.rsplit("/", 1)[0] or "/"
    if norm in ("/*", "/.*", ""):
        return True
    norm = _norm(norm)
    if norm in SYSTEM_DIRS or re.fullmatch(r"/[^/]+", norm) or re.fullmatch(r"/home/[^/]+", norm):
        return True
    first = norm.split("/")[1] if norm.startswith("/") else ""
    return any(ch in first for ch in "*?[")  # `/e*`, `/?ar`


def is_device(path: str) -> bool:
    norm = _norm(path)
    return norm.startswith("/dev/") and norm not in HARMLESS_DEVICES and not norm.startswith(("/dev/fd/", "/dev/shm/"))


def is_system_file(path: str) -> bool:
    norm = _norm(path)
    return norm.startswith(SYSTEM_PREFIXES) or norm in SYSTEM_DIRS or norm.endswith("/authorized_keys")


def _write_target(path: str, *, truncates: bool, how: str) -> list[str]:
    if is_device(path):
        return [f"writes to device {path} ({how})"]
    if is_system_file(path):
        verb = "overwrites/truncates" if truncates else "writes to"
        return [f"{verb} system file {path} ({how})"]
    return []


# --- per-command checks --------------------------------------------------------------------------------


def _split_options(args: list[str]) -> tuple[set[str], list[str]]:
    """(`-x` letters and `--long` names seen, operands); `--` ends options."""
    options, operands, ended = set(), [], False
    for arg in args:
        if ended or arg == "-" or not arg.startswith("-"):
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif arg.startswith("--"):
            options.add(arg.split("=", 1)[0])
        else:
            options.update(f"-{c}" for c in arg[1:])
    return options, operands


def _rm(argv: list[str]) -> list[str]:
    options, targets = _split_options(argv[1:])
    recursive = bool(options & {"-r", "-R", "--recursive"})
    force = bool(options & {"-f", "--force"})
    reasons = ["rm --no-preserve-root"] if "--no-preserve-root" in options else []
    flags = "-" + "r" * recursive + "f" * force
    broad = [t for t in targets if is_broad(t)]
    if (recursive or force) and broad:
        reasons += [f"rm {flags} on broad path {t}" for t in broad]
    elif recursive and force:
        reasons.append(f"recursive forced delete (rm -rf) of {' '.join(targets) or 'its input'}")
    return reasons


def _always(reason: str) -> Checker:
    return lambda argv: [reason]


def _unless_only(reason: str, *harmless: str) -> Checker:
    """Dangerous unless every argument is one of `harmless` (e.g. `fdisk -l`)."""
    return lambda argv: [] if argv[1:] and all(a in harmless for a in argv[1:]) else [reason]


def _shutdown(argv: list[str]) -> list[str]:
    return [] if "-c" in argv[1:] else [f"{_basename(argv[0])} takes the machine down"]


def _init(argv: list[str]) -> list[str]:
    return ["changes the runlevel (init " + argv[1] + ")"] if argv[1:2] and argv[1] in ("0", "1", "6", "s", "S") else []


def _dd(argv: list[str]) -> list[str]:
    reasons = []
    for arg in argv[1:]:
        if arg.startswith("of="):
            reasons += _write_target(arg[3:], truncates=True, how="dd of=")
    return reasons


def _kill(argv: list[str]) -> list[str]:
    args = argv[1:]
    if "-1" in args:  # as a pid: every process; as a signal (`kill -1 PID`) ambiguous enough to ask
        return ["kill -1 signals every process"]
    pids = [a for n, a in enumerate(args) if not a.startswith("-") and (n == 0 or args[n - 1] not in ("-s", "-n", "--signal"))]
    return ["kills init (pid 1)"] if "1" in pids else []


def _pkill(argv: list[str]) -> list[str]:
    _, names = _split_options(argv[1:])
    hit = [n for n in names if n in CRITICAL_PROCESSES]
    return [f"kills critical process {n}" for n in hit]


def _chmod_chown(argv: list[str]) -> list[str]:
    name = _basename(argv[0])
    options, operands = _split_options(argv[1:])
    if any(o.startswith("--reference") for o in options):
        targets = operands
    else:
        targets = operands[1:]  # first operand is the mode or owner
    recursive = bool(options & {"-R", "--recursive"})
    reasons = []
    for t in targets:
        if recursive and is_broad(t):
            reasons.append(f"{name} -R on broad path {t}")
        elif _norm(t) == "/" or is_system_file(t):
            reasons.append(f"{name} on system path {t}")
    return reasons


def _tee(argv: list[str]) -> list[str]:
    options, files = _split_options(argv[1:])
    truncates = not options & {"-a", "--append"}
    return [r for f in files for r in _write_target(f, truncates=truncates, how="tee")]


def _copy_like(argv: list[str]) -> list[str]:
    """cp/mv/install/ln/rsync: the destination must not be a device or system file; mv must not move system dirs."""
    name = _basename(argv[0])
    _, operands = _split_options(argv[1:])
    if len(operands) < 2:
        return []
    reasons = _write_target(operands[-1], truncates=True, how=name)
    if name == "mv":
        reasons += [f"mv moves broad path {s}" for s in operands[:-1] if is_broad(s)]
    return reasons


def _truncate(argv: list[str]) -> list[str]:
    _, files = _split_options(argv[1:])
    files = [f for f in files if not re.fullmatch(r"[-+<>/%]?\d+[KMGTPE]?B?", f)]  # drop `-s 0`'s size operand
    return [f"truncates system file {f}" for f in files if is_system_file(f) or is_device(f)]


def _sed(argv: list[str]) -> list[str]:
    options, operands = _split_options(argv[1:])
    if not options & {"-i", "--in-place"} and not any(a.startswith("-i") for a in argv[1:]):
        return []
    return [f"edits system file {f} in place" for f in operands[1:] if is_system_file(f)]


def _systemctl(argv: list[str]) -> list[str]:
    _, operands = _split_options(argv[1:])
    if not operands:
        return []
    verb, units = operands[0], [u.removesuffix(".service") for u in operands[1:]]
    if verb in ("reboot", "poweroff", "halt", "kexec", "rescue", "emergency", "soft-reboot", "suspend", "hibernate"):
        return [f"systemctl {verb} takes the machine down"]
    if verb == "isolate":
        return [f"systemctl isolate {' '.join(units)} switches the whole system state"]
    if verb in ("stop", "disable", "mask", "kill"):
        return [f"systemctl {verb} of critical unit {u}" for u in units if u in CRITICAL_UNITS]
    return []


def _service(argv: list[str]) -> list[str]:
    unit = argv[1].removesuffix(".service") if len(argv) > 2 else ""
    return [f"service {unit} {argv[2]} stops a critical unit"] if unit in CRITICAL_UNITS and argv[2] == "stop" else []


def _iptables(argv: list[str]) -> list[str]:
    options, operands = _split_options(argv[1:])
    reasons = []
    if options & {"-F", "--flush"}:
        reasons.append("flushes firewall rules (iptables -F)")
    if options & {"-X", "--delete-chain"}:
        reasons.append("deletes firewall chains (iptables -X)")
    if options & {"-P", "--policy"} and any(o in ("DROP", "REJECT") for o in operands):
        reasons.append("sets a default DROP policy (can lock everyone out)")
    return reasons


def _nft(argv: list[str]) -> list[str]:
    _, operands = _split_options(argv[1:])
    return [f"nft {' '.join(operands[:2])} removes firewall rules"] if operands[:1] in (["flush"], ["delete"]) else []


def _ufw(argv: list[str]) -> list[str]:
    return [f"ufw {argv[1]} turns the firewall off"] if argv[1:2] in (["disable"], ["reset"]) else []


def _passwd(argv: list[str]) -> list[str]:
    return [] if argv[1:2] == ["-S"] else ["changes account credentials (passwd)"]


def _usermod(argv: list[str]) -> list[str]:
    options, _ = _split_options(argv[1:])
    return ["changes account credentials (usermod)"] if options & {"-p", "--password", "-L", "--lock", "-e", "--expiredate"} else []


def _crontab(argv: list[str]) -> list[str]:
    options, _ = _split_options(argv[1:])
    if "-r" in options or "--remove" in options:
        return ["crontab -r deletes every cron job of the user"]
    return []


def _docker(argv: list[str]) -> list[str]:
    _, operands = _split_options(argv[1:])
    if operands[:2] in (["system", "prune"], ["volume", "prune"], ["volume", "rm"], ["image", "prune"]):
        return [f"docker {' '.join(operands[:2])} deletes data"]
    return []


def _storage(argv: list[str]) -> list[str]:
    name = _basename(argv[0])
    if name in ("zpool", "zfs") and "destroy" not in argv[1:]:
        return []
    return [f"{name} destroys storage"]


def _find(argv: list[str]) -> list[str]:
    if "-delete" not in argv:
        return []
    roots = [a for a in argv[1:] if not a.startswith(("-", "(", "!", ")"))][:1]
    return [f"find -delete under broad path {r}" for r in roots if is_broad(r)]


CHECKS: dict[str, Checker] = {
    "rm": _rm,
    **dict.fromkeys(("mkfs", "mke2fs", "mkswap", "mkntfs", "mkdosfs", "wipefs"), _always("formats or wipes a filesystem")),
    **dict.fromkeys(("fdisk", "sfdisk", "gdisk", "sgdisk", "cfdisk", "parted"),
                    _unless_only("changes a partition table", "-l", "--list", "print")),
    "shred": _always("shred irrecoverably overwrites data"),
    "blkdiscard": _always("blkdiscard erases a block device"),
    "dd": _dd,
    **dict.fromkeys(("shutdown", "reboot", "halt", "poweroff"), _shutdown),
    **dict.fromkeys(("init", "telinit"), _init),
    "kill": _kill,
    **dict.fromkeys(("pkill", "killall"), _pkill),
    "killall5": _always("killall5 signals every process"),
    **dict.fromkeys(("chmod", "chown", "chgrp"), _chmod_chown),
    "tee": _tee,
    **dict.fromkeys(("cp", "mv", "install", "ln", "rsync"), _copy_like),
    "truncate": _truncate,
    "sed": _sed,
    "systemctl": _systemctl,
    "service": _service,
    **dict.fromkeys(("iptables", "ip6tables", "iptables-legacy", "iptables-nft"), _iptables),
    **dict.fromkeys(("iptables-restore", "ip6tables-restore"), _always("replaces every firewall rule")),
    "nft": _nft,
    "ufw": _ufw,
    **dict.fromkeys(("userdel", "deluser", "groupdel", "delgroup"), _always("deletes a user or group")),
    "passwd": _passwd,
    "chpasswd": _always("changes account credentials (chpasswd)"),
    "usermod": _usermod,
    "crontab": _crontab,
    "docker": _docker,
    **dict.fromkeys(("lvremove", "vgremove", "pvremove", "zpool", "zfs"), _storage),
    "find": _find,
}



def _checker(name: str) -> Checker:
    if name.startswith(("mkfs.", "mke2fs", "mkfs_")):
        return CHECKS["mkfs"]
    return CHECKS.get(name, _nothing)
