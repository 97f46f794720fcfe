"""Vendor catalog: sizes, regions and images for the three supported vendors.

Facts are list prices and slugs gathered 2026-11 from the vendors' published price and API pages. They are data,
not code, so a price change is a one-line edit and the plan/cost outputs follow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

VENDORS: tuple[str, ...] = ("digitalocean", "linode", "lightsail")

#: Portable size tiers, smallest first. A stack may name a tier or an exact vendor slug.
TIERS: tuple[str, ...] = ("nano", "small", "medium", "large")

#: Images every vendor is asked about; the default is the newest one all three offer.
IMAGES: tuple[str, ...] = ("debian-13", "debian-12", "ubuntu-24.04")
DEFAULT_IMAGE = "debian-13"


@dataclass(frozen=True)
class Size:
    """One vendor plan: what the user gets and pays for (USD per month, list price)."""

    slug: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    transfer_tb: float
    monthly_usd: float
    tier: str | None = None

    @property
    def ram_gb(self) -> float:
        return self.ram_mb / 1024


@dataclass(frozen=True)
class Vendor:
    """What one vendor offers and how it names it."""

    name: str
    title: str
    sizes: tuple[Size, ...]
    regions: tuple[str, ...]
    images: Mapping[str, str]  # portable image name -> vendor image slug
    has_static_ipv4: bool
    static_ipv4_usd: float  # monthly price of the static/reserved address while attached
    has_dns: bool
    backups: str  # how backups are priced, for humans
    first_boot_form: str  # "cloud-config" or "launch-script"
    default_image: str = DEFAULT_IMAGE  # the image a stack gets when it names none
    #: Images the vendor may offer but this project refuses, with why (shown in the config error).
    withheld_images: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Regions the vendor lists but this project must not build in, each with why (see CLOSED_REGION_SOURCES).
    closed_regions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def open_regions(self) -> tuple[str, ...]:
        """The regions a new server may use, in catalog order: what defaults and suggestions pick from."""
        return tuple(r for r in self.regions if r not in self.closed_regions)

    def size_for(self, tier: str) -> Size | None:
        return next((s for s in self.sizes if s.tier == tier), None)

    def size_by_slug(self, slug: str) -> Size | None:
        return next((s for s in self.sizes if s.slug == slug), None)

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(t for t in TIERS if self.size_for(t) is not None)

    def backup_usd(self, size: Size) -> float:
        """Monthly backup cost estimate for a plan (Lightsail snapshots are per GB: estimate a full disk)."""
        if self.name == "digitalocean":
            return round(size.monthly_usd * 0.20, 2)  # weekly backups: +20 % of the droplet price
        if self.name == "linode":
            return {1024: 2.0, 2048: 2.5, 4096: 5.0, 8192: 10.0}.get(size.ram_mb, round(size.monthly_usd * 0.2, 2))
        return round(size.disk_gb * 0.05, 2)  # Lightsail snapshot storage, USD 0.05 per GB-month


#: DigitalOcean regions that refuse new droplets for accounts without resources there ("Region is not
#: available"): nyc2, sfo1, sfo2 and ams2, as a DigitalOcean engineer listed them for the kubernetes/kops
#: DigitalOcean provider (2022-03-18, "restricted to existing DO customers only"), greyed out on the droplet
#: create page. sfo1 and ams2 are not in the catalog at all. Recorded 2026-11-29.
_DO_CLOSED = "is closed to new droplets (DigitalOcean keeps it for accounts that already have resources there)"

#: Linode regions WITH the Metadata service, which carries first-boot data to cloud-init. Elsewhere cloud-init
#: is switched off through DMI overrides and the user data is ignored without an error: no hardening, no
#: admin, nothing fails (cloud-init Akamai datasource docs, "Configuration Overrides"). Sources: Linode's
#: "Overview of the Metadata Service" guide, Availability section (linode/docs repository,
#: docs/products/compute/compute-instances/guides/metadata/index.md: us-iad and fr-par first, then the
#: newer core compute regions), and the API's per-region capability "Metadata" (linode-api-docs release
#: 4.161.0, 2023-08-24). Recorded 2026-11-29 and kept conservative: a legacy region is refused until its
#: capability is confirmed (`linode-cli regions view <region>` lists "Metadata"); add it here then.
LINODE_METADATA_REGIONS: frozenset[str] = frozenset(
    {"us-ord", "us-iad", "us-sea", "us-mia", "fr-par", "id-cgk", "br-gru"})
_LINODE_NO_METADATA = ("has no Linode Metadata service: cloud-init would silently skip the first boot "
                       "(no hardening, no admin account)")

#: Linode images without Metadata/cloud-init support: every Linode-provided distribution has it except Kali
#: and Slackware (same guide, "Technical Specifications": compatible distributions).
LINODE_NO_METADATA_IMAGE_PREFIXES: tuple[str, ...] = ("linode/kali", "linode/slackware")


def linode_image_has_metadata(slug: str) -> bool:
    """Whether a Linode image slug reads its first-boot data from the Metadata service."""
    return not slug.startswith(LINODE_NO_METADATA_IMAGE_PREFIXES)


_DO = Vendor(
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
    first_boot_form="cloud-config",
    closed_regions=MappingProxyType({"nyc2": _DO_CLOSED, "sfo2": _DO_CLOSED}),
)

_LINODE_REGIONS = (
    "us-east", "us-central", "us-west", "us-southeast", "us-ord", "us-iad", "us-sea", "us-mia", "ca-central",
    "eu-west", "eu-central", "fr-par", "ap-south", "ap-northeast", "ap-west", "ap-southeast", "id-cgk", "br-gru",
)

_LINODE = Vendor(
    name="linode",
    title="Linode (Akamai)",
    sizes=(
        Size("g6-nanode-1", 1, 1024, 25, 1.0, 5.0, "small"),
        Size("g6-standard-1", 1, 2048, 50, 2.0, 12.0, "medium"),
        Size("g6-standard-2", 2, 4096, 80, 4.0, 24.0, "large"),
        Size("g6-standard-4", 4, 8192, 160, 5.0, 48.0),
    ),
    regions=_LINODE_REGIONS,
    images=MappingProxyType(
        {"ubuntu-24.04": "linode/ubuntu24.04", "debian-12": "linode/debian12", "debian-13": "linode/debian13"}),
    has_static_ipv4=False,  # every Linode keeps its public IPv4 for life; no separate static address
    static_ipv4_usd=0.0,
    has_dns=True,
    backups="+$2 (Nanode) to +$10 (8 GB) per month",
    first_boot_form="cloud-config",
    closed_regions=MappingProxyType(
        {r: _LINODE_NO_METADATA for r in _LINODE_REGIONS if r not in LINODE_METADATA_REGIONS}),
)

_LIGHTSAIL = Vendor(
    name="lightsail",
    title="AWS Lightsail",
    sizes=(
        Size("nano_3_0", 2, 512, 20, 1.0, 5.0, "nano"),
        Size("micro_3_0", 2, 1024, 40, 2.0, 7.0, "small"),
        Size("small_3_0", 2, 2048, 60, 3.0, 12.0, "medium"),
        Size("medium_3_0", 2, 4096, 80, 4.0, 24.0, "large"),
        Size("large_3_0", 2, 8192, 160, 5.0, 44.0),
    ),
    regions=(
        "us-east-1", "us-east-2", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
        "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
    ),
    # Blueprint ids: `debian_12` and `ubuntu_24_04` are what public Lightsail deployments pass to
    # `aws lightsail create-instances --blueprint-id` and Terraform's `blueprint_id`, and what the blueprint list
    # of a CDK Lightsail construct (LinuxOSBlueprint.DEBIAN_12, UBUNTU_24_04) names. No AWS page, provider test or
    # get-blueprints output available here names a Debian 13 blueprint, so `debian_13` is withheld until one does.
    images=MappingProxyType({"debian-12": "debian_12", "ubuntu-24.04": "ubuntu_24_04"}),
    has_static_ipv4=True,
    static_ipv4_usd=0.0,  # free while attached to an instance
    has_dns=True,  # Lightsail DNS zones live in us-east-1 only
    backups="automatic snapshots, about $0.05 per GB-month",
    first_boot_form="launch-script",
    default_image="debian-12",
    withheld_images=MappingProxyType({
        "debian-13": "its blueprint id debian_13 is not confirmed by any AWS source yet; check "
                     "`aws lightsail get-blueprints` in your region"}),
)

CATALOG: Mapping[str, Vendor] = MappingProxyType({v.name: v for v in (_DO, _LINODE, _LIGHTSAIL)})


def vendor(name: str) -> Vendor:
    """The catalog entry for a validated vendor name."""
    return CATALOG[name]
