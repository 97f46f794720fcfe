"""A firewall whose rules are resources of their own (Vultr: a firewall group and one FirewallRule per rule): the
stack policies add a group's SSH rules up, so a wide range split over rules that are each narrow enough is still
caught; and the server names its firewall, so the attachment check follows the server's reference."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policy.hardening_policies.pack import (
    inbound_ports,
    ssh_open_advisory,
    ssh_restricted_in_production,
    ssh_split_open_advisory,
    ssh_split_restricted_in_production,
)
from policy.offline import Registered, StackCase, check_resource, check_stack
from tests.policy_support import VULTR_FIREWALL, VULTR_INSTANCE, VULTR_RULE, names_resource_and_fix

#: Three /9s: each admits half a /8 (within the limit alone), together one and a half (over it).
SPLIT = ("11.0.0.0", "11.128.0.0", "12.0.0.0")
SPLIT_POLICIES = [ssh_split_open_advisory, ssh_split_restricted_in_production]


def _split_ssh(case: StackCase, subnets: tuple[str, ...] = SPLIT, size: int = 9) -> list[Registered]:
    """The stack with its SSH rules replaced by one rule per subnet, each in the same group."""
    ssh = [r for r in case.resources if r.type == VULTR_RULE and r.inputs["port"] == "22"]
    template = ssh[0]
    rest = [r for r in case.resources if r not in ssh]
    rules = [replace(template, urn=f"{template.urn}-{i}", name=f"{template.name}-{i}",
                     inputs={**template.inputs, "ipType": "v4", "subnet": subnet, "subnetSize": size},
                     outputs={**template.outputs, "ipType": "v4", "subnet": subnet, "subnetSize": size})
             for i, subnet in enumerate(subnets)]
    return rest + rules


def test_rules_each_narrow_but_wide_together_warn_outside_production(stacks: dict[str, StackCase]) -> None:
    case = stacks["vultr-dev"]
    resources = _split_ssh(case)
    for rule in (r for r in resources if r.type == VULTR_RULE and r.inputs["port"] == "22"):
        assert check_resource(ssh_open_advisory, rule) == []  # no rule is too wide alone
    ((message, urn),) = check_stack(resources, policies=SPLIT_POLICIES)
    group = case.one(VULTR_FIREWALL)
    assert urn == group.urn and names_resource_and_fix(message, group)
    assert "too much of the internet" in message and "production" not in message


def test_rules_wide_together_are_refused_in_production(stacks: dict[str, StackCase]) -> None:
    case = stacks["vultr-dev"]
    resources = _split_ssh(case)
    ((message, _),) = check_stack(resources, config={"production": True}, policies=[ssh_split_restricted_in_production])
    assert "in a production stack" in message
    assert check_stack(resources, config={"production": True}, policies=[ssh_split_open_advisory]) == []


@pytest.mark.parametrize(("subnets", "size"), [(SPLIT[:2], 9), (("203.0.113.7",), 32), (("10.0.0.0",) * 3, 8)])
def test_rules_narrow_together_pass(stacks: dict[str, StackCase], subnets: tuple[str, ...], size: int) -> None:
    """Two /9s are exactly a /8 (the limit); private space admits nobody from the internet, however often."""
    assert check_stack(_split_ssh(stacks["vultr-dev"], subnets, size), policies=SPLIT_POLICIES) == []


def test_a_rule_wide_alone_is_reported_once_on_itself(stacks: dict[str, StackCase]) -> None:
    """The shipped dev stack (SSH from anywhere): each rule warns on itself; the group adds no second warning."""
    case = stacks["vultr-dev"]
    ssh = [r for r in case.resources if r.type == VULTR_RULE and r.inputs["port"] == "22"]
    assert sorted(r.inputs["ipType"] for r in ssh) == ["v4", "v6"]
    for rule in ssh:
        (warning,) = check_resource(ssh_open_advisory, rule)
        assert "the whole internet" in warning and names_resource_and_fix(warning, rule)
    assert check_stack(case.resources, policies=SPLIT_POLICIES) == []


@pytest.mark.parametrize("change", [
    {"source": "cloudflare", "subnet": "203.0.113.7", "subnetSize": 32},  # a named set of ranges anyone may use
    {"subnetSize": 33}, {"subnetSize": -1}, {"subnetSize": "wide"},  # not a prefix length of the address
    {"ipType": "v6"},  # an IPv4 subnet in an IPv6 rule
])
def test_a_rule_whose_source_cannot_be_read_counts_as_the_whole_internet(stacks: dict[str, StackCase],
                                                                         change: dict[str, object]) -> None:
    case = stacks["vultr-dev"]
    rule = next(r for r in case.resources if r.type == VULTR_RULE and r.inputs["port"] == "22"
                and r.inputs["ipType"] == "v4")
    narrow = {**rule.inputs, "subnet": "203.0.113.7", "subnetSize": 32}
    assert check_resource(ssh_restricted_in_production, rule, narrow, config={"production": True}) == []
    (message,) = check_resource(ssh_restricted_in_production, rule, {**narrow, **change}, config={"production": True})
    assert "the whole internet" in message


def test_a_rule_opening_another_port_or_every_port_is_refused(stacks: dict[str, StackCase]) -> None:
    rule = next(r for r in stacks["vultr-dev"].resources if r.type == VULTR_RULE and r.inputs["port"] == "80")
    for port, expected in (("8080", "TCP port 8080"), ("", "every TCP port"), ("20:25", "TCP port 20-25")):
        (message,) = check_resource(inbound_ports, rule, {**rule.inputs, "port": port})
        assert expected in message and names_resource_and_fix(message, rule)
    (message,) = check_resource(inbound_ports, rule, {**rule.inputs, "protocol": "udp"})
    assert "UDP port 80" in message


def test_the_group_itself_opens_nothing(stacks: dict[str, StackCase]) -> None:
    """A group holds no rules: the port check reads its rules, one by one, never the group as a rule."""
    assert check_resource(inbound_ports, stacks["vultr-dev"].one(VULTR_FIREWALL)) == []


def test_an_instance_naming_no_group_or_another_group_is_refused(stacks: dict[str, StackCase]) -> None:
    case = stacks["vultr-dev"]
    instance = case.one(VULTR_INSTANCE)
    assert check_stack(case.resources) == []
    for outputs in ({k: v for k, v in instance.outputs.items() if k != "firewallGroupId"},
                    {**instance.outputs, "firewallGroupId": "another-group"}):
        unlinked = [replace(r, outputs=outputs, property_dependencies={}) if r is instance else r
                    for r in case.resources]
        ((message, urn),) = check_stack(unlinked)
        assert urn == instance.urn and "no cloud firewall attached" in message
        assert names_resource_and_fix(message, instance)


def test_a_reference_computed_from_the_group_but_naming_another_is_refused(stacks: dict[str, StackCase]) -> None:
    """The dependency alone does not attach: `firewall_group_id=group.id.apply(lambda _: other)` keeps it."""
    case = stacks["vultr-dev"]
    instance = case.one(VULTR_INSTANCE)
    assert instance.property_dependencies["firewallGroupId"]
    elsewhere = [replace(r, outputs={**r.outputs, "firewallGroupId": "another-group"}) if r is instance else r
                 for r in case.resources]
    ((message, urn),) = check_stack(elsewhere)
    assert urn == instance.urn and "no cloud firewall attached" in message


def test_the_group_is_found_by_id_without_dependency(stacks: dict[str, StackCase]) -> None:
    """Vultr's ids are text (UUIDs): the instance's firewallGroupId matches the group's id by value too."""
    case = stacks["vultr-dev"]
    instance = case.one(VULTR_INSTANCE)
    assert instance.property_dependencies["firewallGroupId"]  # what the program records
    unlinked = [replace(r, property_dependencies={}) if r is instance else r for r in case.resources]
    assert check_stack(unlinked) == []
