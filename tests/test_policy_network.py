"""Firewall rules (policy/hardening_policies/network.py): only 22/80/443 open; SSH from anywhere a warning outside
production and refused in it, judged by the address space every rule opens together."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policy.hardening_policies.pack import (
    inbound_ports,
    production_safety,
    ssh_open_advisory,
    ssh_restricted_in_production,
)
from policy.offline import Registered, StackCase, analysing, check_resource
from tests.policy_support import (
    DEV_STACKS,
    DO_FIREWALL,
    HETZNER_FIREWALL,
    LIGHTSAIL_INSTANCE,
    LIGHTSAIL_PORTS,
    LINODE_FIREWALL,
    PROD,
    VULTR_RULE,
    names_resource_and_fix,
    ssh_rules_of,
)


# --- firewall-inbound-ports --------------------------------------------------------------------------------------
def _with_rule(case: StackCase) -> tuple[Registered, dict[str, Any]]:
    """The stack's firewall and its inputs with one extra rule opening TCP 8080 to everyone (where each rule is a
    resource of its own: its SSH rule turned into that rule)."""
    firewall = ssh_rules_of(case)
    props = copy.deepcopy(firewall.inputs)
    if firewall.type == DO_FIREWALL:
        props["inboundRules"].append({"protocol": "tcp", "portRange": "8080", "sourceAddresses": ["0.0.0.0/0"]})
    elif firewall.type == LINODE_FIREWALL:
        props["inbounds"].append({"label": "alt", "action": "ACCEPT", "protocol": "TCP", "ports": "8080",
                                  "ipv4s": ["0.0.0.0/0"]})
    elif firewall.type == VULTR_RULE:
        props.update(port="8080")
    elif firewall.type == HETZNER_FIREWALL:
        props["rules"].append({"direction": "in", "protocol": "tcp", "port": "8080", "sourceIps": ["0.0.0.0/0"]})
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
    firewall = ssh_rules_of(stacks[stack])
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
    firewall = ssh_rules_of(case)
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
