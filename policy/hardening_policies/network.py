"""Inbound rules, one model for every vendor's firewall, and the SSH exposure they allow (as pulumi-policy-aws
groups its network policies)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.config import PROJECT
from components.vendors.openings import Opening
from policy.hardening_policies.resources import (
    ALLOWED_TCP_PORTS,
    FIREWALL_RULES,
    FIREWALL_TYPES,
    FIREWALLS,
    SSH_PORT,
    describe,
    is_production,
)
from policy.hardening_policies.stack_graph import points_at


# --- inbound rules: one model (components/vendors/openings.py), each vendor's reader in its folder -----------
def inbound_openings(resource_type: str, props: Mapping[str, Any]) -> list[Opening]:
    """What a vendor firewall, or one rule where rules are resources of their own, lets in, normalised. Unknown
    resource types open nothing; nor does a firewall whose rules are resources of their own (they are read one
    by one, and added up by the stack policies below)."""
    if resource_type in FIREWALL_RULES:
        return FIREWALL_RULES[resource_type].openings(props)
    firewall = FIREWALLS.get(resource_type)
    return firewall.openings(props) if firewall and not firewall.rule_type else []


# Address space no packet from the internet comes from (RFC 6890 special-purpose blocks: this network,
# private, shared, loopback, link-local, documentation, benchmarking, multicast, reserved). SSH admitted from
# there exposes nothing; every other IPv4 address counts. IPv6: only global unicast (2000::/3) is routed.
_NOT_INTERNET_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4"))
_INTERNET_V6 = ipaddress.IPv6Network("2000::/3")
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4 addresses written as IPv6: counted as the IPv4 they are
PUBLIC_V4 = 2**32 - sum(n.num_addresses for n in _NOT_INTERNET_V4)
PUBLIC_V6 = _INTERNET_V6.num_addresses
#: "Restricted" SSH admits at most a /8 of the public IPv4 space and a /32 of the public IPv6 space: more is
#: a large part of the internet (a /8 is 1/224 of it), however the CIDRs are spelled or split.
MAX_SSH_V4 = 2**(32 - 8)
MAX_SSH_V6 = 2**(128 - 32)
SSH_LIMIT = "more than a /8 of IPv4 or a /32 of IPv6 is not restricted"


def _overlap(net: Any, block: Any) -> int:
    """Addresses two CIDRs share: one holds the other or they are disjoint."""
    if net.subnet_of(block):
        return int(net.num_addresses)
    return int(block.num_addresses) if block.subnet_of(net) else 0


def public_addresses(sources: Sequence[str]) -> dict[int, int]:
    """How many public (internet-routed) addresses `sources` admit, per IP version, overlaps counted once.
    Non-CIDR sources (tags, droplet ids, aliases) admit none; so does a source that is not an address."""
    nets: dict[int, list[Any]] = {4: [], 6: []}
    for source in sources:
        try:
            net = ipaddress.ip_network(source.strip(), strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_V4_MAPPED):
            net = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))  # ::ffff:a.b.c.d
        nets[net.version].append(net)
    v4 = sum(n.num_addresses - sum(_overlap(n, b) for b in _NOT_INTERNET_V4)
             for n in ipaddress.collapse_addresses(nets[4]))
    v6 = sum(_overlap(n, _INTERNET_V6) for n in ipaddress.collapse_addresses(nets[6]))
    return {4: int(v4), 6: int(v6)}


def wide_exposure(sources: Sequence[str]) -> list[str]:
    """The IP versions `sources` open too widely, described ('0.0.0.0/0' when all of that internet)."""
    counts = public_addresses(sources)
    out = []
    for version, limit, total, anywhere in ((4, MAX_SSH_V4, PUBLIC_V4, "0.0.0.0/0"),
                                            (6, MAX_SSH_V6, PUBLIC_V6, "::/0")):
        if counts[version] > limit:
            share = counts[version] / total
            out.append(anywhere if counts[version] >= total else f"{share:.2%} of the public IPv{version} internet")
    return out




def validate_inbound_ports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in FIREWALL_TYPES:
        return
    for opening in inbound_openings(args.resource_type, args.props):
        if not opening.allowed:
            report(f"{describe(args.resource_type, args.name)} opens {opening.describe_ports()} "
                   f"({opening.where}); only TCP {', '.join(map(str, ALLOWED_TCP_PORTS))} may be open. Fix: remove "
                   f"that rule or narrow it to one of those ports (the host component opens exactly these).", None)


def _ssh_exposure(args: ResourceValidationArgs) -> tuple[list[Opening], list[str]] | None:
    """The rules of a firewall that admit SSH and, when together they admit too much of the internet, how much.
    Rules are added up: splitting a wide range over several rules does not narrow it."""
    if args.resource_type not in FIREWALL_TYPES:
        return None
    openings = [o for o in inbound_openings(args.resource_type, args.props) if o.includes_port(SSH_PORT)]
    wide = wide_exposure([s for o in openings for s in o.sources])
    return (openings, wide) if wide else None


def _ssh_message(args: ResourceValidationArgs | PolicyResource, exposure: tuple[list[Opening], list[str]],
                 production: bool) -> str:
    openings, wide = exposure
    stage = "in a production stack " if production else ""
    whole = all(w in ("0.0.0.0/0", "::/0") for w in wide)
    how_much = "the whole internet" if whole else "too much of the internet"
    return (f"{describe(args.resource_type, args.name)} {stage}admits SSH (port 22) from {how_much} "
            f"({' and '.join(wide)}; {', '.join(o.where for o in openings)}; {SSH_LIMIT}). Fix: set "
            f"{PROJECT}:sshAllowedCidrs in the stack file to the addresses you administer from (e.g. 203.0.113.7/32 "
            "or your VPN range).")


def validate_ssh_advisory(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_production(args.get_config()):
        return  # production-ssh-restricted reports it, mandatorily
    exposure = _ssh_exposure(args)
    if exposure:
        report(_ssh_message(args, exposure, production=False), None)


def validate_ssh_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    exposure = _ssh_exposure(args)
    if exposure:
        report(_ssh_message(args, exposure, production=True), None)


# --- stack policies: a firewall whose rules are resources of their own, its rules added up --------------------
def split_ssh_exposures(resources: Sequence[PolicyResource]) -> list[tuple[PolicyResource, tuple[list[Opening],
                                                                                                list[str]]]]:
    """Firewalls whose rule resources (FirewallFacts.rule_type) admit too much of the internet to SSH together
    while no one of them does alone (a rule that does is reported on itself by the resource policies)."""
    out = []
    for firewall in resources:
        facts = FIREWALLS.get(firewall.resource_type)
        if facts is None or not facts.rule_type:
            continue
        rules = [r for r in resources if r.resource_type == facts.rule_type
                 and points_at(r, firewall, facts.rule_group_reference)]
        # A rule read in a preview with unknown values raises (the policy cannot run yet), never counts as nothing.
        per_rule = [[o for o in facts.openings(r.props) if o.includes_port(SSH_PORT)] for r in rules]
        if any(wide_exposure([s for o in openings for s in o.sources]) for openings in per_rule):
            continue
        together = [o for openings in per_rule for o in openings]
        wide = wide_exposure([s for o in together for s in o.sources])
        if wide:
            out.append((firewall, (together, wide)))
    return out


def validate_split_ssh_advisory(args: StackValidationArgs, report: ReportViolation) -> None:
    if is_production(args.get_config()):
        return
    for firewall, exposure in split_ssh_exposures(args.resources):
        report(_ssh_message(firewall, exposure, production=False), firewall.urn)


def validate_split_ssh_production(args: StackValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    for firewall, exposure in split_ssh_exposures(args.resources):
        report(_ssh_message(firewall, exposure, production=True), firewall.urn)
