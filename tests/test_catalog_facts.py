"""Catalog facts config enforces: regions closed to new servers, Linode Metadata, no silent disk growth."""

from __future__ import annotations

import pytest

from components import catalog
from components.config import DEFAULT_REGIONS, ConfigError, parse_host_spec
from components.regions import REGION_LOCATIONS, find_place, nearest
from components.testing.mockrun import run_program
from components.vendors import linode as linode_facts
from tests.conftest import full_config, raw_config


def test_droplet_resize_keeps_the_disk_unless_asked() -> None:
    def droplet(**overrides: object) -> dict[str, object]:
        run = run_program(full_config(vendor="digitalocean", **overrides))
        return run.one("droplet:Droplet").inputs

    assert droplet()["resizeDisk"] is False  # the provider's own default is true: a permanent disk growth
    assert droplet(growDisk=True)["resizeDisk"] is True


@pytest.mark.parametrize("region", sorted(catalog.vendor("linode").closed_regions))
def test_linode_regions_without_metadata_are_refused(region: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(vendor="linode", region=region))
    (problem,) = err.value.problems
    assert problem.startswith(f"hardened-vps:region: {region!r} has no Linode Metadata service")
    assert "allowed: " + ", ".join(catalog.vendor("linode").open_regions) in problem


def test_gzip_base64_facts() -> None:
    linode = catalog.vendor("linode")
    assert set(linode.open_regions) == linode_facts.METADATA_REGIONS & set(linode.regions)
    assert all(linode_facts.image_has_metadata(slug) for slug in linode.images.values())
    assert not linode_facts.image_has_metadata("linode/kali")
    assert not linode_facts.image_has_metadata("linode/slackware15.0")


@pytest.mark.parametrize("region", ["nyc2", "sfo2"])
def test_digitalocean_regions_closed_to_new_droplets_are_refused_and_never_suggested(region: str) -> None:
    with pytest.raises(ConfigError, match=rf"hardened-vps:region: '{region}' is closed to new droplets"):
        parse_host_spec(raw_config(vendor="digitalocean", region=region))
    origin = REGION_LOCATIONS["digitalocean"][region]
    assert all(region not in near.regions for near in nearest("digitalocean", origin, 12))
    assert find_place(region)[1] == origin  # still a place to measure from


def test_defaults_are_open_regions() -> None:
    for name, region in DEFAULT_REGIONS.items():
        assert region in catalog.vendor(name).open_regions
