"""What a vendor description holds: its offer (plans, regions, images), where its regions are, and what the rest
of the project needs to know about it, as data, so catalog, config, first boot, plan and mocks iterate the registry
instead of branching per vendor. Importing this imports no vendor SDK."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from components.vendors.effects import Effect, ForceNewInputs, VolumeInputs
from components.vendors.openings import Opening

if TYPE_CHECKING:
    from components.host import WebHost

#: Portable size tiers, smallest first. A stack may name a tier or an exact vendor slug.
TIERS: tuple[str, ...] = ("nano", "small", "medium", "large")

#: Images every vendor is asked about; the default is the newest one all vendors offer.
IMAGES: tuple[str, ...] = ("debian-13", "debian-12", "ubuntu-24.04")
DEFAULT_IMAGE = "debian-13"

#: When the vendor's scheduled backups start (UTC hour), where the vendor lets us choose.
BACKUP_HOUR_UTC = 4

_NONE: Mapping[str, str] = MappingProxyType({})


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


def share_of_price(share: float) -> Callable[[Size], float]:
    """A backup price that is a share of the plan's price (a vendor's "+20 %")."""
    def price(size: Size) -> float:
        return round(size.monthly_usd * share, 2)
    return price


@dataclass(frozen=True)
class Location:
    city: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return f"{self.city}, {self.country}"


def _no_objection(_: str) -> str | None:
    return None


def _filters(_: Callable[[str], Any]) -> str | None:
    return None


#: A resource's inputs as the engine hands them to a reader (plain values; see components/vendors/props.py).
Props = Mapping[str, Any]


@dataclass(frozen=True)
class FirewallFacts:
    """The vendor's cloud firewall as the policy pack reads it."""

    type: str  # the engine's type token
    kind: str  # what people call it, in messages
    #: The firewall input naming the servers it filters, and whether it names them by name (else by id).
    server_reference: str
    openings: Callable[[Props], list[Opening]]  # what its inbound rules let in
    fix_missing: str  # the fix when a server has no firewall of this type attached
    by_name: bool = False
    #: The firewall is named by the server (server_reference is the server's input), not the other way round.
    server_names_firewall: bool = False
    #: Where each rule is a resource of its own: its type, what people call it, and its input naming the
    #: firewall. `openings` then reads one rule; the policy pack adds a firewall's rules up across resources.
    rule_type: str = ""
    rule_kind: str = ""
    rule_group_reference: str = ""
    #: Why an attached firewall would not filter (None: it does), from value(input), which gives
    #: props.UNKNOWN for a value the engine does not know yet; and the fix for that.
    defect: Callable[[Callable[[str], Any]], str | None] = _filters
    fix_defect: str = ""
    #: Server inputs that let traffic past the firewall or hide its list from the engine, each with why: set at
    #: all (anything but false, empty or unset), the server is refused.
    unfiltered_inputs: Mapping[str, str] = field(default_factory=lambda: _NONE)


@dataclass(frozen=True)
class ResourceFacts:
    """What the policy pack and the change model need to read this vendor's resources: type tokens as the engine
    names them, where the inputs that matter sit, and every type the adapter creates."""

    server: str
    server_kind: str
    size_input: str  # the input holding the plan slug
    #: The first-boot data as the vendor receives it and where it sits in the inputs (None: there is none).
    user_data: Callable[[Props], tuple[str, str] | None]
    backups_on: Callable[[Props], bool]
    firewall: FirewallFacts
    server_inputs: ForceNewInputs  # which server inputs the provider answers by replacing it
    data_volume: str
    volume_inputs: VolumeInputs
    data_volume_attachment: str | None  # None: the volume is its own attachment
    #: Every other type the adapter creates (keys, addresses, DNS records).
    other_types: frozenset[str]
    #: Server inputs that boot something other than the first boot (a rescue system, a mounted ISO), each with
    #: why: set at all, the server is refused.
    other_boot_inputs: Mapping[str, str] = field(default_factory=lambda: _NONE)

    @property
    def types(self) -> frozenset[str]:
        """Every cloud resource type this vendor's host component creates."""
        own = {self.server, self.firewall.type, self.data_volume, *self.other_types}
        own |= {self.firewall.rule_type} if self.firewall.rule_type else set()
        return frozenset(own | ({self.data_volume_attachment} if self.data_volume_attachment else set()))


