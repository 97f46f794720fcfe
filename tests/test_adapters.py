"""Each vendor adapter on its own: children exposed, outputs registered, replacement handled deliberately."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import parse_host_spec
from components.host import HostArgs, WebHost, server_lifecycle
from components.mockrun import run_program
from components.providers import host_class
from tests.conftest import raw_config

REGIONS = {"digitalocean": "nyc3", "linode": "us-east", "lightsail": "us-east-1"}
FIRST_BOOT_INPUTS = {"digitalocean": ["user_data", "ssh_keys"], "linode": ["metadatas", "authorized_keys"],
                     "lightsail": ["user_data", "key_pair_name"]}


def build(vendor: str, **overrides: object) -> tuple[WebHost, dict[str, pulumi.ResourceOptions], Any]:
    """Build one host component directly under mocks; returns it, its children's options, and the run."""
    spec = parse_host_spec(raw_config(vendor=vendor, region=REGIONS[vendor], **overrides), stack="unit")
    options: dict[str, pulumi.ResourceOptions] = {}
    built: list[WebHost] = []

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        if args.name != "web":  # the component's own transformation also sees the component
            options[args.name] = args.opts

    def program() -> None:
        built.append(host_class(vendor)("web", HostArgs(spec),
                                        opts=pulumi.ResourceOptions(transformations=[record])))

    run = run_program({}, stack="unit", program=program)
    return built[0], options, run


@pytest.mark.parametrize("vendor", ["digitalocean", "linode", "lightsail"])
def test_children_are_exposed_and_parented(vendor: str) -> None:
    host, options, run = build(vendor, domain="app.example.com", acmeEmail="ops@example.com")
    assert host.server is not None and host.firewall is not None
    assert len(host.dns_records) == 2
    children = [host.host_key, host.server, host.firewall, *host.ssh_keys, *host.dns_records]
    if vendor != "linode":
        assert host.static_ip is not None and host.ip_attachment is not None
        children += [host.static_ip, host.ip_attachment]
    else:
        assert host.static_ip is None  # a Linode's addresses are its own for life
    assert len(options) == len(children)
    assert all(opts.parent is host for opts in options.values())
    component = run.one(host.type_token.split(":")[-1])
    assert not component.custom


@pytest.mark.parametrize("vendor", ["digitalocean", "linode", "lightsail"])
def test_first_boot_change_never_replaces_the_server_by_default(vendor: str) -> None:
    _, options, _ = build(vendor)
    server_opts = options["web-server"]
    assert server_opts.ignore_changes == FIRST_BOOT_INPUTS[vendor]
    assert not server_opts.protect


@pytest.mark.parametrize("vendor", ["digitalocean", "linode", "lightsail"])
def test_reprovision_lets_a_first_boot_change_replace_the_server(vendor: str) -> None:
    _, options, _ = build(vendor, reprovision=True)
    server_opts = options["web-server"]
    assert server_opts.ignore_changes == []
    # Linode labels and Lightsail names are unique: the old server must go before the new one is made.
    assert server_opts.delete_before_replace is (vendor != "digitalocean")


def test_protect_guards_the_server_only() -> None:
    _, options, _ = build("digitalocean", protect=True)
    assert options["web-server"].protect is True
    assert not any(o.protect for name, o in options.items() if name != "web-server")


def test_server_lifecycle_is_pure() -> None:
    spec = parse_host_spec(raw_config())
    assert server_lifecycle(spec, ["user_data"], unique_name=False).ignore_changes == ("user_data",)


def test_outputs_registered(monkeypatch) -> None:
    registered: dict[str, Any] = {}
    original = WebHost.register_outputs

    def spy(self, outputs):
        registered.update(outputs)
        return original(self, outputs)

    monkeypatch.setattr(WebHost, "register_outputs", spy)
    host, _, _ = build("lightsail", backups=True)
    assert set(registered) == {"ipv4", "ipv6", "sshCommand", "url", "monthlyCostUsd", "firstBootDigest",
                               "sshHostKey"}
    assert registered["monthlyCostUsd"] == 7.0 + 2.0  # micro_3_0 + 40 GB of snapshots at $0.05
    assert registered["firstBootDigest"] == host.first_boot.digest


def test_digitalocean_specifics() -> None:
    _, _, run = build("digitalocean", monitoring=False, tags=["web"])
    droplet = run.one("droplet:Droplet").inputs
    assert droplet["monitoring"] is False and droplet["dropletAgent"] is False
    assert droplet["tags"] == ["hardened-vps", "web"]
    assert run.one("reservedIpAssignment:ReservedIpAssignment").inputs["ipAddress"] == "192.0.2.20"


def test_linode_specifics() -> None:
    _, _, run = build("linode", backups=True, domain="example.com", acmeEmail="ops@example.com")
    instance = run.one("instance:Instance").inputs
    assert instance["backupsEnabled"] is True and "firewallId" not in instance
    records = {r.inputs["recordType"]: r.inputs for r in run.of_type("domainRecord:DomainRecord")}
    assert records["A"]["domainId"] == 4242 and records["A"]["name"] == ""
    assert records["AAAA"]["target"] == "2001:db8::30"


def test_lightsail_specifics() -> None:
    _, _, run = build("lightsail", ipv6=False, domain="app.example.com", acmeEmail="ops@example.com")
    instance = run.one("lightsail/instance:Instance").inputs
    assert instance["ipAddressType"] == "ipv4" and instance["availabilityZone"] == "us-east-1a"
    assert instance["keyPairName"] == run.one("keyPair:KeyPair").inputs["name"]
    (record,) = run.of_type("domainEntry:DomainEntry")
    assert record.inputs["region"] == "us-east-1" and record.inputs["type"] == "A"


def test_adapter_refuses_another_vendors_spec() -> None:
    spec = parse_host_spec(raw_config(vendor="linode", region="us-east"))

    def program() -> None:
        host_class("digitalocean")("web", HostArgs(spec))

    with pytest.raises(ValueError, match="builds digitalocean hosts, not linode"):
        run_program({}, stack="unit", program=program)
