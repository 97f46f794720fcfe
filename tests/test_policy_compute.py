"""Servers (policy/hardening_policies/compute.py): production backups and protection, plans from the catalog."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from policy.hardening_policies.pack import catalog_sizes, production_safety
from policy.hardening_policies.resources import DATA_VOLUMES
from policy.offline import StackCase, analysing, check_resource
from tests.policy_support import (
    DEV_STACKS,
    DROPLET,
    HETZNER_SERVER,
    LIGHTSAIL_INSTANCE,
    LINODE_INSTANCE,
    PROD,
    SERVER_OF,
    SIZE_INPUT,
    VULTR_INSTANCE,
    names_resource_and_fix,
)


# --- production-backups-and-protection ---------------------------------------------------------------------------
def test_production_server_needs_backups_and_protection(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    server = case.one(DROPLET)
    with analysing(case):
        assert check_resource(production_safety, server) == []
        (no_backups,) = check_resource(production_safety, server, {**server.inputs, "backups": False})
        (unprotected,) = check_resource(production_safety, server, protect=False)
    assert "backups: true" in no_backups and names_resource_and_fix(no_backups, server)
    assert "protect: true" in unprotected and names_resource_and_fix(unprotected, server)


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_dev_stack_declared_production_needs_backups_and_protection(stacks: dict[str, StackCase],
                                                                   stack: str) -> None:
    case = stacks[stack]
    server = case.one(SERVER_OF[stack])
    with analysing(case):
        assert check_resource(production_safety, server) == []  # not production: no demand
    declared = replace(case, config={**case.config, "hardened-vps:production": "true"})
    with analysing(declared):
        messages = check_resource(production_safety, server)
        backups_on: dict[str, dict[str, Any]] = {
            DROPLET: {"backups": True}, LINODE_INSTANCE: {"backupsEnabled": True},
            LIGHTSAIL_INSTANCE: {"addOn": {"type": "AutoSnapshot", "status": "Enabled", "snapshotTime": "04:00"}},
            VULTR_INSTANCE: {"backups": "enabled"}, HETZNER_SERVER: {"backups": True}}
        assert check_resource(production_safety, server, {**server.inputs, **backups_on[server.type]},
                              protect=True) == []
    assert len(messages) == 2 and all(names_resource_and_fix(m, server) for m in messages)


# --- server-size-in-catalog --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "slug"), [("do-dev", "s-8vcpu-16gb"), ("linode-dev", "g6-dedicated-2"),
                                             ("lightsail-dev", "xlarge_3_0"), (PROD, "")])
def test_size_outside_the_catalog_is_refused(stacks: dict[str, StackCase], stack: str, slug: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    key = SIZE_INPUT[server.type]
    (message,) = check_resource(catalog_sizes, server, {**server.inputs, key: slug})
    assert "catalog" in message and names_resource_and_fix(message, server)
    assert server.inputs[key] in message  # the allowed plans are listed, the current one among them


def test_production_data_volume_must_stay_protected(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    (volume,) = [r for r in case.resources if r.type in DATA_VOLUMES]
    assert volume.protect  # keepDataVolume's default
    with analysing(case):
        assert check_resource(production_safety, volume) == []
        (unprotected,) = check_resource(production_safety, volume, protect=False)
    assert "keepDataVolume: true" in unprotected and names_resource_and_fix(unprotected, volume)
    development = replace(case, config={**case.config, "hardened-vps:production": "false"})
    with analysing(development):
        assert check_resource(production_safety, volume, protect=False) == []
