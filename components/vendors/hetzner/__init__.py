"""Hetzner Cloud: plans with prices, locations, what first boot it receives, and its mocks.

Importing this module does not import pulumi_hcloud: the adapter is in `adapter.py`, loaded only by a stack that
uses it.

Prices. Hetzner bills in euros, excluding VAT, and repriced its cloud on 2026-04-01 and again (for new servers
and rescales) on 2026-06-15. No official price list could be read where this catalog was written: the figures
below are a *third-party* snapshot of 2026-09-08, converted to US dollars at a stated rate so that the
comparison never adds euros to dollars. Read `GET https://api.hetzner.cloud/v1/pricing` with a project token
before relying on them, and correct `EUR_PRICES` here with that date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from components.vendors.hetzner.changes import CHANGES
from components.vendors.hetzner.resources import RESOURCES
from components.vendors.model import Location, Size, Vendor, share_of_price

#: US dollars per euro: the ECB reference rate of 2026-05-27 (1.1637), as a third party cites it. Every Hetzner
#: price in this catalog is its euro price times this rate, rounded to the cent.
USD_PER_EUR = 1.1637
PRICES_AS_OF = "2026-09-08"

#: Monthly caps in EUR excluding VAT (third-party snapshot, PRICES_AS_OF): servers of the shared-vCPU x86 line
#: (CX) for new orders, the primary IPv4, and a volume's GB-month (EUR 0.044 before the 2026-04-01 rise of 30 %
#: on volumes, as a third party reports it; derived, not read).
EUR_PRICES: Mapping[str, float] = MappingProxyType({"cx23": 5.49, "cx33": 8.49, "primary-ipv4": 0.50,
                                                    "volume-gb": 0.0572})


def usd(eur: float, digits: int = 2) -> float:
    return round(eur * USD_PER_EUR, digits)


#: The most bytes of user data a server takes (terraform-provider-hcloud docs/resources/server.md, `user_data`:
#: "Cloud-Init user data to use during server creation", at most 32 KiB).
MAX_USER_DATA = 32 * 1024

#: Where a volume shows up inside the server: `/dev/disk/by-id/scsi-0HC_Volume_<volume id>`, the id Hetzner assigns
#: (the volume's `linux_device`). The id is not known when first boot is written, so first boot takes the one disk
#: linked under this prefix that is not the root disk, and refuses to guess when there are several.
VOLUME_DEVICE_PREFIX = "/dev/disk/by-id/scsi-0HC_Volume_*"

#: Hetzner's image names are the portable names.
IMAGES: Mapping[str, str] = MappingProxyType({"debian-13": "debian-13", "debian-12": "debian-12",
                                              "ubuntu-24.04": "ubuntu-24.04"})

LOCATIONS = MappingProxyType({
    "fsn1": Location("Falkenstein", "DE", 50.48, 12.37),
    "nbg1": Location("Nuremberg", "DE", 49.45, 11.08),
    "hel1": Location("Helsinki", "FI", 60.17, 24.94),
    "ash": Location("Ashburn", "US", 39.04, -77.49),
    "hil": Location("Hillsboro", "US", 45.52, -122.99),
    "sin": Location("Singapore", "SG", 1.35, 103.82),
})
_NO_CX = ("does not sell the CX plans this catalog prices (Hetzner offers them in its EU locations only; its US "
          "and Singapore locations have the dearer CPX line)")

#: A label key: letters, digits and - _ ., starting and ending with a letter or digit, at most 63 characters.
_LABEL_KEY = re.compile(r"[a-z0-9A-Z](?:[-_.a-z0-9A-Z]{0,61}[a-z0-9A-Z])?")


def tag_objection(tag: str) -> str | None:
    """Tags become label keys (Hetzner has labels, not tags), which hold no ':' and end in a letter or digit."""
    if _LABEL_KEY.fullmatch(tag):
        return None
    return ("cannot be a Hetzner label key; allowed here: lowercase letters, digits, - and _ (no ':'), starting "
            "and ending with a letter or digit, up to 63 characters")


VENDOR = Vendor(
    name="hetzner",
    title="Hetzner Cloud",
    sizes=(
        # Hetzner's smallest x86 plan has 2 vCPU and 4 GB: the large tier. Nano, small and medium are not offered
        # (a stack asking for one is refused, naming this plan).
        Size("cx23", 2, 4096, 40, 20.0, usd(EUR_PRICES["cx23"]), "large"),
        Size("cx33", 4, 8192, 80, 20.0, usd(EUR_PRICES["cx33"])),
    ),
    regions=tuple(LOCATIONS),
    closed_regions=MappingProxyType({"ash": _NO_CX, "hil": _NO_CX, "sin": _NO_CX}),
    closed_region_note="ash, hil and sin: no CX plans there",
    images=IMAGES,
    has_static_ipv4=True,
    static_ipv4_usd=usd(EUR_PRICES["primary-ipv4"]),  # a primary IPv4, billed while it exists
    has_dns=True,
    backups="+20% of the server price (daily, in a window Hetzner picks; 7 kept)",
    backup_price=share_of_price(0.20),
    volume_gb_range=(10, 10240),  # Volumes: 10 GB to 10 TB
    volume_usd_per_gb=usd(EUR_PRICES["volume-gb"], 4),  # per GB: cents would round it by 5 %
    volume_devices=lambda name: (VOLUME_DEVICE_PREFIX,),
    volume_name_max=64,  # this project keeps it to the host name's 63 plus "-data"
    first_boot_form="cloud-config",
    sent_form="cloud-config",  # user_data is the text itself
    sent_form_limit=MAX_USER_DATA,
    locations=LOCATIONS,
    default_region="nbg1",
    adapter="components.vendors.hetzner.adapter:HetznerHost",
    resources=RESOURCES,
    changes=CHANGES,
    tag_objection=tag_objection,
    grow_disk_input="keep_disk (set to the opposite)",
    object_storage_endpoint="https://<location>.your-objectstorage.com",
    mock_outputs=MappingProxyType({
        "hcloud:index/server:Server": {"ipv4Address": "192.0.2.50", "ipv6Address": "2001:db8::50"},
        "hcloud:index/primaryIp:PrimaryIp": {"ipAddress": "192.0.2.51"},
    }),
)
