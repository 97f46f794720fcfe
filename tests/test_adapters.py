"""Each vendor adapter on its own: children exposed, outputs registered, replacement handled deliberately.

Linode's labels, valid for every host name config accepts: tests/test_adapters_linode_labels.py."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pulumi
import pytest

from components.config import ConfigError, parse_host_spec
from components.cost import monthly_cost
from components.host import WebHost, WebHostArgs, server_lifecycle
from components.testing.mockrun import run_program
from components.vendors import host_class
from tests.adapters_support import build
from tests.conftest import ED25519_KEY, RSA_4096_KEY, raw_config, ssh_blob

FIRST_BOOT_INPUTS = {"digitalocean": ["user_data", "ssh_keys"], "linode": ["metadatas", "authorized_keys"],
                     "lightsail": ["user_data", "key_pair_name"]}


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
                               "sshHostKey", "serverIdentity", "dataVolumeId"}
    assert registered["monthlyCostUsd"] is host.monthly_cost_usd
    assert registered["dataVolumeId"] is host.data_volume_id
    assert monthly_cost(host.spec).total_usd == 7.0 + 2.0  # micro_3_0 + 40 GB of snapshots at $0.05
    assert registered["firstBootDigest"] is host.first_boot_digest


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
    spec = parse_host_spec(raw_config(vendor="linode", region="us-iad"))

    def program() -> None:
        host_class("digitalocean")("web", WebHostArgs(spec))

    with pytest.raises(ValueError, match="builds digitalocean hosts, not linode"):
        run_program({}, stack="unit", program=program)


# --- DigitalOcean SSH keys: one resource per key, named by the key, never by its list position -------------

OTHER_ED25519_KEY = "ssh-ed25519 " + ssh_blob(b"ssh-ed25519", bytes(range(100, 132))) + " laptop@example"


def do_keys(key_lines: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, pulumi.ResourceOptions]]:
    """{resource name: inputs} of the DigitalOcean SshKey resources, and every child's options."""
    _, options, run = build("digitalocean", sshPublicKeys=key_lines)
    return {r.name: r.inputs for r in run.of_type("sshKey:SshKey")}, options


def test_digitalocean_removing_the_first_key_leaves_the_other_untouched() -> None:
    both, _ = do_keys([ED25519_KEY, OTHER_ED25519_KEY])
    second_only, _ = do_keys([OTHER_ED25519_KEY])
    assert len(both) == 2 and len(second_only) == 1
    ((name, inputs),) = second_only.items()
    assert both.get(name) == inputs  # same resource name and inputs: no replacement, no duplicate upload


def test_digitalocean_reordering_keys_changes_nothing() -> None:
    forward, _ = do_keys([ED25519_KEY, OTHER_ED25519_KEY])
    backward, _ = do_keys([OTHER_ED25519_KEY, ED25519_KEY])
    assert forward == backward


def test_digitalocean_vendor_key_names_never_collide() -> None:
    keys, _ = do_keys([ED25519_KEY, OTHER_ED25519_KEY, RSA_4096_KEY])
    names = [inputs["name"] for inputs in keys.values()]
    assert len(set(names)) == 3


def test_digitalocean_key_keeps_the_positional_name_it_was_deployed_under() -> None:
    """Stacks deployed when keys were named `<host>-key-<i>` keep their keys: key i aliases that name only."""
    keys, options = do_keys([ED25519_KEY, OTHER_ED25519_KEY])
    for i, line in enumerate([ED25519_KEY, OTHER_ED25519_KEY]):
        (name,) = [n for n, inputs in keys.items() if inputs["publicKey"] == line]
        aliases = options[name].aliases or []
        assert [a.name for a in aliases if isinstance(a, pulumi.Alias)] == [f"web-key-{i}"]


def test_digitalocean_key_comment_edit_does_not_replace_the_key() -> None:
    """public_key is ForceNew, and a replacement would upload the same key twice (refused by the account)."""
    _, options = do_keys([ED25519_KEY])
    (key_options,) = [o for n, o in options.items() if "-key-" in n]
    assert key_options.ignore_changes == ["public_key"]


def test_digitalocean_key_fingerprint_is_the_one_the_account_shows() -> None:
    """DigitalOcean lists keys by their MD5 fingerprint, as `ssh-keygen -E md5` prints it."""
    from components.config import parse_ssh_key
    from components.vendors.digitalocean.adapter import md5_fingerprint

    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    for line in (ED25519_KEY, OTHER_ED25519_KEY, RSA_4096_KEY):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", "-"], input=line, capture_output=True,
                             text=True, check=True).stdout
        assert out.split()[1] == "MD5:" + md5_fingerprint(parse_ssh_key(line))


def test_the_same_key_listed_twice_is_a_config_error() -> None:
    """Keys are named by the key: one key twice would be two resources with one name (and refused by the account)."""
    from components.config import ConfigError

    recommented = ED25519_KEY.rsplit(" ", 1)[0] + " other-comment"
    with pytest.raises(ConfigError, match=r"sshPublicKeys: entry 1 is the same key as entry 0"):
        parse_host_spec(raw_config(sshPublicKeys=[ED25519_KEY, recommented]))


def test_lightsail_defaults_to_a_confirmed_blueprint() -> None:
    _, _, run = build("lightsail")
    assert run.one("lightsail/instance:Instance").inputs["blueprintId"] == "debian_12"


def test_lightsail_refuses_the_unconfirmed_debian_13_blueprint_with_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_host_spec(raw_config(vendor="lightsail", region="us-east-1", image="debian-13"))
    (problem,) = caught.value.problems
    assert problem.startswith("hardened-vps:image: 'debian-13' is not offered by lightsail (")
    assert "not confirmed" in problem and problem.endswith("allowed: debian-12, ubuntu-24.04")
