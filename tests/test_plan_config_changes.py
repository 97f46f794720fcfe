"""The plan's "what a config change does" section (tools/plan/config_changes.py): every key under its effect for
this stack's vendor, a reason for each disruptive one, the data volume and the protect guard when they apply."""

from __future__ import annotations

import pytest

from components import changes
from components.config import parse_host_spec
from tests.conftest import raw_config
from tools.plan.config_changes import change_blocks
from tools.plan.document import Bullets, Para


def _blocks(**overrides: object) -> tuple[list[str], list[str], str]:
    items, why, notes, guard = change_blocks(parse_host_spec(raw_config(**overrides)))
    assert isinstance(items, Bullets) and isinstance(notes, Bullets) and isinstance(guard, Para)
    assert why == Para("Why:")
    return items.items, notes.items, guard.text


@pytest.mark.parametrize("vendor", ["digitalocean", "linode", "lightsail"])
def test_every_key_is_listed_once_under_its_effect(vendor: str) -> None:
    items, notes, _ = _blocks(vendor=vendor)
    spec = parse_host_spec(raw_config(vendor=vendor))
    assert spec.vendor == vendor
    for kind, keys in changes.keys_by_effect(spec.vendor, spec.reprovision).items():
        assert sum(line.endswith(f": {', '.join(keys)}.") for line in items) == 1, kind
    disruptive = changes.keys_by_effect(spec.vendor, spec.reprovision)
    assert len(notes) == len(disruptive.get(changes.REPLACE, [])) + len(disruptive.get(changes.REBOOT, []))
    assert all(note.endswith(".") and ": " in note for note in notes)


def test_the_data_volume_line_appears_only_with_a_volume() -> None:
    assert not any(line.startswith("Replace the data volume") for line in _blocks()[0])
    items = _blocks(dataVolumeGb=10)[0]
    assert sum(line.startswith("Replace the data volume") for line in items) == 1


def test_the_guard_says_whether_protect_stops_a_replacement() -> None:
    assert _blocks(protect="true")[2].startswith("protect is on: Pulumi refuses any replacement")
    assert _blocks(protect="false")[2].startswith("protect is off: a replacement goes ahead")
