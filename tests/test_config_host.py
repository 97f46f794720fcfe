"""The host section: vendor, plan, region, image, host name, tags; each bad value names what is allowed."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config


@pytest.mark.parametrize(("vendor", "tier", "slug"), [
    ("digitalocean", "nano", "s-1vcpu-512mb-10gb"), ("linode", "small", "g6-nanode-1"),
    ("lightsail", "medium", "small_3_0"), ("linode", "large", "g6-standard-2"),
])
def test_tiers_map_to_vendor_plans(vendor: str, tier: str, slug: str) -> None:
    region = {"digitalocean": "nyc3", "linode": "us-iad", "lightsail": "us-east-1"}[vendor]
    spec = parse_host_spec(raw_config(vendor=vendor, size=tier, region=region))
    assert spec.size.slug == slug


def test_exact_vendor_slug_is_accepted() -> None:
    assert parse_host_spec(raw_config(size="s-2vcpu-2gb")).size.monthly_usd == 18.0


def test_unknown_vendor_names_allowed_values() -> None:
    (msg,) = problems(vendor="aws")
    assert msg.startswith("hardened-vps:vendor: 'aws'")
    assert "digitalocean, linode, lightsail" in msg


def test_missing_vendor() -> None:
    assert any("hardened-vps:vendor: missing" in p for p in problems(vendor=None))


def test_tier_the_vendor_lacks() -> None:
    (msg,) = problems(vendor="linode", region="us-iad", size="nano")
    assert "hardened-vps:size: tier 'nano' is not offered by linode" in msg
    assert "small, medium, large" in msg and "g6-nanode-1" in msg


def test_unknown_size_region_image() -> None:
    found = problems(size="s-99vcpu", region="mars-1", image="centos-7")
    assert any(p.startswith("hardened-vps:size: 's-99vcpu' is not a digitalocean plan") for p in found)
    assert any(p.startswith("hardened-vps:region: 'mars-1' is not a digitalocean region") and "fra1" in p
               for p in found)
    assert any(p.startswith("hardened-vps:image: 'centos-7' is not supported") and "debian-13" in p for p in found)


def test_host_name_defaults_to_project_and_stack_and_must_be_a_name() -> None:
    assert parse_host_spec(raw_config(), stack="Shop").host_name == "hardened-vps-shop"
    (msg,) = problems(hostName="Web_1")
    assert msg.startswith("hardened-vps:hostName: 'Web_1' is not a valid name; allowed: 2-63 lowercase")


def test_linode_labels_are_shorter_and_single_hyphenated() -> None:
    for name in ("ab", "web--1", "a" * 51):
        (msg,) = problems(vendor="linode", region="us-iad", hostName=name)
        assert msg.startswith(f"hardened-vps:hostName: {name!r} cannot be a linode label; allowed on linode: 3-50")
    assert parse_host_spec(raw_config(vendor="linode", region="us-iad", hostName="a" * 50)).host_name == "a" * 50


def test_tags_are_lowercase_words() -> None:
    (msg,) = problems(tags=["ok", "Bad Tag"])
    assert msg == "hardened-vps:tags: 'Bad Tag' is not a valid tag; allowed: lowercase letters, digits, - _ :, " \
                  "up to 64 characters"
    assert parse_host_spec(raw_config(tags=["env:prod", "team_a-1"])).tags == ("env:prod", "team_a-1")
