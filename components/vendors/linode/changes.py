"""What changing a config key does to a running Linode, where that is Linode's own (the other keys:
components/changes.py). Read from the provider source named in each fact."""

from __future__ import annotations

from types import MappingProxyType

from components.vendors.effects import (
    CONVERGE,
    IN_PLACE,
    NONE,
    REBOOT,
    REPLACE,
    VOLUME_IN_PLACE,
    VOLUME_REPLACE,
    Effect,
)
from components.vendors.linode.resources import INSTANCE_SOURCE, VOLUME_SOURCE

ADAPTER = "components/vendors/linode/adapter.py"
_NOT_USED = "not used by this vendor"

CHANGES = MappingProxyType({
    "size": Effect(REBOOT, "cold migration to the new plan; the disk is not resized (resize_disk defaults to false)",
                   INSTANCE_SOURCE),
    "region": Effect(REBOOT, "migrated to the new region; its IP addresses change; the data volume's region "
                             "RequiresReplace", f"{INSTANCE_SOURCE}; {VOLUME_SOURCE}", VOLUME_REPLACE),
    "image": Effect(REPLACE, "image is ForceNew", INSTANCE_SOURCE),
    "hostName": Effect(IN_PLACE, "label renamed; the OS hostname set by first boot stays; the data volume's label is "
                                 "renamed in place", f"{INSTANCE_SOURCE}; {VOLUME_SOURCE}", VOLUME_IN_PLACE),
    "ipv6": Effect(NONE, "a Linode always has IPv6; only the AAAA record follows", ADAPTER),
    "tags": Effect(IN_PLACE, "tags update in place", INSTANCE_SOURCE),
    "backups": Effect(IN_PLACE, "backups_enabled updates in place", INSTANCE_SOURCE),
    "monitoring": Effect(NONE, _NOT_USED, ADAPTER),
    "dataVolumeGb": Effect(CONVERGE, "the volume is resized in place, growing only (Linode refuses a smaller size); "
                                     "HostConfig grows its filesystem", VOLUME_SOURCE, VOLUME_IN_PLACE),
    "growDisk": Effect(NONE, _NOT_USED + " (resize_disk stays false)", ADAPTER),
})
