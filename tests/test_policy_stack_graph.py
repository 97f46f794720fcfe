"""Stack policies on the graph (policy/hardening_policies/stack_graph.py): every server has a cloud firewall
attached, found the way the engine links them, and only the resource types the product builds are registered."""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pytest
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from components.config import parse_host_spec
from components.testing.mockrun import run_program
from policy.hardening_policies.first_boot import check_first_boot, raw_first_boot
from policy.hardening_policies.pack import inbound_ports
from policy.hardening_policies.resources import SERVER_VENDORS
from policy.hardening_policies.secrets import find_secrets
from policy.hardening_policies.stack_graph import type_not_allowed
from policy.offline import Registered, StackCase, check_resource, check_stack
from tests.conftest import full_config
from tests.policy_support import (
    DEV_STACKS,
    DO_FIREWALL,
    DROPLET,
    FIREWALL_OF,
    LIGHTSAIL_INSTANCE,
    LIGHTSAIL_PORTS,
    LINODE_FIREWALL,
    LINODE_INSTANCE,
    PROD,
    SERVER_OF,
    names_resource_and_fix,
)


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


def test_firewall_computed_from_the_droplet_but_naming_another_is_refused(stacks: dict[str, StackCase]) -> None:
    """Where both are known the value decides: `droplet_ids=[droplet.id.apply(lambda _: 1)]` keeps the dependency
    but filters another droplet."""
    case = stacks["do-dev"]
    server, firewall = case.one(DROPLET), case.one(DO_FIREWALL)
    assert firewall.property_dependencies["dropletIds"]
    elsewhere = [replace(r, outputs={**r.outputs, "dropletIds": [1.0]}) if r is firewall else r for r in case.resources]
    ((message, urn),) = check_stack(elsewhere)
    assert urn == server.urn and "no cloud firewall attached" in message


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
    "hcloud:index/loadBalancer:LoadBalancer", "gcp:compute/instance:Instance", "pulumi-python:dynamic:Resource",
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


def test_other_command_types_are_refused(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    for type_ in ("command:remote:CopyFile", "command:local:Command"):
        extra = _foreign(case, type_)
        ((message, urn),) = check_stack([*case.resources, extra])
        assert urn == extra.urn and type_ in message
