"""Linode (Akamai): plans with list prices, regions with locations and the Metadata capability, what first boot it
receives, and its mocks.

Prices and slugs gathered 2026-11 from Linode's published price and API pages. Importing this module does not
import pulumi_linode: the adapter is in `adapter.py`, loaded only by a stack that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from components.vendors.linode.changes import CHANGES
from components.vendors.linode.resources import RESOURCES
from components.vendors.model import Location, Size, Vendor

#: Regions WITH the Metadata service, which carries first-boot data to cloud-init. Elsewhere cloud-init is
#: switched off through DMI overrides and the user data is ignored without an error: no hardening, no admin,
#: nothing fails (cloud-init Akamai datasource docs, "Configuration Overrides"). Sources: Linode's "Overview of
#: the Metadata Service" guide, Availability section (linode/docs repository,
#: docs/products/compute/compute-instances/guides/metadata/index.md: us-iad and fr-par first, then the newer core
#: compute regions), and the API's per-region capability "Metadata" (linode-api-docs release 4.161.0,
#: 2023-08-24). Recorded 2026-11-29 and kept conservative: a legacy region is refused until its capability is
#: confirmed (`linode-cli regions view <region>` lists "Metadata"); add it here then.
METADATA_REGIONS: frozenset[str] = frozenset({"us-ord", "us-iad", "us-sea", "us-mia", "fr-par", "id-cgk", "br-gru"})
_NO_METADATA = ("has no Linode Metadata service: cloud-init would silently skip the first boot "
                "(no hardening, no admin account)")

#: Images without Metadata/cloud-init support: every Linode-provided distribution has it except Kali and
#: Slackware (same guide, "Technical Specifications": compatible distributions).
NO_METADATA_IMAGE_PREFIXES: tuple[str, ...] = ("linode/kali", "linode/slackware")

#: An instance's label is the host name: 3-50 characters in the Linode provider (the API allows 64), and the API
#: refuses two separators in a row.
LABEL_MIN, LABEL_MAX = 3, 50

#: The most bytes of user data the Metadata service takes, base64-encoded.
MAX_USER_DATA = 16 * 1024

LOCATIONS = MappingProxyType({
    "us-east": Location("Newark", "US", 40.74, -74.17),
    "us-central": Location("Dallas", "US", 32.78, -96.80),
    "us-west": Location("Fremont", "US", 37.55, -121.99),
    "us-southeast": Location("Atlanta", "US", 33.75, -84.39),
    "us-ord": Location("Chicago", "US", 41.88, -87.63),
    "us-iad": Location("Washington DC", "US", 38.90, -77.04),
    "us-sea": Location("Seattle", "US", 47.61, -122.33),
    "us-mia": Location("Miami", "US", 25.76, -80.19),
    "ca-central": Location("Toronto", "CA", 43.65, -79.38),
    "eu-west": Location("London", "GB", 51.51, -0.13),
    "eu-central": Location("Frankfurt", "DE", 50.11, 8.68),
    "fr-par": Location("Paris", "FR", 48.86, 2.35),
    "ap-south": Location("Singapore", "SG", 1.35, 103.82),
    "ap-northeast": Location("Tokyo", "JP", 35.68, 139.69),
    "ap-west": Location("Mumbai", "IN", 19.08, 72.88),
    "ap-southeast": Location("Sydney", "AU", -33.87, 151.21),
    "id-cgk": Location("Jakarta", "ID", -6.21, 106.85),
    "br-gru": Location("Sao Paulo", "BR", -23.55, -46.63),
})
_REGIONS = tuple(LOCATIONS)


def image_has_metadata(slug: str) -> bool:
    """Whether an image slug reads its first-boot data from the Metadata service."""
    return not slug.startswith(NO_METADATA_IMAGE_PREFIXES)


def image_objection(slug: str) -> str | None:
    return None if image_has_metadata(slug) else "cannot read first-boot data from Linode's Metadata service"


def host_name_objection(host_name: str) -> str | None:
    if "--" in host_name or not LABEL_MIN <= len(host_name) <= LABEL_MAX:
        return (f"cannot be a linode label; allowed on linode: {LABEL_MIN}-{LABEL_MAX} characters, no '--' "
                "(single hyphens only)")
    return None


def backup_price(size: Size) -> float:
    """Fixed add-on prices per plan size."""
    return {1024: 2.0, 2048: 2.5, 4096: 5.0, 8192: 10.0}.get(size.ram_mb, round(size.monthly_usd * 0.2, 2))


def _get_domain(args: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": 4242, "domain": args.get("domain")}


VENDOR = Vendor(
    name="linode",
    title="Linode (Akamai)",
    sizes=(
        Size("g6-nanode-1", 1, 1024, 25, 1.0, 5.0, "small"),
        Size("g6-standard-1", 1, 2048, 50, 2.0, 12.0, "medium"),
        Size("g6-standard-2", 2, 4096, 80, 4.0, 24.0, "large"),
        Size("g6-standard-4", 4, 8192, 160, 5.0, 48.0),
    ),
    regions=_REGIONS,
    images=MappingProxyType(
        {"ubuntu-24.04": "linode/ubuntu24.04", "debian-12": "linode/debian12", "debian-13": "linode/debian13"}),
    has_static_ipv4=False,  # every Linode keeps its public IPv4 for life; no separate static address
    static_ipv4_usd=0.0,
    has_dns=True,
    backups="+$2 (Nanode) to +$10 (8 GB) per month",
    backup_price=backup_price,
    volume_gb_range=(10, 10000),  # Block Storage: 10 to 10,000 GB, $0.10 per GB-month (Linode Block Storage guide)
    volume_usd_per_gb=0.10,
    volume_devices=lambda name: (f"/dev/disk/by-id/scsi-0Linode_Volume_{name}",),
    # terraform-provider-linode linode/volume/framework_schema_resource.go: label LengthBetween(1, 32)
    volume_name_max=32,
    first_boot_form="cloud-config",
    sent_form="cloud-config-gzip-base64",  # the cloud-config gzipped and base64-encoded
    sent_form_limit=MAX_USER_DATA,
    locations=LOCATIONS,
    default_region="fr-par",
    adapter="components.vendors.linode.adapter:LinodeHost",
    resources=RESOURCES,
    changes=CHANGES,
    object_storage_endpoint="https://<cluster>.linodeobjects.com",
    closed_regions=MappingProxyType({r: _NO_METADATA for r in _REGIONS if r not in METADATA_REGIONS}),
    closed_region_note="Linode regions without Metadata",
    host_name_objection=host_name_objection,
    image_objection=image_objection,
    always_ipv6=True,  # every Linode has an IPv6 address
    mock_outputs=MappingProxyType({
        "linode:index/instance:Instance": {"ipv4s": ["192.0.2.30"], "ipv6": "2001:db8::30/128"},
    }),
    mock_invokes=MappingProxyType({"linode:index/getDomain:getDomain": _get_domain}),
)
