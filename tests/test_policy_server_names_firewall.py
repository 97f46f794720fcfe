"""Where the server names its firewalls (Hetzner's `firewallIds`): every firewall it names must be the stack's own,
inputs that let traffic past the firewall or boot something other than the first boot are refused, and the
firewall's rules are read failing closed (port "any", an `in` rule without sources)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from policy.hardening_policies.pack import first_boot_present, inbound_ports, ssh_restricted_in_production
from policy.offline import StackCase, analysing, check_resource, check_stack
from tests.policy_support import HETZNER_FIREWALL, HETZNER_SERVER, names_resource_and_fix

STACK = "hetzner-dev"


def _with_server(case: StackCase, **outputs: object) -> list:
    server = case.one(HETZNER_SERVER)
    return [replace(r, outputs={**r.outputs, **outputs}) if r is server else r for r in case.resources]


def test_the_shipped_stack_passes(stacks: dict[str, StackCase]) -> None:
    assert check_stack(stacks[STACK].resources) == []


def test_a_firewall_from_outside_the_stack_beside_the_own_is_refused(stacks: dict[str, StackCase]) -> None:
    """Hetzner applies every firewall a server names: one the stack does not hold adds rules no policy reads."""
    case = stacks[STACK]
    server, firewall = case.one(HETZNER_SERVER), case.one(HETZNER_FIREWALL)
    own = float(firewall.outputs["id"])
    ((message, urn),) = check_stack(_with_server(case, firewallIds=[own, 4711.0]))
    assert urn == server.urn and "4711" in message and "not in this stack" in message
    assert names_resource_and_fix(message, server)


def test_an_id_not_known_yet_is_the_stacks_own(stacks: dict[str, StackCase]) -> None:
    """A first preview: the stack's firewall has no id yet; the dependency still attaches it."""
    case = stacks[STACK]
    firewall = case.one(HETZNER_FIREWALL)
    previewed = [replace(r, outputs={k: v for k, v in r.outputs.items() if k != "id"}) if r is firewall else r
                 for r in _with_server(case, firewallIds=[UNKNOWN_NUMBER_VALUE])]
    assert check_stack(previewed) == []
    server = case.one(HETZNER_SERVER)
    beside = [replace(r, outputs={**r.outputs, "firewallIds": [UNKNOWN_NUMBER_VALUE, 4711.0]}) if r.urn == server.urn
              else r for r in previewed]
    ((message, _),) = check_stack(beside)
    assert "4711" in message


@pytest.mark.parametrize(("name", "value", "why"), [
    ("networks", [{"networkId": 7.0, "ip": "10.0.0.2"}], "private network"),
    ("ignoreRemoteFirewallIds", True, "no longer see firewalls"),
])
def test_inputs_that_let_traffic_past_the_firewall_are_refused(stacks: dict[str, StackCase], name: str,
                                                                 value: object, why: str) -> None:
    case = stacks[STACK]
    server = case.one(HETZNER_SERVER)
    ((message, urn),) = check_stack(_with_server(case, **{name: value}))
    assert urn == server.urn and f"`{name}`" in message and why in message and names_resource_and_fix(message, server)
    assert check_stack(_with_server(case, **{name: False if value is True else []})) == []


@pytest.mark.parametrize(("name", "value"), [("rescue", "linux64"), ("iso", "debian-13.iso")])
def test_a_server_that_boots_something_else_is_refused(stacks: dict[str, StackCase], name: str,
                                                        value: str) -> None:
    case = stacks[STACK]
    server = case.one(HETZNER_SERVER)
    with analysing(case):
        assert check_resource(first_boot_present, server) == []
        messages = check_resource(first_boot_present, server, {**server.inputs, name: value})
    assert len(messages) == 1 and f"`{name}`" in messages[0] and names_resource_and_fix(messages[0], server)


def test_port_any_is_every_port_and_ssh_open_to_the_world_is_seen(stacks: dict[str, StackCase]) -> None:
    case = stacks[STACK]
    firewall = case.one(HETZNER_FIREWALL)
    rules = [*firewall.inputs["rules"], {"direction": "in", "protocol": "tcp", "port": "any",
                                         "sourceIps": ["0.0.0.0/0"]}]
    props = {**firewall.inputs, "rules": rules}
    assert any("every TCP port" in m for m in check_resource(inbound_ports, firewall, props))
    production = {**case.config, "hardened-vps:production": "true"}
    with analysing(replace(case, config=production)):
        assert check_resource(ssh_restricted_in_production, firewall, props)  # port 22 is among "any"


def test_an_in_rule_without_sources_counts_as_the_whole_internet(stacks: dict[str, StackCase]) -> None:
    case = stacks[STACK]
    firewall = case.one(HETZNER_FIREWALL)
    rules = [{**r, "sourceIps": []} if r["port"] == "22" else r for r in firewall.inputs["rules"]]
    production = {**case.config, "hardened-vps:production": "true",
                  "hardened-vps:sshAllowedCidrs": '["203.0.113.0/24"]'}
    with analysing(replace(case, config=production)):
        narrowed = [{**r, "sourceIps": ["203.0.113.0/24"]} if r["port"] == "22" else r
                    for r in firewall.inputs["rules"]]
        assert check_resource(ssh_restricted_in_production, firewall, {**firewall.inputs, "rules": narrowed}) == []
        assert check_resource(ssh_restricted_in_production, firewall, {**firewall.inputs, "rules": rules})
