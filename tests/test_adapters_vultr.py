"""The Vultr adapter: the instance takes the reserved IP as its main address and sits behind its firewall group, one
rule resource per admitted source named by what it admits, the console URL kept secret, block storage attached by
the volume itself; and the first-boot form, size limit and catalog facts it relies on."""

from __future__ import annotations

from components.catalog import vendor
from components.firstboot import render_first_boot
from components.vendors.vultr.adapter import rule_name
from tests.adapters_support import build

VULTR = vendor("vultr")


def test_instance_on_the_reserved_ip_behind_its_group() -> None:
    _, options, run = build("vultr", backups=True, ipv6=False, sshAllowedCidrs=["203.0.113.7/32"])
    instance = run.one("instance:Instance")
    address, group = run.one("reservedIp:ReservedIp"), run.one("firewallGroup:FirewallGroup")
    assert instance.inputs["reservedIpId"] == address.id and instance.inputs["firewallGroupId"] == group.id
    assert address.inputs["region"] == instance.inputs["region"] == "ewr" and address.inputs["ipType"] == "v4"
    assert instance.inputs["osId"] == int(VULTR.images["debian-13"]) and instance.inputs["enableIpv6"] is False
    assert instance.inputs["backups"] == "enabled" and instance.inputs["backupsSchedule"]["type"] == "daily"
    assert instance.inputs["activationEmail"] is False and instance.inputs["ddosProtection"] is False
    server = options["web-server"]
    # the reserved IP has one holder: the old instance goes before the new one takes it
    assert server.delete_before_replace is True
    assert "kvm" in (server.additional_secret_outputs or [])  # the console URL opens the console
    assert set(server.ignore_changes or []) == {"user_data", "ssh_key_ids"}


def test_one_rule_per_source_named_by_what_it_admits() -> None:
    _, _, run = build("vultr", sshAllowedCidrs=["203.0.113.7/32", "2001:db8::/48"])
    rules = {r.name: r.inputs for r in run.of_type("firewallRule:FirewallRule")}
    assert set(rules) == {"web-fw-22-v4-203-0-113-7-32", f"web-fw-22-v6-{0x20010db8 << 96:x}-48",
                          "web-fw-80-v4-0-0-0-0-0", "web-fw-80-v6-0-0", "web-fw-443-v4-0-0-0-0-0", "web-fw-443-v6-0-0"}
    ssh = rules["web-fw-22-v4-203-0-113-7-32"]
    assert (ssh["protocol"], ssh["ipType"], ssh["subnet"], ssh["subnetSize"], ssh["port"]) == (
        "tcp", "v4", "203.0.113.7", 32, "22")
    assert {r["firewallGroupId"] for r in rules.values()} == {run.one("firewallGroup:FirewallGroup").id}


def test_rule_names_never_collide_and_do_not_move() -> None:
    """Every rule input is ForceNew: a name from list position would replace the rules after a removed one.
    Compressed IPv6 forms of different networks must not collide (1::2 and 1:2:: both read "1-2")."""
    names = {rule_name("web", 22, cidr) for cidr in ("1::2/128", "1:2::/128", "1.2.0.0/16", "1.2.0.0/24")}
    assert len(names) == 4
    assert rule_name("web", 22, "203.0.113.7/32") == rule_name("web", 22, "203.0.113.7")
    _, _, one = build("vultr", sshAllowedCidrs=["198.51.100.0/24", "203.0.113.7/32"])
    _, _, other = build("vultr", sshAllowedCidrs=["203.0.113.7/32"])
    def rules(run: object) -> dict[str, dict[str, object]]:
        return {r.name: {k: v for k, v in r.inputs.items() if k != "firewallGroupId"}
                for r in run.of_type("firewallRule:FirewallRule")}  # type: ignore[attr-defined]

    before, after = rules(one), rules(other)
    assert set(after) < set(before) and all(before[name] == inputs for name, inputs in after.items())


def test_block_storage_attaches_itself_live_and_is_kept() -> None:
    host, options, run = build("vultr", dataVolumeGb=40, hostName="shop-1")
    volume = run.one("blockStorage:BlockStorage")
    instance = run.one("instance:Instance")
    assert volume.inputs["attachedToInstance"] == instance.id and volume.inputs["live"] is True
    assert (volume.inputs["label"], volume.inputs["sizeGb"], volume.inputs["region"]) == ("shop-1-data", 40, "ewr")
    assert options["web-data"].protect is True and options["web-data"].retain_on_delete is True
    # The device is named by an id Vultr assigns: first boot takes the one disk under the prefix.
    assert host.spec.data_volume_devices == ("/dev/disk/by-id/virtio-*",)


def test_dns_records_where_vultr_hosts_the_zone() -> None:
    _, _, run = build("vultr", domain="shop.example.com", acmeEmail="ops@example.com")
    records = {r.inputs["type"]: r.inputs for r in run.of_type("dnsRecord:DnsRecord")}
    assert records["A"]["data"] == "192.0.2.41" and records["A"]["domain"] == "example.com"
    assert records["A"]["name"] == "shop" and records["AAAA"]["data"] == "2001:db8::40"


def test_first_boot_is_sent_as_cloud_config_within_the_limit() -> None:
    host, _, _ = build("vultr")
    rendered = render_first_boot(host.spec)
    assert VULTR.sent_form == VULTR.first_boot_form == "cloud-config"
    assert len(rendered.cloud_config.encode()) <= VULTR.sent_form_limit
    assert rendered.cloud_config.startswith("#cloud-config")


def test_catalog_maps_every_tier_to_a_shared_cpu_plan() -> None:
    assert VULTR.tiers == ("nano", "small", "medium", "large")
    slugs = [size.slug for size in (VULTR.size_for(t) for t in VULTR.tiers) if size]
    assert slugs == ["vc2-1c-0.5gb", "vc2-1c-1gb", "vc2-1c-2gb", "vc2-2c-4gb"]
    assert VULTR.default_region in VULTR.regions and set(VULTR.locations) == set(VULTR.regions)
