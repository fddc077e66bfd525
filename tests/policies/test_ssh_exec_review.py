"""ssh.exec fails closed: only what the analyzer fully understands and finds safe runs without a human."""

from __future__ import annotations

import time

import pytest

from policies.ssh_exec import HostRules, review_command
from tests.ssh.exec_corpus import ALL, BENIGN, EVASIONS, WITHIN_THE_AREA, WRITABLE

OPERATOR = HostRules.of([WRITABLE], ["systemctl restart myapp"])


def test_the_evasion_corpus_is_large_and_covers_every_family():
    assert len(ALL) >= 150
    assert all(len(family) >= 8 for family in EVASIONS.values())


@pytest.mark.parametrize("command", ALL)
def test_every_evasive_destructive_command_is_held_for_a_human(command):
    risks = review_command(command, OPERATOR)
    assert risks, f"{command!r} would run without approval"
    assert all(isinstance(r, str) and r for r in risks)


@pytest.mark.parametrize("command", BENIGN)
def test_reading_runs_at_once_on_any_host(command):
    assert review_command(command) == []


@pytest.mark.parametrize("command", WITHIN_THE_AREA)
def test_writes_inside_the_writable_area_and_routine_commands_run_at_once(command):
    assert review_command(command, OPERATOR) == []


@pytest.mark.parametrize("command", WITHIN_THE_AREA)
def test_the_same_writes_wait_on_a_host_with_no_writable_area(command):
    assert review_command(command) != []


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("r${NOPE}m -rf /srv", "command name is computed at run time"),
        ("$'\\x72m' -rf /srv", "command name is computed at run time"),
        ("bash -c 'rm -rf /srv'", "runs code in an interpreter, which cannot be checked: bash"),
        ("xargs rm -rf", "runs its arguments as a command: xargs"),
        ("cp -t /etc/cron.d /tmp/job", "cp writes into /etc/cron.d, outside the writable area (/srv/app/tmp)"),
        ("rm --rec --forc /etc", "rm removes /etc, outside the writable area (/srv/app/tmp)"),
        ("rm --v /etc", "ambiguous option --v of rm (could be --verbose, --version)"),
        ("echo x > /etc/hosts", "redirects output (>) to /etc/hosts, outside the writable area (/srv/app/tmp)"),
        ("rm -rf cache", "rm removes the relative path 'cache', which depends on the login directory"),
        ("frobnicate --all", "frobnicate is not a program known to be safe here"),
        ("ls *.log", "argument is computed at run time (unquoted glob *)"),
        ("f(){ ls; }", "command defines a shell function"),
        ("cat <<EOF\nx\nEOF", "command uses a here-document"),
        ("diff <(ls) <(ls /tmp)", "uses process substitution"),
        ("cat /proc/1/environ", "reads a process environment: /proc/1/environ"),
        ("sudo -u root rm -rf /var", "rm removes /var, outside the writable area (/srv/app/tmp)"),
        ("ln -s /etc /srv/app/tmp/etc", "ln creates links, which could point outside the writable area"),
        ("rm -rf /srv/app/tmp/../../etc", "rm removes /srv/etc, outside the writable area (/srv/app/tmp)"),
    ],
)
def test_the_risk_line_says_why(command, reason):
    assert any(reason in risk for risk in review_command(command, OPERATOR)), review_command(command, OPERATOR)


def test_long_option_abbreviations_resolve_as_getopt_long_does():
    # `--recur` is a unique prefix of rm's --recursive, so it *is* --recursive.
    assert review_command(f"rm --recur --forc {WRITABLE}/x", OPERATOR) == []
    assert review_command("rm --recur /etc", OPERATOR) == ["rm removes /etc, outside the writable area (/srv/app/tmp)"]
    assert "unknown option --frobnicate of rm" in review_command(f"rm --frobnicate {WRITABLE}/x", OPERATOR)


def test_auto_approve_matches_whole_argvs_word_by_word():
    rules = HostRules.of([], ["systemctl restart app-*", "docker restart web"])
    assert review_command("systemctl restart app-api", rules) == []
    assert review_command("systemctl restart app-api && docker restart web", rules) == []
    assert review_command("systemctl restart app-api sshd", rules) != []
    assert review_command("systemctl restart sshd", rules) != []
    assert review_command("sudo systemctl restart app-api", rules) != [], "the pattern names the exact argv"


def test_the_operator_settings_are_checked():
    with pytest.raises(ValueError):
        HostRules.of(["relative/dir"])
    with pytest.raises(ValueError):
        HostRules.of(["/"])


def test_a_huge_command_is_reviewed_quickly():
    started = time.perf_counter()
    assert review_command("echo " + "a " * 3000 + "; " + "ls; " * 400) == []
    assert review_command("echo " + "a " * 5000)[0].startswith("command is longer than")
    assert review_command("{{" * 3900)
    assert review_command("$(" * 1300 + ")" * 1300)
    assert time.perf_counter() - started < 2.0
