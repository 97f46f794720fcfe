"""Vultr: plans with prices, regions with locations, what first boot it receives, and its mocks.

Importing this module does not import ediri_vultr (the Pulumi Vultr package): the adapter is in `adapter.py`,
loaded only by a stack that uses it.

Prices are *third-party* copies of vultr.com/pricing and of the API's `GET /v2/plans` (Cloud Compute, Regular
Performance), recorded 2026-12-07; Vultr's own pages could not be read from where this catalog was written. Read
`GET https://api.vultr.com/v2/plans` before relying on them, and correct them here with that date.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from components.vendors.model import Location, Size, Vendor, share_of_price
from components.vendors.vultr.changes import CHANGES
from components.vendors.vultr.resources import RESOURCES

#: The most bytes of user data this project sends Vultr, raw (the provider base64-encodes it). Vultr documents
#: no limit (API v2 create-instance: "base64 encoded user data"); until it does, the tightest limit among the
#: vendors (EC2's and Linode's 16 KiB) keeps an oversized first boot a config error, never a failed create.
MAX_USER_DATA = 16 * 1024

#: Where the block storage shows up inside the instance: `/dev/disk/by-id/virtio-<mount_id>`, the mount id Vultr
#: assigns to the volume (terraform-provider-vultr website/docs/r/block_storage.html.markdown, `mount_id`). The
#: id is not known when first boot is written, so first boot takes the one disk linked under this prefix that is
#: not the root disk, and refuses to guess when there are several (hvps-data-volume).
VOLUME_DEVICE_PREFIX = "/dev/disk/by-id/virtio-*"

#: Vultr's operating system ids (`GET /v2/os`): "Debian 13 x64 (trixie)" 2625, "Debian 12 x64 (bookworm)" 2136,
#: "Ubuntu 24.04 LTS x64" 2284, as several public Terraform configurations and API dumps list them (2026).
OS_IDS: Mapping[str, str] = MappingProxyType({"debian-13": "2625", "debian-12": "2136", "ubuntu-24.04": "2284"})

LOCATIONS = MappingProxyType({
    "ewr": Location("New Jersey", "US", 40.74, -74.17),
    "ord": Location("Chicago", "US", 41.88, -87.63),
    "dfw": Location("Dallas", "US", 32.78, -96.80),
    "atl": Location("Atlanta", "US", 33.75, -84.39),
    "mia": Location("Miami", "US", 25.76, -80.19),
    "sea": Location("Seattle", "US", 47.61, -122.33),
    "sjc": Location("Silicon Valley", "US", 37.34, -121.89),
    "lax": Location("Los Angeles", "US", 34.05, -118.24),
    "yto": Location("Toronto", "CA", 43.65, -79.38),
    "mex": Location("Mexico City", "MX", 19.43, -99.13),
    "sao": Location("Sao Paulo", "BR", -23.55, -46.63),
    "ams": Location("Amsterdam", "NL", 52.37, 4.90),
    "lhr": Location("London", "GB", 51.51, -0.13),
    "fra": Location("Frankfurt", "DE", 50.11, 8.68),
    "cdg": Location("Paris", "FR", 48.86, 2.35),
    "waw": Location("Warsaw", "PL", 52.23, 21.01),
    "mad": Location("Madrid", "ES", 40.42, -3.70),
    "sto": Location("Stockholm", "SE", 59.33, 18.07),
    "jnb": Location("Johannesburg", "ZA", -26.20, 28.05),
    "bom": Location("Mumbai", "IN", 19.08, 72.88),
    "sgp": Location("Singapore", "SG", 1.35, 103.82),
    "nrt": Location("Tokyo", "JP", 35.68, 139.69),
    "icn": Location("Seoul", "KR", 37.57, 126.98),
    "syd": Location("Sydney", "AU", -33.87, 151.21),
})


VENDOR = Vendor(
    name="vultr",
    title="Vultr",
    sizes=(
        Size("vc2-1c-0.5gb", 1, 512, 10, 0.5, 3.5, "nano"),
        Size("vc2-1c-1gb", 1, 1024, 25, 1.0, 5.0, "small"),
        Size("vc2-1c-2gb", 1, 2048, 55, 2.0, 10.0, "medium"),
        Size("vc2-2c-2gb", 2, 2048, 65, 3.0, 15.0),
        Size("vc2-2c-4gb", 2, 4096, 80, 3.0, 20.0, "large"),
        Size("vc2-4c-8gb", 4, 8192, 160, 4.0, 40.0),
    ),
    regions=tuple(LOCATIONS),
    images=OS_IDS,
    has_static_ipv4=True,
    static_ipv4_usd=3.0,  # a reserved IPv4: $3/month (third-party copy of Vultr's reserved IP pricing)
    has_dns=True,
    backups="+20% of the instance price (daily, at the hour chosen)",
    backup_price=share_of_price(0.20),  # automatic backups
    volume_gb_range=(10, 10000),  # Block Storage (NVMe): 10 to 10,000 GB, $0.10 per GB-month (third-party)
    volume_usd_per_gb=0.10,
    volume_devices=lambda name: (VOLUME_DEVICE_PREFIX,),
    volume_name_max=64,  # the block storage's label: this project keeps it to the host name's 63 plus "-data"
    first_boot_form="cloud-config",
    sent_form="cloud-config",  # the provider base64-encodes the text it is given
    sent_form_limit=MAX_USER_DATA,
    locations=LOCATIONS,
    default_region="fra",
    adapter="components.vendors.vultr.adapter:VultrHost",
    resources=RESOURCES,
    changes=CHANGES,
    object_storage_endpoint="https://<cluster>.vultrobjects.com",
    mock_outputs=MappingProxyType({
        "vultr:index/instance:Instance": {"mainIp": "192.0.2.40", "v6MainIp": "2001:db8::40",
                                          "dateCreated": "2026-12-01T09:00:00+00:00"},
        "vultr:index/reservedIp:ReservedIp": {"subnet": "192.0.2.41"},
    }),
)
