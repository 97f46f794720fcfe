"""Monthly cost estimate of a host (list prices from the catalog; taxes and region surcharges excluded)."""

from __future__ import annotations

from dataclasses import dataclass

from components.config import HostSpec


@dataclass(frozen=True)
class MonthlyCost:
    server_usd: float
    backups_usd: float
    static_ip_usd: float
    data_volume_usd: float = 0.0  # the block-storage volume, billed per GB-month whether attached or not

    @property
    def total_usd(self) -> float:
        return round(self.server_usd + self.backups_usd + self.static_ip_usd + self.data_volume_usd, 2)


def monthly_cost(spec: HostSpec) -> MonthlyCost:
    vendor = spec.vendor_info
    return MonthlyCost(
        server_usd=spec.size.monthly_usd,
        backups_usd=vendor.backup_usd(spec.size) if spec.backups else 0.0,
        static_ip_usd=vendor.static_ipv4_usd if vendor.has_static_ipv4 else 0.0,
        data_volume_usd=round(spec.data_volume_gb * vendor.volume_usd_per_gb, 2),
    )
