"""What changing a config key does to a running droplet, where that is DigitalOcean's own (the other keys:
components/changes.py). Read from the provider source named in each fact."""

from __future__ import annotations

from types import MappingProxyType

from components.vendors.digitalocean.resources import DROPLET_SOURCE, VOLUME_SOURCE
from components.vendors.effects import CONVERGE, IN_PLACE, REBOOT, REPLACE, VOLUME_IN_PLACE, VOLUME_REPLACE, Effect

CHANGES = MappingProxyType({
    "size": Effect(REBOOT, "powered off and resized in place; the disk grows for good only with growDisk",
                   DROPLET_SOURCE),
    "region": Effect(REPLACE, "region is ForceNew; the reserved IP and the data volume are regional and are "
                              "replaced too", f"{DROPLET_SOURCE}; {VOLUME_SOURCE}", VOLUME_REPLACE),
    "image": Effect(REPLACE, "image is ForceNew", DROPLET_SOURCE),
    "hostName": Effect(IN_PLACE, "droplet renamed; the OS hostname set by first boot stays; the data volume's name "
                                 "(made from hostName) is ForceNew", f"{DROPLET_SOURCE}; {VOLUME_SOURCE}",
                       VOLUME_REPLACE),
    "ipv6": Effect(REPLACE, "turning it off is ForceNew (turning it on is in place)", DROPLET_SOURCE),
    "tags": Effect(IN_PLACE, "tags update in place", DROPLET_SOURCE),
    "backups": Effect(IN_PLACE, "backups and backup_policy update in place", DROPLET_SOURCE),
    "monitoring": Effect(REPLACE, "monitoring is ForceNew", DROPLET_SOURCE),
    "dataVolumeGb": Effect(CONVERGE, "the volume is resized in place, growing only (CustomizeDiff refuses a "
                                       "smaller size); HostConfig grows its filesystem", VOLUME_SOURCE,
                           VOLUME_IN_PLACE),
    "growDisk": Effect(IN_PLACE, "stored only (resize_disk); takes effect at the next size change", DROPLET_SOURCE),
})
