"""Resource readers (policy/hardening_policies/resources.py): production read from the config the CLI hands the pack."""

from __future__ import annotations

import json

import pulumi
import pytest

from policy.hardening_policies.pack import ssh_restricted_in_production
from policy.hardening_policies.resources import stack_declares_production
from policy.offline import StackCase, check_resource
from tests.policy_support import DO_FIREWALL


def test_production_flag_read_from_the_cli_environment(stacks: dict[str, StackCase],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI passes the stack config to the pack as PULUMI_CONFIG; nothing else needs setting."""
    firewall = stacks["do-dev"].one(DO_FIREWALL)
    pulumi.runtime.set_all_config({})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hardened-vps:production": "true"}))
    assert stack_declares_production()
    assert len(check_resource(ssh_restricted_in_production, firewall)) == 1
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hardened-vps:production": "false"}))
    assert not stack_declares_production()
    monkeypatch.delenv("PULUMI_CONFIG")
    assert not stack_declares_production()
