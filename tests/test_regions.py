"""Regions and places (components/regions.py), which the comparison ranks by distance."""

from __future__ import annotations

import pytest

from components import catalog
from components.config import DEFAULT_REGIONS
from components.regions import REGION_LOCATIONS, distance_km, find_place, nearest
from tools import plan


def test_every_catalog_region_has_a_location_and_no_other():
    for name, vendor in catalog.CATALOG.items():
        assert set(REGION_LOCATIONS[name]) == set(vendor.regions), name
    assert set(REGION_LOCATIONS) == set(catalog.VENDORS)


def test_nearest_region_to_the_default_is_each_vendors_default():
    origin = find_place(plan.DEFAULT_NEAR)[1]
    for name in catalog.VENDORS:
        assert nearest(name, origin, 1)[0].region == DEFAULT_REGIONS[name]


def test_places_and_distances():
    assert find_place("FRA1")[0] == "fra1" and find_place("frankfurt")[0] == "Frankfurt"
    with pytest.raises(ValueError, match=r"not a known region or city; regions: .*fra1"):
        find_place("atlantis")
    london, frankfurt = find_place("lon1")[1], find_place("eu-central-1")[1]
    assert 600 < distance_km(london, frankfurt) < 680
    new_york = nearest("digitalocean", find_place("nyc3")[1], 1)[0]
    assert new_york.regions == ("nyc1", "nyc3") and new_york.km == 0  # one city, one entry; nyc2 is closed
