"""A stack's monthly cost, item by item, from the catalog's list prices."""

from __future__ import annotations

from components import catalog
from components.config import HostSpec
from components.cost import monthly_cost
from tools.plan.document import Table


def usd(amount: float) -> str:
    return f"${amount:,.2f}"



def cost_table(spec: HostSpec) -> Table:
    vendor, cost = spec.vendor_info, monthly_cost(spec)
    backups = f"on: {vendor.backups}" if spec.backups else "off"
    return Table(["Item", "USD / month"], [
        [f"Server ({spec.size.slug})", usd(cost.server_usd)],
        [f"Backups ({backups})", usd(cost.backups_usd)],
        [f"Static IPv4 ({static_ip_text(vendor)})", usd(cost.static_ip_usd)],
        *([[f"Data volume ({volume_text(spec)})", usd(cost.data_volume_usd)]] if spec.has_data_volume else []),
        ["Total", usd(cost.total_usd)],
    ], right=frozenset({1}))


def volume_text(spec: HostSpec) -> str:
    """The data volume's size and price basis, e.g. `10 GB at $0.10 per GB; kept when the server is replaced`."""
    kept = "kept when the server is replaced" + ("" if spec.keep_data_volume else "; deleted with the stack")
    return f"{spec.data_volume_gb} GB at {usd(spec.vendor_info.volume_usd_per_gb)} per GB; {kept}"


def static_ip_text(vendor: catalog.Vendor) -> str:
    if not vendor.has_static_ipv4:
        return "no separate static IP; the server's own IPv4 is used"
    return "free while attached" if vendor.static_ipv4_usd == 0 else f"{usd(vendor.static_ipv4_usd)} per month"
