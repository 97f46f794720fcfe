"""Where each vendor region is: city, country and coordinates, for "regions near X" in the vendor comparison.

Data, like the catalog: one entry per region slug in `components.catalog` (a test checks they agree).
Coordinates are the city's, rounded to 0.01 degree; distances are great-circle kilometres, good enough to
rank regions by closeness, not to predict latency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from components import catalog


@dataclass(frozen=True)
class Location:
    city: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return f"{self.city}, {self.country}"


_NEW_YORK = Location("New York", "US", 40.71, -74.01)
_SAN_FRANCISCO = Location("San Francisco", "US", 37.77, -122.42)
_TORONTO = Location("Toronto", "CA", 43.65, -79.38)
_LONDON = Location("London", "GB", 51.51, -0.13)
_FRANKFURT = Location("Frankfurt", "DE", 50.11, 8.68)
_PARIS = Location("Paris", "FR", 48.86, 2.35)
_SINGAPORE = Location("Singapore", "SG", 1.35, 103.82)
_SYDNEY = Location("Sydney", "AU", -33.87, 151.21)
_TOKYO = Location("Tokyo", "JP", 35.68, 139.69)
_MUMBAI = Location("Mumbai", "IN", 19.08, 72.88)

#: vendor -> region slug -> location.
REGION_LOCATIONS: Mapping[str, Mapping[str, Location]] = MappingProxyType({
    "digitalocean": MappingProxyType({
        "nyc1": _NEW_YORK,
        "nyc2": _NEW_YORK,
        "nyc3": _NEW_YORK,
        "sfo2": _SAN_FRANCISCO,
        "sfo3": _SAN_FRANCISCO,
        "ams3": Location("Amsterdam", "NL", 52.37, 4.90),
        "fra1": _FRANKFURT,
        "lon1": _LONDON,
        "sgp1": _SINGAPORE,
        "tor1": _TORONTO,
        "blr1": Location("Bengaluru", "IN", 12.97, 77.59),
        "syd1": _SYDNEY,
    }),
    "linode": MappingProxyType({
        "us-east": Location("Newark", "US", 40.74, -74.17),
        "us-central": Location("Dallas", "US", 32.78, -96.80),
        "us-west": Location("Fremont", "US", 37.55, -121.99),
        "us-southeast": Location("Atlanta", "US", 33.75, -84.39),
        "us-ord": Location("Chicago", "US", 41.88, -87.63),
        "us-iad": Location("Washington DC", "US", 38.90, -77.04),
        "us-sea": Location("Seattle", "US", 47.61, -122.33),
        "us-mia": Location("Miami", "US", 25.76, -80.19),
        "ca-central": _TORONTO,
        "eu-west": _LONDON,
        "eu-central": _FRANKFURT,
        "fr-par": _PARIS,
        "ap-south": _SINGAPORE,
        "ap-northeast": _TOKYO,
        "ap-west": _MUMBAI,
        "ap-southeast": _SYDNEY,
        "id-cgk": Location("Jakarta", "ID", -6.21, 106.85),
        "br-gru": Location("Sao Paulo", "BR", -23.55, -46.63),
    }),
    "lightsail": MappingProxyType({
        "us-east-1": Location("N. Virginia", "US", 39.04, -77.49),
        "us-east-2": Location("Ohio", "US", 39.96, -83.00),
        "us-west-2": Location("Oregon", "US", 45.84, -119.70),
        "ca-central-1": Location("Montreal", "CA", 45.50, -73.57),
        "eu-west-1": Location("Dublin", "IE", 53.35, -6.26),
        "eu-west-2": _LONDON,
        "eu-west-3": _PARIS,
        "eu-central-1": _FRANKFURT,
        "eu-north-1": Location("Stockholm", "SE", 59.33, 18.07),
        "ap-south-1": _MUMBAI,
        "ap-northeast-1": _TOKYO,
        "ap-northeast-2": Location("Seoul", "KR", 37.57, 126.98),
        "ap-southeast-1": _SINGAPORE,
        "ap-southeast-2": _SYDNEY,
    }),
})

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
