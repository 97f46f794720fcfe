"""The lifecycle section: protect, reprovision, growDisk and production, each a boolean that is off by default."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config

FLAGS = {"protect": "protect", "reprovision": "reprovision", "growDisk": "grow_disk", "production": "production"}


@pytest.mark.parametrize("key", FLAGS)
def test_each_flag_is_read_and_checked(key: str) -> None:
    assert getattr(parse_host_spec(raw_config(**{key: " TRUE "})), FLAGS[key]) is True
    assert getattr(parse_host_spec(raw_config()), FLAGS[key]) is False
    assert problems(**{key: "1"}) == [f"hardened-vps:{key}: '1' is not a boolean; allowed: true, false"]
