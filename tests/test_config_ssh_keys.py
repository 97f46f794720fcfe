"""The OpenSSH public-key parser: what sshd would refuse, or read as a second line, is refused here."""

from __future__ import annotations

import pytest

from components.config import parse_ssh_key
from tests.conftest import ED25519_KEY, RSA_2048_KEY, RSA_4096_KEY


def test_rsa_keys_need_3072_bits() -> None:
    assert parse_ssh_key(RSA_4096_KEY).type == "ssh-rsa"
    with pytest.raises(ValueError, match="RSA key has 2048 bits; at least 3072"):
        parse_ssh_key(RSA_2048_KEY)


def test_control_characters_are_refused_and_comments_kept() -> None:
    for bad in (ED25519_KEY + " a\rb", ED25519_KEY.replace(" ", "\t", 1), ED25519_KEY + " x\x00y"):
        with pytest.raises(ValueError, match="control character"):
            parse_ssh_key(bad)
    assert parse_ssh_key(ED25519_KEY + " laptop (work) é").comment.endswith("(work) é")


def test_a_parsed_key_is_its_line_again() -> None:
    bare = " ".join(ED25519_KEY.split()[:2])
    key = parse_ssh_key("  " + bare + "  me@laptop ")
    assert (key.comment, key.line) == ("me@laptop", bare + " me@laptop")
    assert parse_ssh_key(ED25519_KEY).line == ED25519_KEY


@pytest.mark.parametrize(("text", "why"), [
    ("ssh-ed25519", "expected '<type> <base64> [comment]'"),
    ("ssh-dss AAAA", "key type 'ssh-dss' is not accepted"),
    ("ssh-ed25519 not*base64", "not valid base64"),
    ("ssh-rsa " + ED25519_KEY.split()[1], "does not match its type"),
])
def test_malformed_keys_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("[", r"\[").replace("]", r"\]")):
        parse_ssh_key(text)
