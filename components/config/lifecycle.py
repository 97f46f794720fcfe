"""The lifecycle section: how Pulumi may treat the server (protected, replaced for new first-boot data, its disk
grown on a resize) and whether the stack is production, which the policy pack holds to stricter rules."""

from __future__ import annotations

from typing import Any

from components.config.problems import Collector


def validate(c: Collector) -> dict[str, Any]:
    """HostSpec's lifecycle flags."""
    return dict(grow_disk=c.boolean("growDisk"), production=c.boolean("production"), protect=c.boolean("protect"),
                reprovision=c.boolean("reprovision"))
