"""DigitalOcean: plans with list prices, regions with locations, what first boot it receives, and its mocks.

Prices and slugs gathered 2026-11 from DigitalOcean's published price and API pages. Importing this module does
not import pulumi_digitalocean: the adapter is in `adapter.py`, loaded only by a stack that uses it.
"""

from __future__ import annotations

from types import MappingProxyType

from components.vendors.digitalocean.changes import CHANGES
from components.vendors.digitalocean.resources import RESOURCES
from components.vendors.model import Location, Size, Vendor, share_of_price

#: Regions that refuse new droplets for accounts without resources there ("Region is not available"): nyc2,
#: sfo1, sfo2 and ams2, as a DigitalOcean engineer listed them for the kubernetes/kops DigitalOcean provider
#: (2022-03-18, "restricted to existing DO customers only"), greyed out on the droplet create page. sfo1 and
#: ams2 are not in the catalog at all. Recorded 2026-11-29.
_CLOSED = "is closed to new droplets (DigitalOcean keeps it for accounts that already have resources there)"

_NEW_YORK = Location("New York", "US", 40.71, -74.01)
_SAN_FRANCISCO = Location("San Francisco", "US", 37.77, -122.42)

LOCATIONS = MappingProxyType({
    "nyc1": _NEW_YORK,
    "nyc2": _NEW_YORK,
    "nyc3": _NEW_YORK,
    "sfo2": _SAN_FRANCISCO,
    "sfo3": _SAN_FRANCISCO,
    "ams3": Location("Amsterdam", "NL", 52.37, 4.90),
    "fra1": Location("Frankfurt", "DE", 50.11, 8.68),
    "lon1": Location("London", "GB", 51.51, -0.13),
    "sgp1": Location("Singapore", "SG", 1.35, 103.82),
    "tor1": Location("Toronto", "CA", 43.65, -79.38),
    "blr1": Location("Bengaluru", "IN", 12.97, 77.59),
    "syd1": Location("Sydney", "AU", -33.87, 151.21),
})


VENDOR = Vendor(
    name="digitalocean",
    title="DigitalOcean",
    sizes=(
        Size("s-1vcpu-512mb-10gb", 1, 512, 10, 0.5, 4.0, "nano"),
        Size("s-1vcpu-1gb", 1, 1024, 25, 1.0, 6.0, "small"),
        Size("s-1vcpu-2gb", 1, 2048, 50, 2.0, 12.0, "medium"),
        Size("s-2vcpu-2gb", 2, 2048, 60, 3.0, 18.0),
        Size("s-2vcpu-4gb", 2, 4096, 80, 4.0, 24.0, "large"),
        Size("s-4vcpu-8gb", 4, 8192, 160, 5.0, 48.0),
    ),
    regions=("nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1"),
    images=MappingProxyType(
        {"ubuntu-24.04": "ubuntu-24-04-x64", "debian-12": "debian-12-x64", "debian-13": "debian-13-x64"}),
    has_static_ipv4=True,
    static_ipv4_usd=0.0,  # a reserved IP is free while assigned to a droplet
    has_dns=True,
    backups="+20% of the droplet price (weekly)",
    backup_price=share_of_price(0.20),  # weekly backups
    volume_gb_range=(1, 16384),  # Volumes: 1 GiB to 16 TiB, $0.10 per GiB-month (DigitalOcean Volumes pricing)
    volume_usd_per_gb=0.10,
    volume_devices=lambda name: (f"/dev/disk/by-id/scsi-0DO_Volume_{name}",),
    volume_name_max=64,  # API: lowercase letters, digits and "-", up to 64 characters, starting with a letter
    first_boot_form="cloud-config",
    sent_form="cloud-config",
    sent_form_limit=64 * 1024,  # droplet user data: 64 KiB
    locations=LOCATIONS,
    default_region="fra1",
    adapter="components.vendors.digitalocean.adapter:DigitalOceanHost",
    resources=RESOURCES,
    changes=CHANGES,
    grow_disk_input="resize_disk",
    object_storage_endpoint="https://<region>.digitaloceanspaces.com",
    monitoring_agent=True,
    closed_regions=MappingProxyType({"nyc2": _CLOSED, "sfo2": _CLOSED}),
    mock_outputs=MappingProxyType({
        "digitalocean:index/droplet:Droplet": {"ipv4Address": "192.0.2.10", "ipv6Address": "2001:db8::10",
                                               "createdAt": "2026-12-01T09:00:00Z"},
        "digitalocean:index/sshKey:SshKey": {"fingerprint": "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"},
        "digitalocean:index/reservedIp:ReservedIp": {"ipAddress": "192.0.2.20"},
    }),
)
