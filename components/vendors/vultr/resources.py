"""Vultr's resources as the policy pack and the change model read them (type tokens, inputs, firewall).

Vultr's firewall is a group with one resource per rule: each rule names its group (`firewallGroupId`) and the
instance names the group it sits behind (its own `firewallGroupId`). A group drops every inbound packet no rule
accepts; outbound is not filtered."""

from __future__ import annotations

import ipaddress

from components.vendors.effects import ForceNewInputs, VolumeInputs
from components.vendors.model import FirewallFacts, Props, ResourceFacts
from components.vendors.openings import ANYWHERE, Opening, port_span
from components.vendors.props import as_int, text, text_input

INSTANCE_SOURCE = "terraform-provider-vultr vultr/resource_vultr_instance.go"
BLOCK_STORAGE_SOURCE = "terraform-provider-vultr vultr/resource_vultr_block_storage.go"

FIREWALL_RULE = "vultr:index/firewallRule:FirewallRule"
#: Protocols whose rules have no ports (the provider takes `port` for TCP and UDP only).
_PORTLESS = ("icmp", "gre", "esp", "ah")


def rule_sources(props: Props) -> tuple[str, ...]:
    """What one rule admits, as CIDRs. Fail closed: a named source (`cloudflare`: a set of ranges anyone on that
    network can send from, wider than the SSH limit) and a subnet or size that is not an address of the rule's IP
    version both read as the whole internet."""
    if text(props.get("source")):
        return ANYWHERE
    subnet, size = text(props.get("subnet")), as_int(props.get("subnetSize"))
    try:
        net = ipaddress.ip_network(f"{subnet}/{size}", strict=False)
    except ValueError:
        return ANYWHERE
    return (str(net),) if text(props.get("ipType")) == f"v{net.version}" else ANYWHERE


def rule_openings(props: Props) -> list[Opening]:
    """One FirewallRule: its protocol, its port ("22", a range "8000:8080", or none: every port) and its sources."""
    proto = text(props.get("protocol")).lower() or "tcp"
    ports = None if proto in _PORTLESS else port_span(text(props.get("port")).replace(":", "-"))
    where = f"{proto} {text(props.get('port')) or '(every port)'}"
    if text(props.get("source")):
        where += f" from source {text(props.get('source'))!r} (counted as the whole internet)"
    return [Opening(proto, ports, rule_sources(props), where)]


def backups_on(props: Props) -> bool:
    return text(props.get("backups")).lower() == "enabled"


RESOURCES = ResourceFacts(
    server="vultr:index/instance:Instance",
    server_kind="Vultr Instance",
    size_input="plan",
    user_data=text_input("userData"),
    backups_on=backups_on,
    firewall=FirewallFacts(
        type="vultr:index/firewallGroup:FirewallGroup", kind="Vultr firewall group",
        server_reference="firewallGroupId", server_names_firewall=True,
        rule_type=FIREWALL_RULE, rule_kind="Vultr firewall rule", rule_group_reference="firewallGroupId",
        openings=rule_openings,
        fix_missing="add a vultr.FirewallGroup with vultr.FirewallRule resources for 22/80/443 and set this "
                    "instance's firewall_group_id to it"),
    server_inputs=ForceNewInputs(
        INSTANCE_SOURCE,
        frozenset({"region", "osId", "userData", "sshKeyIds", "hostname", "reservedIpId", "appId", "imageId",
                   "snapshotId", "scriptId", "ipxeChainUrl", "disablePublicIpv4", "userScheme", "appVariables"}),
        reboot=frozenset({"plan"}),  # an upgrade in place; the instance restarts on the new plan
    ),
    data_volume="vultr:index/blockStorage:BlockStorage",
    volume_inputs=VolumeInputs(BLOCK_STORAGE_SOURCE, frozenset({"region", "blockType"}),
                               attaching=frozenset({"attachedToInstance"})),
    data_volume_attachment=None,
    other_types=frozenset({"vultr:index/sSHKey:SSHKey", "vultr:index/reservedIp:ReservedIp",
                           "vultr:index/dnsRecord:DnsRecord"}),
)
