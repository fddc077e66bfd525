"""ssh.exec.peek's allowlist: everyday read-only commands pass as argv; anything else is refused with a reason."""

from __future__ import annotations

import shlex

import pytest

from policies.refusal import Refusal
from policies.ssh_exec import classify_danger
from policies.ssh_peek import PEEK_COMMANDS, check_peek
from tests.ssh.corpus import INJECTIONS

EVERYDAY_PEEKS = [
    "df -h",
    "df -hT /var",
    "du -sh /var/log",
    "uptime",
    "free -m",
    "uname -a",
    "whoami",
    "hostname -f",
    "id -u",
    "date +%Y-%m-%dT%H:%M",
    "ls -la /etc",
    "cat /etc/os-release",
    "cat /proc/loadavg",
    "head -n 20 /var/log/syslog",
    "tail -n 100 /var/log/nginx/error.log",
    "ps aux",
    "ps -eo pid,comm,%cpu --sort=-%cpu",
    "systemctl status nginx --no-pager",
    "systemctl is-active sshd",
    "systemctl list-units --failed",
    'journalctl -u nginx -n 50 --since "1 hour ago" --no-pager',
    "docker ps -a",
    "docker images",
    "ip -br addr",
    "ip route show",
    "ss -tlnp",
    "w",
    "lsblk -f",
    "dmesg -T",
]


@pytest.mark.parametrize("command", EVERYDAY_PEEKS)
def test_an_operator_checks_a_server_with_everyday_read_only_commands(command):
    argv = check_peek(command)
    assert argv == shlex.split(command)
    # What is sent is the re-quoted argv, which the remote shell splits back into the same words.
    assert shlex.split(shlex.join(argv)) == argv


@pytest.mark.parametrize(("command", "reason"), INJECTIONS, ids=[repr(c)[:40] for c, _ in INJECTIONS])
def test_injection_attempts_are_refused_with_the_reason(command, reason):
    with pytest.raises(Refusal) as caught:
        check_peek(command)
    assert caught.value.field == "command"
    assert caught.value.field == "command"
    assert reason in str(caught.value)


def test_the_injection_corpus_is_large_enough():
    assert len(INJECTIONS) >= 40


def test_metacharacters_are_refused_before_parsing_so_quotes_cannot_hide_them():
    # shlex would happily turn this into one harmless-looking word; the raw scan sees the ';'.
    with pytest.raises(Refusal, match="';'"):
        check_peek("ls '/tmp; reboot'")


def test_every_allowlisted_peek_is_also_safe_for_the_exec_classifier():
    # ssh.preflight classifies both intents with classify_danger: a peek must never wait for approval.
    for command in EVERYDAY_PEEKS:
        assert classify_danger(command) == [], command


def test_the_allowlist_names_are_plain_commands():
    assert "find" not in PEEK_COMMANDS and "sh" not in PEEK_COMMANDS
    assert all(name.isidentifier() or name.replace("-", "").isalnum() for name in PEEK_COMMANDS)
