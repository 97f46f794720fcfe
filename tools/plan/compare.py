"""The same host on every vendor: plan, hardware, cost, static IPv4, backups, DNS, nearby regions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from components import catalog, changes
from components.config import DEFAULT_REGIONS, HostSpec, default_of
from components.cost import monthly_cost
from components.regions import Location, find_place, nearest
from tools.plan.cost import static_ip_text, usd
from tools.plan.document import Document, Para, Section, Table

if TYPE_CHECKING:
    from tools.bench.results import Result

DEFAULT_NEAR = DEFAULT_REGIONS[catalog.VENDORS[0]]  # the project's default location (every default is there)
ORDINALS = ("1st", "2nd", "3rd")  # the nearest regions a comparison lists


def _neutral_spec(tier: str) -> HostSpec:
    """A host with every optional setting at its default, for comparing without a stack."""
    vendor = catalog.vendor(catalog.VENDORS[0])
    size = next(s for s in (v.size_for(tier) for v in catalog.CATALOG.values()) if s is not None)
    return HostSpec(vendor=vendor.name, size=size, region=DEFAULT_REGIONS[vendor.name], image=catalog.DEFAULT_IMAGE,
                    host_name="compare", ssh_keys=(), ssh_allowed_cidrs=())


def tier_of(spec: HostSpec) -> str:
    """The stack's tier; a plain plan slug maps to the vendor's tier with the same memory."""
    if spec.size.tier:
        return spec.size.tier
    same = [s.tier for s in spec.vendor_info.sizes if s.tier and s.ram_mb == spec.size.ram_mb]
    if not same:
        raise ValueError(f"plan {spec.size.slug} has no portable tier; pass --tier ({', '.join(catalog.TIERS)})")
    return same[0]


def build_compare(tier: str | None = None, near: str | None = None, spec: HostSpec | None = None,
                  stack: str | None = None, results: Sequence[Result] = ()) -> Document:
    """Vendors side by side at one tier: plan, hardware, cost, static IPv4, backups, DNS, nearby regions.

    With a stack's spec, the host keeps that stack's settings (backups) and defaults to its tier and region.
    With benchmark results (tools.bench), measured rows follow the list prices.
    """
    if tier is None:
        tier = tier_of(spec) if spec else default_of("size")
    if tier not in catalog.TIERS:
        raise ValueError(f"unknown tier {tier!r}; tiers: {', '.join(catalog.TIERS)}")
    place_name, place = find_place(near or (spec.region if spec else DEFAULT_NEAR))
    base = spec or _neutral_spec(tier)
    vendors = [catalog.vendor(v) for v in catalog.VENDORS]
    columns = [_vendor_column(v, tier, place, place_name, base) for v in vendors]
    notes: list[Para] = []
    if results:
        from tools.plan.measured import measured_cells, measured_note  # tools.bench reads tools.plan's document

        columns = [column | measured_cells(results, v, tier) for column, v in zip(columns, vendors, strict=True)]
        notes.append(measured_note(results))
    labels = list(dict.fromkeys(label for column in columns for label in column))  # first-seen order
    rows = [[label, *(column.get(label, "") for column in columns)] for label in labels]
    offered = [(monthly_cost(_on(base, v, tier, place)).total_usd, v.title) for v in vendors if v.size_for(tier)]
    cheapest = min(offered)[0]
    names = " and ".join(title for total, title in offered if total == cheapest)
    what = f"stack {stack}" if stack else "a host with default settings"
    headers = ["", *(v.title + (" (this stack)" if spec and v.name == spec.vendor else "") for v in vendors)]
    return Document(
        f"Vendor comparison: tier {tier}, near {place_name}" + (f" (stack {stack})" if stack else ""),
        [Section(f"{tier} tier", [
            Table(headers, rows),
            Para(f"Cheapest for {what}: {names} at {usd(cheapest)} per month. Regions are ranked by distance from "
                 f"{place.label}; the first is where this comparison places the host. List prices in USD from "
                 "components/catalog.py; taxes and region surcharges excluded."),
            *notes,
        ])],
    )


def _on(base: HostSpec, vendor: catalog.Vendor, tier: str, place: Location) -> HostSpec:
    """`base` moved to `vendor`: its plan at `tier`, in its region nearest to `place`."""
    size = vendor.size_for(tier)
    assert size is not None
    low, high = vendor.volume_gb_range  # a data volume at the nearest size this vendor offers
    volume = min(max(base.data_volume_gb, low), high) if base.has_data_volume else 0
    return replace(base, vendor=vendor.name, size=size, region=nearest(vendor.name, place, 1)[0].region,
                   data_volume_gb=volume)


def _vendor_column(vendor: catalog.Vendor, tier: str, place: Location, place_name: str,
                   base: HostSpec) -> dict[str, str]:
    """Row label -> this vendor's cell; a vendor without the tier leaves the plan's rows empty."""
    size = vendor.size_for(tier)
    moved = _on(base, vendor, tier, place) if size else None
    column = {"Plan": size.slug if size else "not offered"}
    if size:
        column |= {
            "vCPU": str(size.vcpus),
            "RAM": f"{size.ram_mb} MB" if size.ram_mb < 1024 else f"{size.ram_gb:g} GB",
            "Disk": f"{size.disk_gb} GB",
            "Transfer / month": f"{size.transfer_tb:g} TB",
            "Server / month": usd(size.monthly_usd),
            "Backups / month": usd(vendor.backup_usd(size)),
        }
    if moved and moved.has_data_volume:
        column["Data volume / month"] = f"{usd(monthly_cost(moved).data_volume_usd)} ({moved.data_volume_gb} GB)"
    column |= {
        "Backups pricing": vendor.backups,
        "Static IPv4": f"yes, {static_ip_text(vendor)}" if vendor.has_static_ipv4 else static_ip_text(vendor),
        "Data volume pricing": f"{usd(vendor.volume_usd_per_gb)} per GB-month, {vendor.volume_gb_range[0]} to "
                       f"{vendor.volume_gb_range[1]:,} GB",
        "DNS hosting": "yes" if vendor.has_dns else "no",
        "First-boot form": vendor.first_boot_form,
        "Changing size": changes.effect("size", vendor.name).text,
        f"Total / month (backups {'on' if base.backups else 'off'}"
        f"{', data volume' if base.has_data_volume else ''})": usd(monthly_cost(moved).total_usd) if moved else "",
    }
    for i, n in enumerate(nearest(vendor.name, place, len(ORDINALS))):
        column[f"Near {place_name}, {ORDINALS[i]}"] = f"{'/'.join(n.regions)} ({n.location.label}) {n.km:,} km"
    return column
