"""Inbound rules, one model for the three vendors' firewalls, and the SSH exposure they allow (as
pulumi-policy-aws groups its network policies)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
)

from components.config import PROJECT
from policy.hardening_policies.resources import (
    ALL_PORTS,
    ALLOWED_TCP_PORTS,
    DO_FIREWALL,
    FIREWALL_TYPES,
    LIGHTSAIL_PORTS,
    LINODE_FIREWALL,
    SSH_PORT,
    as_int,
    describe,
    is_production,
    plain,
    seq,
    text,
)


# --- inbound rules, one model for the three vendors ----------------------------------------------------------
@dataclass(frozen=True)
class Opening:
    """One inbound allowance: protocol ('tcp', 'udp', 'icmp', 'all', ...), port range (None: no ports, e.g.
    ICMP), the sources it admits and where it is written (for messages)."""

    protocol: str
    ports: tuple[int, int] | None
    sources: tuple[str, ...]
    where: str

    def includes_port(self, port: int) -> bool:
        return self.protocol in ("tcp", "all") and self.ports is not None and self.ports[0] <= port <= self.ports[1]

    def describe_ports(self) -> str:
        if self.ports is None:
            return self.protocol.upper()
        lo, hi = self.ports
        if lo <= 1 and hi >= 65535:
            return "every port of every protocol" if self.protocol == "all" else f"every {self.protocol.upper()} port"
        span = str(lo) if lo == hi else f"{lo}-{hi}"
        return f"port {span} of every protocol" if self.protocol == "all" else f"{self.protocol.upper()} port {span}"

    @property
    def allowed(self) -> bool:
        return (self.protocol == "tcp" and self.ports is not None and self.ports[0] == self.ports[1]
                and self.ports[0] in ALLOWED_TCP_PORTS)


def _port_span(spec: str) -> tuple[int, int] | None:
    """'22' -> (22, 22); '80-443' -> (80, 443); '' / 'all' -> every port; garbage -> every port (fail closed)."""
    spec = spec.strip().lower()
    if spec in ("", "all", "*"):
        return ALL_PORTS
    lo, _, hi = spec.partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        return ALL_PORTS
    return (min(first, last), max(first, last))


def inbound_openings(resource_type: str, props: Mapping[str, Any]) -> list[Opening]:
    """What a vendor firewall lets in, normalised. Unknown resource types open nothing."""
    out: list[Opening] = []
    if resource_type == DO_FIREWALL:
        for i, rule in enumerate(seq(props.get("inboundRules"))):
            proto = text(rule.get("protocol")).lower() or "tcp"
            addresses = [text(s) for s in seq(rule.get("sourceAddresses"))]
            for key in ("sourceDropletIds", "sourceTags", "sourceLoadBalancerUids", "sourceKubernetesIds"):
                addresses += [f"{key}:{text(s)}" for s in seq(rule.get(key))]
            ports = None if proto == "icmp" else _port_span(text(rule.get("portRange")))
            out.append(Opening(proto, ports, tuple(addresses), f"inboundRules[{i}]"))
    elif resource_type == LINODE_FIREWALL:
        if plain(props.get("disabled")) is True:
            out.append(Opening("all", ALL_PORTS, ("0.0.0.0/0", "::/0"),
                               "disabled: true (Linode enforces none of its rules: admits everything)"))
        policy = text(props.get("inboundPolicy")).upper()
        if policy != "DROP":
            out.append(Opening("all", ALL_PORTS, ("0.0.0.0/0", "::/0"),
                               f"inboundPolicy {policy or '(unset)'} (admits whatever no rule drops)"))
        for i, rule in enumerate(seq(props.get("inbounds"))):
            if text(rule.get("action")).upper() != "ACCEPT":
                continue
            proto = text(rule.get("protocol")).lower() or "tcp"
            sources = tuple(text(s) for s in seq(rule.get("ipv4s")) + seq(rule.get("ipv6s")))
            if proto not in ("tcp", "udp"):
                out.append(Opening(proto, None, sources, f"inbounds[{i}]"))
                continue
            for part in (text(rule.get("ports")) or "all").split(","):
                out.append(Opening(proto, _port_span(part), sources, f"inbounds[{i}]"))
    elif resource_type == LIGHTSAIL_PORTS:
        for i, info in enumerate(seq(props.get("portInfos"))):
            proto = text(info.get("protocol")).lower() or "tcp"
            sources = tuple(text(s) for s in seq(info.get("cidrs")) + seq(info.get("ipv6Cidrs"))
                            + [f"alias:{text(a)}" for a in seq(info.get("cidrListAliases"))])
            lo, hi = as_int(info.get("fromPort")), as_int(info.get("toPort"))
            if proto in ("icmp", "icmpv6"):
                ports = None
            elif proto == "all" or lo is None or hi is None:
                ports = ALL_PORTS
            else:
                ports = (min(lo, hi), max(lo, hi))
            out.append(Opening(proto, ports, sources, f"portInfos[{i}]"))
    return out


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


def _ssh_message(args: ResourceValidationArgs, exposure: tuple[list[Opening], list[str]], production: bool) -> str:
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
