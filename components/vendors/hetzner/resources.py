"""Hetzner Cloud's resources as the policy pack and the change model read them (type tokens, inputs, firewall).

A Hetzner firewall holds its rules inline; the server names the firewalls it sits behind (`firewallIds`). A
firewall drops every inbound packet no `in` rule accepts; with no `out` rule, outbound is not filtered."""

from __future__ import annotations

from types import MappingProxyType

from components.vendors.effects import ForceNewInputs, VolumeInputs
from components.vendors.model import FirewallFacts, Props, ResourceFacts
from components.vendors.openings import ANYWHERE, Opening, port_span
from components.vendors.props import seq, switch_on, text, text_input

SERVER_SOURCE = "terraform-provider-hcloud internal/server/resource.go"
VOLUME_SOURCE = "terraform-provider-hcloud internal/volume/resource.go"
PRIMARY_IP_SOURCE = "terraform-provider-hcloud internal/primaryip/resource.go"

#: Protocols whose rules have no port (the provider requires `port` for tcp and udp only).
_PORTLESS = ("icmp", "esp", "gre")


def inbound_openings(props: Props) -> list[Opening]:
    """The firewall's `in` rules: protocol, port ("22", a range "80-85", or "any": every port) and source CIDRs.
    Fail closed: an `in` rule naming no source reads as the whole internet."""
    out = []
    for i, rule in enumerate(seq(props.get("rules"))):
        if text(rule.get("direction")).lower() != "in":
            continue
        proto = text(rule.get("protocol")).lower() or "tcp"
        ports = None if proto in _PORTLESS else port_span(text(rule.get("port")).lower())
        sources = tuple(text(s) for s in seq(rule.get("sourceIps"))) or ANYWHERE
        out.append(Opening(proto, ports, sources, f"rules[{i}]"))
    return out


RESOURCES = ResourceFacts(
    server="hcloud:index/server:Server",
    server_kind="Hetzner Cloud server",
    size_input="serverType",
    user_data=text_input("userData"),
    backups_on=switch_on("backups"),
    firewall=FirewallFacts(
        type="hcloud:index/firewall:Firewall", kind="Hetzner Cloud firewall",
        server_reference="firewallIds", server_names_firewall=True, openings=inbound_openings,
        fix_missing="add an hcloud.Firewall with `in` rules for 22/80/443 and list its id in this server's "
                    "firewall_ids",
        unfiltered_inputs=MappingProxyType({
            "networks": "a private network, which Hetzner's firewalls do not filter",
            "ignoreRemoteFirewallIds": "the engine would no longer see firewalls attached outside this stack",
        })),
    other_boot_inputs=MappingProxyType({"rescue": "boots Hetzner's rescue system (root login by key or password)",
                                        "iso": "boots a mounted ISO image"}),
    server_inputs=ForceNewInputs(
        SERVER_SOURCE,
        frozenset({"image", "location", "userData", "sshKeys"}),
        # Update powers the server off for a new server type (and leaves it off) and for new public addresses.
        reboot=frozenset({"serverType", "publicNets"}),
    ),
    data_volume="hcloud:index/volume:Volume",
    volume_inputs=VolumeInputs(VOLUME_SOURCE, frozenset({"location"})),
    data_volume_attachment="hcloud:index/volumeAttachment:VolumeAttachment",
    other_types=frozenset({"hcloud:index/sshKey:SshKey", "hcloud:index/primaryIp:PrimaryIp",
                           "hcloud:index/zoneRrset:ZoneRrset", "hcloud:index/rdns:Rdns"}),
)
