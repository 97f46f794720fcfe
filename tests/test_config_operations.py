"""The operations section: reboot window, swap, the vendor's backups and monitoring."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config


def test_reboot_window_is_a_time_or_off() -> None:
    assert parse_host_spec(raw_config(rebootWindow="off")).reboot_window is None
    assert parse_host_spec(raw_config(rebootWindow=" 23:59 ")).reboot_window == "23:59"
    for bad in ("25:00", "4:00", "04:00pm", "offf"):
        (msg,) = problems(rebootWindow=bad)
        assert msg == f"hardened-vps:rebootWindow: {bad!r} is not a time; allowed: HH:MM (24 h, UTC) or off"


@pytest.mark.parametrize(("value", "why"), [("lots", "'lots' is not a whole number; allowed: 0 to 16384"),
                                            ("16385", "16385 is out of range; allowed: 0 to 16384"),
                                            ("-1", "-1 is out of range; allowed: 0 to 16384")])
def test_swap_is_a_bounded_whole_number(value: str, why: str) -> None:
    assert problems(swapSizeMb=value) == [f"hardened-vps:swapSizeMb: {why}"]


def test_swap_zero_turns_it_off() -> None:
    assert parse_host_spec(raw_config(swapSizeMb="0")).swap_size_mb == 0


def test_backups_and_monitoring_are_booleans() -> None:
    spec = parse_host_spec(raw_config(backups=True, monitoring=False))
    assert (spec.backups, spec.monitoring) == (True, False)
    (msg,) = problems(backups="yes")
    assert msg == "hardened-vps:backups: 'yes' is not a boolean; allowed: true, false"


def test_benchmark_is_an_opt_in_boolean() -> None:
    assert parse_host_spec(raw_config()).benchmark is False
    assert parse_host_spec(raw_config(benchmark="true")).benchmark is True
    (msg,) = problems(benchmark="always")
    assert msg == "hardened-vps:benchmark: 'always' is not a boolean; allowed: true, false"
