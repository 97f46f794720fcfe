"""components.changes covers every config key on every vendor, and the plan, README and config enforce it."""

from __future__ import annotations

import re

import pytest

from components import catalog, changes
from components.config import CONFIG_KEYS, load_stack_file
from components.vendors import VENDORS
from tests.conftest import ROOT
from tools import docs, plan


def test_every_config_key_has_an_effect_on_every_vendor() -> None:
    assert list(changes.CHANGES) == [k.name for k in CONFIG_KEYS]  # a new key without a stated effect fails
    for key, by_vendor in changes.CHANGES.items():
        assert set(by_vendor) == set(catalog.VENDORS), key
        for found in by_vendor.values():
            assert found.kind in changes.EFFECTS and found.note and found.source, key


def test_reprovision_turns_first_boot_changes_into_replacements() -> None:
    assert changes.effect("swapSizeMb", "linode").kind == changes.FIRST_BOOT
    assert changes.effect("swapSizeMb", "linode", reprovision=True).kind == changes.REPLACE
    assert changes.effect("tags", "linode", reprovision=True).kind == changes.IN_PLACE


@pytest.mark.parametrize("stack", ["do-dev", "linode-dev", "lightsail-dev", "prod"])
def test_plan_names_the_keys_that_replace_the_server(stack: str) -> None:
    path = plan.find_stack(stack)
    text = plan.render_text(plan.build_plan(path))
    spec = load_stack_file(path)
    replacing = changes.keys_by_effect(spec.vendor, spec.reprovision)[changes.REPLACE]
    assert f"Changing these keys replaces the server (new disk, data lost): {', '.join(replacing)}." in text
    rebooting = changes.keys_by_effect(spec.vendor, spec.reprovision).get(changes.REBOOT, [])
    assert "image" in replacing and "region" in replacing + rebooting


def test_compare_says_what_a_resize_does() -> None:
    text = plan.render_text(plan.build_compare("small"))
    row = next(line for line in text.splitlines() if line.startswith("Changing size"))
    columns = [c.strip() for c in re.split(r"\s{2,}", row.strip())][1:]
    assert columns == [changes.effect("size", vendor.name).text for vendor in VENDORS]
    assert columns[0] == "reboots the server" and "replaces the server (new disk, data lost)" in columns


def test_readme_change_table_has_every_key() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- config-changes:begin -->")[1].split("<!-- config-changes:end -->")[0]
    assert block.strip() == docs.change_table()
    assert [line.split("`")[1] for line in block.strip().splitlines()[2:]] == list(changes.CHANGES)
