"""Every stack file, run through __main__.py under Pulumi mocks, asks for exactly the right resources."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.config import ConfigError, load_stack_file
from components.firstboot import MAX_FIRST_BOOT_BYTES, render_first_boot, wire
from components.testing.mockrun import StackRun, run_program, run_stack_file
from tests.conftest import ED25519_KEY, ROOT, full_config, random_rsa_key

SERVER_TYPES = {"digitalocean": "digitalocean:index/droplet:Droplet", "linode": "linode:index/instance:Instance",
                "lightsail": "aws:lightsail/instance:Instance", "vultr": "vultr:index/instance:Instance",
                "hetzner": "hcloud:index/server:Server"}
FIREWALL_TYPES = {"digitalocean": "digitalocean:index/firewall:Firewall", "linode": "linode:index/firewall:Firewall",
                  "lightsail": "aws:lightsail/instancePublicPorts:InstancePublicPorts",
                  "vultr": "vultr:index/firewallGroup:FirewallGroup", "hetzner": "hcloud:index/firewall:Firewall"}
VULTR_RULE = "vultr:index/firewallRule:FirewallRule"


def first_boot_of(run: StackRun, vendor: str) -> str:
    """The server's first-boot data; it must be a Pulumi secret (it carries the host's private key)."""
    server = run.one(SERVER_TYPES[vendor])
    if vendor == "linode":
        (meta,) = _secret(server.inputs["metadatas"])  # Pulumi marks the whole list secret
        return wire.cloud_config_of_gzip_base64(meta["userData"])
    return str(_secret(server.inputs["userData"]))


def _secret(wire: object) -> Any:
    assert isinstance(wire, dict) and wire.get(rpc._special_sig_key) == rpc._special_secret_sig, "not a secret"
    return wire["value"]


def opened_ports(run: StackRun, vendor: str) -> dict[int, set[str]]:
    """Port -> source CIDRs the vendor firewall admits."""
    fw = run.one(FIREWALL_TYPES[vendor])
    ports: dict[int, set[str]] = {}
    if vendor == "digitalocean":
        for rule in fw.inputs["inboundRules"]:
            assert rule["protocol"] == "tcp"
            ports.setdefault(int(rule["portRange"]), set()).update(rule["sourceAddresses"])
    elif vendor == "linode":
        assert fw.inputs["inboundPolicy"] == "DROP"
        for rule in fw.inputs["inbounds"]:
            assert rule["action"] == "ACCEPT" and rule["protocol"] == "TCP"
            for port in rule["ports"].split(","):
                ports.setdefault(int(port), set()).update(rule.get("ipv4s") or [], rule.get("ipv6s") or [])
    elif vendor == "vultr":  # one resource per rule, each naming the group
        for rule in run.of_type(VULTR_RULE):
            assert rule.inputs["protocol"] == "tcp" and rule.inputs["firewallGroupId"] == fw.id
            cidr = f"{rule.inputs['subnet']}/{int(rule.inputs['subnetSize'])}"
            ports.setdefault(int(rule.inputs["port"]), set()).add(str(ipaddress.ip_network(cidr)))
    elif vendor == "hetzner":  # inline rules; a firewall drops what no `in` rule accepts
        for rule in fw.inputs["rules"]:
            assert rule["direction"] == "in" and rule["protocol"] == "tcp"
            ports.setdefault(int(rule["port"]), set()).update(rule["sourceIps"])
    else:
        for info in fw.inputs["portInfos"]:
            assert info["protocol"] == "tcp" and info["fromPort"] == info["toPort"]
            ports.setdefault(int(info["fromPort"]), set()).update(info.get("cidrs") or [], info.get("ipv6Cidrs") or [])
    return ports


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    from tests.conftest import ALL_STACK_FILES

    return {p.name: run_stack_file(p) for p in ALL_STACK_FILES}


def test_exactly_one_server_with_first_boot_data_under_the_limit(stack_file, runs) -> None:
    spec = load_stack_file(stack_file)
    run = runs[stack_file.name]
    servers = [r for r in run.resources if r.type in SERVER_TYPES.values()]
    assert len(servers) == 1 and servers[0].type == SERVER_TYPES[spec.vendor]
    data = first_boot_of(run, spec.vendor)
    expected = render_first_boot(spec)
    assert data == (expected.launch_script if spec.vendor == "lightsail" else expected.cloud_config)
    assert wire.form_of(data) == ("launch-script" if spec.vendor == "lightsail" else "cloud-config")
    assert all(n <= MAX_FIRST_BOOT_BYTES for n in expected.sizes.values())


def test_cloud_firewall_is_attached_and_opens_only_22_80_443(stack_file, runs) -> None:
    spec = load_stack_file(stack_file)
    run = runs[stack_file.name]
    server = run.one(SERVER_TYPES[spec.vendor])
    fw = run.one(FIREWALL_TYPES[spec.vendor])
    if spec.vendor == "vultr":  # the instance names its firewall group
        assert server.inputs["firewallGroupId"] == fw.id
    elif spec.vendor == "hetzner":  # the server names its firewalls
        assert server.inputs["firewallIds"] == [float(fw.id)]
    else:
        attached = {"digitalocean": lambda: fw.inputs["dropletIds"], "linode": lambda: fw.inputs["linodes"],
                    "lightsail": lambda: [fw.inputs["instanceName"]]}[spec.vendor]()
        expected_ref = server.inputs["name"] if spec.vendor == "lightsail" else float(server.id)
        assert attached == [expected_ref]
    ports = opened_ports(run, spec.vendor)
    assert set(ports) == {22, 80, 443}
    assert ports[22] == set(spec.ssh_allowed_cidrs)
    assert ports[80] >= {"0.0.0.0/0"} and ports[443] >= {"0.0.0.0/0"}


def test_resource_names_are_unique(stack_file, runs) -> None:
    keys = [r.urn_key for r in runs[stack_file.name].resources]
    assert len(keys) == len(set(keys))


def test_outputs_are_plain_and_hold_no_secret(stack_file, runs) -> None:
    run = runs[stack_file.name]
    assert {"ipv4", "ipv6", "sshCommand", "url", "monthlyCostUsd", "firstBootDigest"} <= set(run.outputs)
    assert run.outputs["sshCommand"] == f"ssh {load_stack_file(stack_file).admin_user}@{run.outputs['ipv4']}"
    assert run.outputs["monthlyCostUsd"] > 0
    text = json.dumps(run.outputs)
    for secretish in ("PRIVATE KEY", "token", "password", "[secret]"):
        assert secretish not in text


def test_production_stack_is_protected_with_backups_and_dns(runs) -> None:
    run = runs["Pulumi.prod.yaml"]
    droplet = run.one("droplet:Droplet")
    assert droplet.inputs["backups"] is True and droplet.inputs["backupPolicy"]["plan"] == "weekly"
    assert {r.inputs["type"] for r in run.of_type("dnsRecord:DnsRecord")} == {"A", "AAAA"}
    assert run.outputs["url"] == "https://shop.example.com/"


def test_provider_token_given_as_secret_never_reaches_an_output() -> None:
    config = full_config() | {"digitalocean:token": "dop_v1_supersecret"}
    run = run_program(config, stack="tok", secret_keys=["digitalocean:token"])
    assert "dop_v1_supersecret" not in json.dumps(run.outputs)
    assert all("dop_v1_supersecret" not in json.dumps(r.inputs) for r in run.resources)


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"vendor": "ovhcloud"}, "hardened-vps:vendor: 'ovhcloud' is not supported"),
    ({"size": "huge"}, "hardened-vps:size: 'huge' is not a digitalocean plan"),
    ({"sshPublicKeys": None}, "hardened-vps:sshPublicKeys: missing"),
    ({"sshAllowedCidrs": ["1.2.3.4/99"]}, "hardened-vps:sshAllowedCidrs: '1.2.3.4/99' is not a CIDR"),
    ({"domain": "bad_domain", "acmeEmail": "a@example.com"}, "hardened-vps:domain: 'bad_domain'"),
    ({"vendor": "linode", "region": "fr-par", "sshPublicKeys": [random_rsa_key(i) for i in range(20)]},
     "first-boot data is over linode's 16384-byte limit"),
])
def test_bad_config_fails_before_any_resource(overrides, needle) -> None:
    from components.testing.mockrun import RecordingMocks

    seen: list[RecordingMocks] = []
    original = pulumi.runtime.set_mocks

    def spy(mocks, *args, **kwargs):
        seen.append(mocks)
        return original(mocks, *args, **kwargs)

    pulumi.runtime.set_mocks = spy
    try:
        with pytest.raises(pulumi.RunError) as err:
            run_program(full_config(**overrides), stack="bad")
    finally:
        pulumi.runtime.set_mocks = original
    assert needle in str(err.value)
    assert seen and seen[0].resources == []  # nothing registered, not even the stack's component


@pytest.mark.parametrize("key", ["appSecrets", "deployPrivateKey"])
def test_a_secret_key_in_plain_text_in_a_stack_file_is_a_config_error(tmp_path, key) -> None:
    """The plan and the tests read stack files directly: they refuse a plain secret as the program does."""
    text = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text()
    path = tmp_path / "Pulumi.shop.yaml"
    path.write_text(text + f"  hardened-vps:{key}: TOKEN=plain-value-123\n")
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    assert err.value.problems == [f"hardened-vps:{key}: stored in plain text, but it is a secret; encrypt it with: "
                                  f"pulumi config set --secret hardened-vps:{key} <value> (or remove it from the "
                                  "stack file)"]
    assert "plain-value-123" not in str(err.value)
    for accepted in ('{secure: "v1:abc"}', '""'):
        path.write_text(text + f"  hardened-vps:{key}: {accepted}\n")
        assert load_stack_file(path).app is not None


#: Modules whose checks depend on which stack files exist (golden plans, stacks known by name, every stack), and
#: in them the checks to run (the whole modules would double the suite's time): those parametrized with the new
#: file, the golden check, and a policy check (its fixture runs every stack and knows the examples by name).
STACK_DEPENDENT_MODULES = ("tests/test_config_stack_file.py", "tests/test_plan_goldens.py", "tests/test_policy_pack.py",
                           "tests/engine/test_cli_config.py")
STACK_DEPENDENT_CHECKS = "(mine and not test_plan or golden_files_are_up_to_date " \
                         "or every_stack_passes_every_mandatory_policy) and not user_added_stack"


def test_a_user_added_stack_file_does_not_break_the_suite(tmp_path) -> None:
    """README, "Add a stack": copy an example to stacks/Pulumi.<name>.yaml. The suite must then test it, too,
    and still pass: run the stack-dependent modules on a copy of the project that holds such a file."""
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "__pycache__", "*.pyc", ".*_cache", "build", ".e2e", "*.qcow2", "*.raw", "*.iso"))
    example = (ROOT / "stacks" / "Pulumi.do-dev.yaml").read_text()
    mine = example.replace("region: fra1", "region: ams3").replace(
        example.split("sshPublicKeys:\n")[1].splitlines()[0], f"    - {ED25519_KEY}")
    assert mine != example
    (project / "stacks" / "Pulumi.mine.yaml").write_text(mine)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-k", STACK_DEPENDENT_CHECKS,
         *STACK_DEPENDENT_MODULES], cwd=project, capture_output=True, text=True, timeout=300, check=False)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    assert "PASSED tests/test_config_stack_file.py::test_every_stack_file_validates[Pulumi.mine.yaml]" in report
    assert "PASSED tests/engine/test_cli_config.py::test_stack_file_passes_the_cli_config_check" \
           "[Pulumi.mine.yaml]" in report
