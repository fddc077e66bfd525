"""ssh.exec.peek's strict allowlist: every escape in the corpus is refused, saying why; the everyday set passes."""

from __future__ import annotations

import shlex

import pytest

from policies.peek_iproute import IP_GLOBAL_OPTIONS, IP_OBJECTS, IP_VERBS, LISTING, resolve, resolve_global
from policies.peek_ps import PS_FIELDS
from policies.refusal import Refusal
from policies.ssh_peek import PEEK_COMMANDS, check_peek
from tests.ssh.peek_corpus import ALL_ESCAPES, BENIGN, ESCAPES

CASES = [
    pytest.param(command, reason, id=f"{family}: {command!r}"[:80])
    for family, cases in ESCAPES.items()
    for command, reason in cases
]


@pytest.mark.parametrize(("command", "reason"), CASES)
def test_an_escape_attempt_is_refused_naming_why(command, reason):
    with pytest.raises(Refusal) as caught:
        check_peek(command)
    assert caught.value.field == "command"
    assert reason in str(caught.value)


@pytest.mark.parametrize("command", BENIGN)
def test_the_everyday_set_passes_as_argv(command):
    assert check_peek(command) == shlex.split(command)


def test_the_corpus_is_large_and_covers_every_family():
    assert len(ALL_ESCAPES) >= 150
    assert all(len(cases) >= 10 for cases in ESCAPES.values())


def test_the_ip_reported_attack_resolves_as_iproute2_reads_it():
    with pytest.raises(Refusal, match="`a` resolves to `add` in `ip address`: changes network configuration"):
        check_peek("ip a a 10.0.0.1/32 dev lo")


@pytest.mark.parametrize("option", sorted(IP_GLOBAL_OPTIONS))
def test_each_allowed_ip_global_option_resolves_to_the_option_it_is_meant_to_be(option):
    # ip.c tries its options in order with a prefix match: `-b` is -batch, `-br` is -brief.
    assert resolve_global(option) == IP_GLOBAL_OPTIONS[option]
    assert IP_GLOBAL_OPTIONS[option] in {
        "-4",
        "-6",
        "-stats",
        "-details",
        "-brief",
        "-oneline",
        "-json",
        "-pretty",
        "-human",
        "-Numeric",
        "-iec",
    }


def test_every_abbreviation_ip_accepts_as_listing_is_accepted_and_nothing_else():
    """Exhaustive over every prefix of every verb of the peeked objects: accepted iff ip lists."""
    for obj, verbs in IP_VERBS.items():
        for verb in verbs:
            full = verb.lstrip("=")
            for end in range(1, len(full) + 1):
                token = full[:end]
                listing = resolve(token, verbs) in LISTING
                try:
                    check_peek(f"ip {obj} {token}")
                    accepted = True
                except Refusal:
                    accepted = False
                assert accepted == listing, (obj, token)


def test_every_object_prefix_resolves_to_the_first_object_in_ip_c_order():
    assert resolve("a", IP_OBJECTS) == "address"
    assert resolve("l", IP_OBJECTS) == "link"
    assert resolve("n", IP_OBJECTS) == "neighbor"
    assert resolve("m", IP_OBJECTS) == "maddress"
    assert resolve("r", IP_OBJECTS) == "route" and resolve("ru", IP_OBJECTS) == "rule"


def test_no_allowed_ps_field_shows_an_environment():
    assert "environ" not in PS_FIELDS
    for cluster in ("e", "axe", "aux e", "-e e", "eww"):
        with pytest.raises(Refusal, match="environment"):
            check_peek(f"ps {cluster}")


def test_only_exact_long_options_pass_even_when_getopt_would_expand_a_prefix():
    """The invariant behind every Rule: a long option is accepted only by its full listed name."""
    assert check_peek("journalctl -n 5 --no-pager")
    for abbreviated in ("--no-pag", "--no", "--lin=5", "--u=sshd"):
        with pytest.raises(Refusal, match="exact"):
            check_peek(f"journalctl -n 5 {abbreviated}")


def test_every_allowlisted_program_refuses_an_unknown_long_option():
    for name in PEEK_COMMANDS:
        with pytest.raises(Refusal):
            check_peek(f"{name} --definitely-not-an-option")
