"""The operations section: what keeps the host running unattended (reboots after updates, swap, the vendor's
backups and monitoring agent), and an opt-in benchmark of the running server."""

from __future__ import annotations

from typing import Any

from components.config.problems import Collector
from components.config.schema import KEYS_BY_NAME

REBOOT_OFF = "off"


def validate(c: Collector) -> dict[str, Any]:
    """HostSpec's operations fields; a reboot window of "off" is None."""
    reboot = c.text("rebootWindow")
    if not KEYS_BY_NAME["rebootWindow"].matches(reboot):
        c.fail("rebootWindow", f"{reboot!r} is not a time; allowed: HH:MM (24 h, UTC) or {REBOOT_OFF}")
    return dict(reboot_window=None if reboot == REBOOT_OFF else reboot, swap_size_mb=c.integer("swapSizeMb"),
                backups=c.boolean("backups"), monitoring=c.boolean("monitoring"),
                benchmark=c.boolean("benchmark"))
