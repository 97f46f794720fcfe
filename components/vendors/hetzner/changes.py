"""What changing a config key does to a running Hetzner Cloud server, where that is Hetzner's own (the other
keys: components/changes.py). Read from the provider source named in each fact (terraform-provider-hcloud v1.68.0,
the version pulumi-hcloud 1.43.3 wraps)."""

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
from components.vendors.hetzner.resources import PRIMARY_IP_SOURCE, SERVER_SOURCE, VOLUME_SOURCE

ADAPTER = "components/vendors/hetzner/adapter.py"
_NOT_USED = "not used by this vendor"

CHANGES = MappingProxyType({
    "size": Effect(REBOOT, "Update powers the server off and changes its type, and does NOT power it on again: the "
                           "site is down until you start it (`hcloud server poweron <name>` or the console); the "
                           "disk grows for good only with growDisk", SERVER_SOURCE),
    "region": Effect(REPLACE, "location is ForceNew on the server, its primary IPv4 (a new address) and the volume",
                     f"{SERVER_SOURCE}; {PRIMARY_IP_SOURCE}; {VOLUME_SOURCE}", VOLUME_REPLACE),
    "image": Effect(REPLACE, "image is ForceNew; the old server is deleted first (it holds the primary IPv4)",
                    SERVER_SOURCE),
    "hostName": Effect(IN_PLACE, "name is renamed in place (the OS hostname set by first boot stays); the volume "
                                 "is renamed in place", f"{SERVER_SOURCE}; {VOLUME_SOURCE}", VOLUME_IN_PLACE),
    "ipv6": Effect(REBOOT, "public_net is updated in place with the server powered off and on again",
                   SERVER_SOURCE),
    "tags": Effect(IN_PLACE, "labels update in place (the volume's too)", f"{SERVER_SOURCE}; {VOLUME_SOURCE}",
                   VOLUME_IN_PLACE),
    "backups": Effect(IN_PLACE, "backups are switched in place", SERVER_SOURCE),
    "monitoring": Effect(NONE, _NOT_USED, ADAPTER),
    "dataVolumeGb": Effect(CONVERGE, "the volume is resized in place (Hetzner cannot shrink one); HostConfig grows "
                                     "its filesystem", VOLUME_SOURCE, VOLUME_IN_PLACE),
    "growDisk": Effect(IN_PLACE, "stored only (keep_disk); takes effect at the next size change", SERVER_SOURCE),
})
