"""What changing a config key does to a running Vultr instance, where that is Vultr's own (the other keys:
components/changes.py). Read from the provider source named in each fact (terraform-provider-vultr v2.27.1, the
version ediri-vultr 2.27.1 wraps)."""

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
from components.vendors.vultr.resources import BLOCK_STORAGE_SOURCE, INSTANCE_SOURCE

ADAPTER = "components/vendors/vultr/adapter.py"
_NOT_USED = "not used by this vendor"

CHANGES = MappingProxyType({
    "size": Effect(REBOOT, "the plan is upgraded in place (Update sends `plan`, then waits for it); Vultr restarts "
                           "the instance to resize it and refuses a smaller plan", INSTANCE_SOURCE),
    "region": Effect(REPLACE, "region is ForceNew; the reserved IP and the block storage are regional and are "
                              "replaced too", f"{INSTANCE_SOURCE}; {BLOCK_STORAGE_SOURCE}", VOLUME_REPLACE),
    "image": Effect(REPLACE, "os_id is ForceNew", INSTANCE_SOURCE),
    "hostName": Effect(REPLACE, "hostname is ForceNew (an OS reinstall); the old instance is deleted first (it holds "
                                "the reserved IP); the block storage's label is renamed in place",
                       f"{INSTANCE_SOURCE}; {BLOCK_STORAGE_SOURCE}", VOLUME_IN_PLACE),
    "ipv6": Effect(IN_PLACE, "enable_ipv6 is sent in place by Update; turning it off is not undone at Vultr (the "
                             "address stays; only the AAAA record goes)", INSTANCE_SOURCE),
    "tags": Effect(IN_PLACE, "tags update in place", INSTANCE_SOURCE),
    "backups": Effect(IN_PLACE, "backups and backups_schedule update in place", INSTANCE_SOURCE),
    "monitoring": Effect(NONE, _NOT_USED, ADAPTER),
    "dataVolumeGb": Effect(CONVERGE, "size_gb is resized in place (Vultr cannot shrink a volume); HostConfig grows "
                                     "its filesystem", BLOCK_STORAGE_SOURCE, VOLUME_IN_PLACE),
    "growDisk": Effect(NONE, _NOT_USED, ADAPTER),
})
