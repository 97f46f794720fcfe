"""What changing a config key does to a running Lightsail instance, where that is Lightsail's own (the other keys:
components/changes.py). Read from the provider source named in each fact."""

from __future__ import annotations

from types import MappingProxyType

from components.vendors.effects import CONVERGE, IN_PLACE, NONE, REPLACE, VOLUME_REPLACE, Effect
from components.vendors.lightsail.resources import DISK_SOURCE, INSTANCE_SOURCE

ADAPTER = "components/vendors/lightsail/adapter.py"
_NOT_USED = "not used by this vendor"

CHANGES = MappingProxyType({
    "size": Effect(REPLACE, "bundle_id is ForceNew; the old instance is deleted first (unique name)", INSTANCE_SOURCE),
    "region": Effect(REPLACE, "availability_zone is ForceNew (for the disk too); the static IP is regional and is "
                              "replaced too", f"{INSTANCE_SOURCE}; {DISK_SOURCE}", VOLUME_REPLACE),
    "image": Effect(REPLACE, "blueprint_id is ForceNew", INSTANCE_SOURCE),
    "hostName": Effect(REPLACE, "the instance name is ForceNew; deleted first (names are unique); so is the disk's "
                                "name", f"{INSTANCE_SOURCE}; {DISK_SOURCE}", VOLUME_REPLACE),
    "ipv6": Effect(IN_PLACE, "ip_address_type changes in place (SetIpAddressType)", INSTANCE_SOURCE),
    "tags": Effect(IN_PLACE, "tags update in place", INSTANCE_SOURCE),
    "backups": Effect(IN_PLACE, "the AutoSnapshot add-on is enabled or disabled in place", INSTANCE_SOURCE),
    "monitoring": Effect(NONE, _NOT_USED, ADAPTER),
    "dataVolumeGb": Effect(CONVERGE, "size_in_gb is ForceNew for the disk (Update changes tags only): a new, empty "
                                     "disk, which HostConfig formats", DISK_SOURCE, VOLUME_REPLACE),
    "growDisk": Effect(NONE, _NOT_USED, ADAPTER),
})
