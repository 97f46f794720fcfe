"""Where each vendor region is: city, country and coordinates, for "regions near X" in the vendor comparison.

Data, like the catalog, in each vendor's folder: one entry per region slug (a test checks they agree).
Coordinates are the city's, rounded to 0.01 degree; distances are great-circle kilometres, good enough to
rank regions by closeness, not to predict latency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from components import catalog
from components.vendors import VENDORS
from components.vendors.model import Location

__all__ = ["REGION_LOCATIONS", "Location", "NearRegion", "distance_km", "find_place", "nearest"]


#: vendor -> region slug -> location, from each vendor's description.
REGION_LOCATIONS: Mapping[str, Mapping[str, Location]] = MappingProxyType(
    {v.name: v.locations for v in VENDORS})

_EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class NearRegion:
    """A place where a vendor has one or more regions, and its distance from a reference place."""

    vendor: str
    regions: tuple[str, ...]  # the vendor's region slugs in that city, in table order (nyc1, nyc2, nyc3)
    location: Location
    km: int

    @property
    def region(self) -> str:
        """The region to use there: the first listed."""
        return self.regions[0]


def distance_km(a: Location, b: Location) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def find_place(name: str) -> tuple[str, Location]:
    """A reference place: any vendor's region slug (fra1, eu-central, eu-central-1) or a city name.

    Returns (display name, location); ValueError lists what is accepted.
    """
    wanted = name.strip().lower()
    for regions in REGION_LOCATIONS.values():
        if wanted in regions:
            return wanted, regions[wanted]
    for regions in REGION_LOCATIONS.values():
        for location in regions.values():
            if location.city.lower() == wanted:
                return location.city, location
    slugs = sorted({slug for regions in REGION_LOCATIONS.values() for slug in regions})
    cities = sorted({loc.city for regions in REGION_LOCATIONS.values() for loc in regions.values()})
    raise ValueError(f"{name!r} is not a known region or city; regions: {', '.join(slugs)}; "
                     f"cities: {', '.join(cities)}")


def nearest(vendor: str, origin: Location, count: int = 3) -> list[NearRegion]:
    """The vendor's `count` places closest to `origin`, closest first; regions in one city count once.

    Only open regions are offered (`catalog.Vendor.open_regions`): a region closed to new servers, or one
    where first boot would be skipped, is never suggested. Ties are broken by region slug, so the output is
    stable.
    """
    open_regions = set(catalog.vendor(vendor).open_regions)
    by_place: dict[Location, list[str]] = {}
    for slug, loc in REGION_LOCATIONS[vendor].items():
        if slug in open_regions:
            by_place.setdefault(loc, []).append(slug)
    ranked = sorted((NearRegion(vendor, tuple(slugs), loc, round(distance_km(origin, loc)))
                     for loc, slugs in by_place.items()), key=lambda near: (near.km, near.region))
    return ranked[:count]
