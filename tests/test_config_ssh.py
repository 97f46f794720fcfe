"""The ssh section: the admin account, its public keys and the networks allowed to reach SSH."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import ED25519_KEY, RSA_2048_KEY, raw_config
from tests.conftest import config_problems as problems


def test_missing_and_malformed_ssh_keys() -> None:
    assert any("sshPublicKeys: missing" in p for p in problems(sshPublicKeys=None))
    assert any("sshPublicKeys: missing" in p for p in problems(sshPublicKeys=[]))
    (bad_type,) = problems(sshPublicKeys=["ssh-dss AAAAB3NzaC1kc3MAAACBAP"])
    assert "key type 'ssh-dss' is not accepted" in bad_type
    (truncated,) = problems(sshPublicKeys=[ED25519_KEY.split()[0] + " " + ED25519_KEY.split()[1][:-8]])
    assert "hardened-vps:sshPublicKeys: entry 0" in truncated
    (not_b64,) = problems(sshPublicKeys=["ssh-ed25519 not*base64"])
    assert "not valid base64" in not_b64


def test_short_rsa_keys_are_refused_because_sshd_would_refuse_them() -> None:
    (msg,) = problems(sshPublicKeys=[RSA_2048_KEY])
    assert "RSA key has 2048 bits; at least 3072" in msg


def test_the_same_key_twice_is_named() -> None:
    (msg,) = problems(sshPublicKeys=[ED25519_KEY, ED25519_KEY + " again"])
    assert msg == "hardened-vps:sshPublicKeys: entry 1 is the same key as entry 0; list each key once"


def test_newline_in_a_key_comment_cannot_smuggle_a_second_key_line() -> None:
    smuggled = ED25519_KEY + '\ncommand="/bin/sh" ' + RSA_2048_KEY
    (msg,) = problems(sshPublicKeys=[smuggled])
    assert msg.startswith("hardened-vps:sshPublicKeys: entry 0") and "control character" in msg


@pytest.mark.parametrize("user", ["root", "www-data", "Deploy", "9lives", "a" * 32])
def test_admin_user_is_a_usable_account(user: str) -> None:
    (msg,) = problems(adminUser=user)
    assert msg.startswith(f"hardened-vps:adminUser: {user!r} is not a usable account name; allowed: lowercase")


def test_malformed_cidr() -> None:
    found = problems(sshAllowedCidrs=["10.0.0.1/8", "300.1.1.1/32", "2001:db8::/129"])
    assert len(found) == 3 and all(p.startswith("hardened-vps:sshAllowedCidrs:") for p in found)
    assert "'10.0.0.1/8' is not a CIDR" in found[0]


def test_empty_cidr_list_would_lock_everyone_out() -> None:
    assert any("sshAllowedCidrs: empty" in p for p in problems(sshAllowedCidrs=[]))


@pytest.mark.parametrize(("cidr", "intent"), [("0.0.0.0", "0.0.0.0/0 for anywhere"), ("::", "::/0 for anywhere"),
                                              ("203.0.113.7", "203.0.113.7/32 for this one address"),
                                              ("2001:db8::1", "2001:db8::1/128 for this one address")])
def test_cidr_needs_an_explicit_prefix_length(cidr: str, intent: str) -> None:
    (msg,) = problems(sshAllowedCidrs=[cidr])
    assert msg == f"hardened-vps:sshAllowedCidrs: {cidr!r} has no prefix length; write it out, e.g. {intent}"


def test_deploy_key_is_noted_but_never_kept() -> None:
    spec = parse_host_spec(raw_config(deployPrivateKey="-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"))
    assert spec.deploy_key_given and "PRIVATE KEY" not in repr(spec)
    assert not parse_host_spec(raw_config()).deploy_key_given
