"""The stack's config as the pack reads it (policy/hardening_policies/stack_config.py): without it the first-boot
check fails closed; the secret keys neither shape nor break it."""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pytest

from components.config import parse_host_spec
from components.firstboot import describe_first_boot
from policy.hardening_policies.pack import first_boot_present
from policy.hardening_policies.stack_config import NOT_IN_FIRST_BOOT
from policy.offline import StackCase, analysing, check_resource
from tests.conftest import ROOT
from tests.policy_support import DROPLET, PROD, names_resource_and_fix, openssh_key


def test_first_boot_check_fails_closed_without_the_stacks_config(stacks: dict[str, StackCase],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    case = stacks["do-dev"]
    server = case.one(DROPLET)
    pulumi.runtime.set_all_config({})
    (no_config,) = check_resource(first_boot_present, server)
    assert "cannot tell what this stack's first boot must be" in no_config and "PULUMI_CONFIG" in no_config
    broken = replace(case, config={**case.config, "hardened-vps:sshAllowedCidrs": '["0.0.0.0"]'})
    with analysing(broken):
        (invalid,) = check_resource(first_boot_present, server)
    assert "hardened-vps:sshAllowedCidrs" in invalid and "no prefix length" in invalid
    with analysing(case):
        monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "project", "project")  # no PULUMI_PROJECT/STACK
        (nameless,) = check_resource(first_boot_present, server)
    assert "PULUMI_STACK" in nameless and names_resource_and_fix(nameless, server)


@pytest.mark.parametrize("value", [None, "[secret]", "v1:ciphertext-the-pack-cannot-read", "DB_PASSWORD=x\n"])
def test_secret_keys_neither_shape_nor_break_the_first_boot_check(stacks: dict[str, StackCase],
                                                                  value: str | None) -> None:
    """appSecrets and deployPrivateKey travel over SSH after boot: absent, encrypted or plain in what the pack
    sees, the verdict on the first boot is the same (and the render does not depend on them)."""
    case = stacks[PROD]
    server = case.one(DROPLET)
    config = {k: v for k, v in case.config.items() if not k.endswith((":appSecrets", ":deployPrivateKey"))}
    seen = config if value is None else {**config, "hardened-vps:appSecrets": value,
                                         "hardened-vps:deployPrivateKey": value}
    with analysing(replace(case, config=seen)):
        assert check_resource(first_boot_present, server) == []
    raw = {k.removeprefix("hardened-vps:"): v for k, v in config.items() if k.startswith("hardened-vps:")}
    spec = parse_host_spec(raw, stack=PROD, base_dir=ROOT)
    with_secrets = parse_host_spec({**raw, "appSecrets": "DB_PASSWORD=x\nAPI_TOKEN=y\n",
                                    "deployPrivateKey": openssh_key()}, stack=PROD, base_dir=ROOT)
    assert with_secrets.app is not None and with_secrets.app.secret_names == ("DB_PASSWORD", "API_TOKEN")
    assert describe_first_boot(with_secrets) == describe_first_boot(spec)
    assert {"appSecrets", "deployPrivateKey"} <= NOT_IN_FIRST_BOOT
