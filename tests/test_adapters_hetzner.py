"""The Hetzner Cloud adapter: the server takes a primary IPv4 that outlives it and names its firewall (inline rules:
22 from the stack's CIDRs, 80/443), key resources named by the key, labels from tags, a volume attached by its own
attachment, DNS record sets and reverse DNS with a domain; and the catalog and config facts it relies on."""

from __future__ import annotations

import pytest

from components.catalog import vendor
from components.firstboot import render_first_boot
from tests.adapters_support import build
from tests.conftest import ED25519_KEY, RSA_4096_KEY
from tests.conftest import config_problems as problems

HETZNER = vendor("hetzner")


def test_server_on_a_primary_ip_that_outlives_it_behind_its_firewall() -> None:
    _, options, run = build("hetzner", backups=True, ipv6=False, sshAllowedCidrs=["203.0.113.7/32"])
    server = run.one("server:Server")
    address, firewall = run.one("primaryIp:PrimaryIp"), run.one("firewall:Firewall")
    assert server.inputs["firewallIds"] == [float(firewall.id)]
    (net,) = server.inputs["publicNets"]
    assert net == {"ipv4": float(address.id), "ipv4Enabled": True, "ipv6Enabled": False}
    assert address.inputs["autoDelete"] is False and address.inputs["type"] == "ipv4"
    assert "assigneeType" not in address.inputs  # only with assignee_id (the provider warns otherwise)
    assert options["web-ip"].delete_before_replace is True  # a new location: its name is unique in the project
    assert address.inputs["location"] == server.inputs["location"] == "fsn1"
    assert server.inputs["image"] == "debian-13" and server.inputs["serverType"] == "cx23"
    assert server.inputs["backups"] is True
    assert server.inputs["keepDisk"] is True  # a size change does not grow the disk for good unless growDisk
    opts = options["web-server"]
    # the primary IP has one holder and the name is unique in the project: the old server goes first
    assert opts.delete_before_replace is True
    assert set(opts.ignore_changes or []) == {"user_data", "ssh_keys"}


def test_firewall_admits_ssh_from_the_stack_and_the_web_from_anywhere() -> None:
    _, _, run = build("hetzner", sshAllowedCidrs=["203.0.113.7/32", "2001:db8::/48"])
    rules = run.one("firewall:Firewall").inputs["rules"]
    admitted = {(r["direction"], r["protocol"], r["port"]): set(r["sourceIps"]) for r in rules}
    assert admitted == {("in", "tcp", "22"): {"203.0.113.7/32", "2001:db8::/48"},
                        ("in", "tcp", "80"): {"0.0.0.0/0", "::/0"}, ("in", "tcp", "443"): {"0.0.0.0/0", "::/0"}}


def test_key_resources_are_named_by_the_key_so_removing_one_keeps_the_others() -> None:
    _, _, both = build("hetzner", sshPublicKeys=[RSA_4096_KEY, ED25519_KEY])
    _, options, one = build("hetzner", sshPublicKeys=[ED25519_KEY])
    names = {r.name for r in both.of_type("sshKey:SshKey")}
    (kept,) = [r.name for r in one.of_type("sshKey:SshKey")]
    assert len(names) == 2 and kept in names
    # the name pins the key: a new comment must not replace it (the upload would be refused as a duplicate)
    assert options[kept].ignore_changes == ["public_key"]


def test_tags_become_labels_and_a_tag_no_label_can_hold_is_refused() -> None:
    _, _, run = build("hetzner", tags=["shop", "team_a"])
    assert run.one("server:Server").inputs["labels"] == {"hardened-vps": "", "shop": "", "team_a": ""}
    (msg,) = problems(vendor="hetzner", region="fsn1", size="cx23", tags=["env:prod"])
    assert msg.startswith("hardened-vps:tags: 'env:prod' cannot be a Hetzner label key") and "allowed" in msg


def test_volume_attached_by_its_attachment_and_kept() -> None:
    host, options, run = build("hetzner", dataVolumeGb=40, hostName="shop-1")
    volume, attachment = run.one("volume:Volume"), run.one("volumeAttachment:VolumeAttachment")
    server = run.one("server:Server")
    assert (volume.inputs["name"], volume.inputs["size"], volume.inputs["location"]) == ("shop-1-data", 40, "fsn1")
    assert "format" not in volume.inputs and "automount" not in volume.inputs  # first boot formats a blank one
    assert attachment.inputs["serverId"] == float(server.id) and attachment.inputs["automount"] is False
    assert options["web-data"].protect is True and options["web-data"].retain_on_delete is True
    assert options["web-data"].delete_before_replace is True  # a new location: its name is unique in the project
    assert options["web-data-attachment"].delete_before_replace is True
    assert host.spec.data_volume_devices == ("/dev/disk/by-id/scsi-0HC_Volume_*",)


def test_dns_record_sets_and_reverse_dns_with_a_domain() -> None:
    _, _, run = build("hetzner", domain="shop.example.com", acmeEmail="ops@example.com")
    records = {r.inputs["type"]: r.inputs for r in run.of_type("zoneRrset:ZoneRrset")}
    assert records["A"]["zone"] == "example.com" and records["A"]["name"] == "shop"
    assert records["A"]["records"] == [{"value": "192.0.2.51"}] and records["AAAA"]["records"] == [
        {"value": "2001:db8::50"}]
    (rdns,) = [r.inputs for r in run.of_type("rdns:Rdns")]
    address = run.one("primaryIp:PrimaryIp")
    assert rdns == {"primaryIpId": float(address.id), "ipAddress": "192.0.2.51", "dnsPtr": "shop.example.com"}
    _, _, plain = build("hetzner")
    assert plain.of_type("rdns:Rdns") == [] and plain.of_type("zoneRrset:ZoneRrset") == []


def test_first_boot_is_sent_as_cloud_config_within_the_limit() -> None:
    host, _, _ = build("hetzner")
    rendered = render_first_boot(host.spec)
    assert HETZNER.sent_form == HETZNER.first_boot_form == "cloud-config"
    assert len(rendered.cloud_config.encode()) <= HETZNER.sent_form_limit == 32 * 1024


def test_catalog_offers_the_large_tier_and_refuses_the_smaller_ones_naming_the_plans() -> None:
    assert HETZNER.tiers == ("large",) and HETZNER.size_for("large").slug == "cx23"  # type: ignore[union-attr]
    (msg,) = problems(vendor="hetzner", region="fsn1", size="small")
    assert "tier 'small' is not offered by hetzner" in msg and "large" in msg and "cx23" in msg
    assert HETZNER.default_region in HETZNER.open_regions and set(HETZNER.locations) == set(HETZNER.regions)


@pytest.mark.parametrize("region", ["ash", "hil", "sin"])
def test_locations_without_the_cx_line_are_refused(region: str) -> None:
    (msg,) = problems(vendor="hetzner", region=region, size="cx23")
    assert msg.startswith(f"hardened-vps:region: {region!r} does not sell the CX plans") and "fsn1" in msg


def test_prices_are_euro_figures_at_the_stated_rate() -> None:
    from components.vendors.hetzner import EUR_PRICES, USD_PER_EUR

    cx23 = HETZNER.size_by_slug("cx23")
    assert cx23 is not None and cx23.monthly_usd == round(EUR_PRICES["cx23"] * USD_PER_EUR, 2)
    assert HETZNER.static_ipv4_usd == round(EUR_PRICES["primary-ipv4"] * USD_PER_EUR, 2)
