"""Vendor catalog: sizes, regions and images of every vendor in the registry (`components.vendors`).

The facts are data in each vendor's folder, so a price change is a one-line edit there and the plan/cost outputs
follow it; this module is the lookup the rest of the project uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.vendors import BY_NAME
from components.vendors import VENDORS as _REGISTERED
from components.vendors.model import DEFAULT_IMAGE, IMAGES, TIERS, Size, Vendor

__all__ = ["CATALOG", "DEFAULT_IMAGE", "IMAGES", "TIERS", "VENDORS", "Size", "Vendor", "vendor"]

VENDORS: tuple[str, ...] = tuple(v.name for v in _REGISTERED)

CATALOG: Mapping[str, Vendor] = BY_NAME


def vendor(name: str) -> Vendor:
    """The catalog entry for a validated vendor name."""
    return CATALOG[name]