@dataclass(frozen=True)
class Vendor:
    """What one vendor offers, how it names it, and what it accepts."""

    name: str
    title: str
    sizes: tuple[Size, ...]
    regions: tuple[str, ...]
    images: Mapping[str, str]  # portable image name -> vendor image slug
    has_static_ipv4: bool
    static_ipv4_usd: float  # monthly price of the static/reserved address while attached
    has_dns: bool
    backups: str  # how backups are priced, for humans
    backup_price: Callable[[Size], float]  # monthly backup cost estimate for a plan
    first_boot_form: str  # "cloud-config" or "launch-script"
    #: The form as the vendor receives it (a key of RenderedFirstBoot.sizes) and the most bytes it accepts so.
    sent_form: str
    sent_form_limit: int
    locations: Mapping[str, Location]  # region slug -> where it is
    #: The block-storage volume a stack may ask for (dataVolumeGb): smallest and largest size in GB, and its
    #: list price per GB-month.
    volume_gb_range: tuple[int, int]
    volume_usd_per_gb: float
    #: Where the attached volume named so shows up on the server, most specific first: first boot mounts the
    #: first that exists (some vendors name the volume in /dev/disk/by-id, others give a device name, which may be
    #: an NVMe device). A path ending in '*' is a prefix, where the vendor names the link by an id it assigns: the
    #: one disk linked under it that is not the root disk (several: refused).
    volume_devices: Callable[[str], tuple[str, ...]]
    #: The longest volume name the vendor takes (the config refuses a hostName whose volume name is longer).
    volume_name_max: int
    default_region: str  # where a stack lands when it names no region
    adapter: str  # "module:Class" of the WebHost subclass, imported only when a stack uses this vendor
    #: How the policy pack and the change model read this vendor's resources.
    resources: ResourceFacts
    #: The effect of changing each config key whose effect is this vendor's own (components/changes.py holds the
    #: keys whose effect is the same everywhere).
    changes: Mapping[str, Effect]
    default_image: str = DEFAULT_IMAGE  # the image a stack gets when it names none
    #: Images the vendor may offer but this project refuses, with why (shown in the config error).
    withheld_images: Mapping[str, str] = field(default_factory=lambda: _NONE)
    #: Regions the vendor lists but this project must not build in, each with why.
    closed_regions: Mapping[str, str] = field(default_factory=lambda: _NONE)
    #: Which regions closed_regions holds beyond those closed to new servers, for the config reference.
    closed_region_note: str = ""
    #: Why a host name cannot name a server here (None: it can), with what is allowed.
    host_name_objection: Callable[[str], str | None] = _no_objection
    #: Why an image slug cannot receive first-boot data here (None: it can).
    image_objection: Callable[[str], str | None] = _no_objection
    #: Why a tag (already valid for the project) cannot label resources here (None: it can), with what is allowed.
    tag_objection: Callable[[str], str | None] = _no_objection
    always_ipv6: bool = False  # every server has an IPv6 address whether asked or not
    #: Mocks: output values a stand-in engine gives this vendor's resources (by type token), and the types
    #: whose provider id is one of their inputs (type token -> input name).
    mock_outputs: Mapping[str, Mapping[str, object]] = field(default_factory=lambda: MappingProxyType({}))
    id_from_input: Mapping[str, str] = field(default_factory=lambda: _NONE)
    #: The vendor's free monitoring agent, where first boot lets it reach the metadata service.
    monitoring_agent: bool = False
    #: The server input that lets a size change grow the disk for good (growDisk), where the vendor has one.
    grow_disk_input: str = ""
    #: The S3 endpoint of the vendor's object storage, as people write it (backupEndpoint's examples).
    object_storage_endpoint: str = ""
    #: Mocks: answers to the invokes this vendor's adapter makes (token -> arguments -> result).
    mock_invokes: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = field(
        default_factory=lambda: MappingProxyType({}))

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
        return self.backup_price(size)

    def host_class(self) -> type[WebHost]:
        """The host component class, importing the vendor's SDK only now."""
        module_name, class_name = self.adapter.split(":")
        cls: type[WebHost] = getattr(importlib.import_module(module_name), class_name)
        return cls
