"""DigitalOcean's resources as the policy pack and the change model read them (type tokens, inputs, firewall)."""

from __future__ import annotations

from components.vendors.effects import ForceNewInputs, VolumeInputs
from components.vendors.model import FirewallFacts, Props, ResourceFacts
from components.vendors.openings import Opening, port_span
from components.vendors.props import seq, switch_on, text, text_input

DROPLET_SOURCE = "terraform-provider-digitalocean digitalocean/droplet/resource_droplet.go"
VOLUME_SOURCE = "terraform-provider-digitalocean digitalocean/volume/resource_volume.go"


def inbound_openings(props: Props) -> list[Opening]:
    """A DigitalOcean Firewall's inbound rules (a rule with no port range opens every port)."""
    out = []
    for i, rule in enumerate(seq(props.get("inboundRules"))):
        proto = text(rule.get("protocol")).lower() or "tcp"
        addresses = [text(s) for s in seq(rule.get("sourceAddresses"))]
        for key in ("sourceDropletIds", "sourceTags", "sourceLoadBalancerUids", "sourceKubernetesIds"):
            addresses += [f"{key}:{text(s)}" for s in seq(rule.get(key))]
        ports = None if proto == "icmp" else port_span(text(rule.get("portRange")))
        out.append(Opening(proto, ports, tuple(addresses), f"inboundRules[{i}]"))
    return out


RESOURCES = ResourceFacts(
    server="digitalocean:index/droplet:Droplet",
    server_kind="Droplet",
    size_input="size",
    user_data=text_input("userData"),
    backups_on=switch_on("backups"),
    firewall=FirewallFacts(
        type="digitalocean:index/firewall:Firewall", kind="DigitalOcean Firewall", server_reference="dropletIds",
        openings=inbound_openings,
        fix_missing="add a digitalocean.Firewall whose droplet_ids include this droplet's id"),
    server_inputs=ForceNewInputs(
        DROPLET_SOURCE,
        frozenset({"image", "region", "sshKeys", "userData", "monitoring", "dropletAgent", "vpcUuid", "ipv6"}),
        reboot=frozenset({"size"}),  # Update: PowerOff, Resize(size, resize_disk), PowerOn
        only_when_turned_off=frozenset({"ipv6"}),  # CustomizeDiff ForceNewIfChange(old && !new)
    ),
    data_volume="digitalocean:index/volume:Volume",
    volume_inputs=VolumeInputs(VOLUME_SOURCE, frozenset({"region", "name", "description", "snapshotId",
                                                         "initialFilesystemType", "initialFilesystemLabel"})),
    data_volume_attachment="digitalocean:index/volumeAttachment:VolumeAttachment",
    other_types=frozenset({"digitalocean:index/sshKey:SshKey", "digitalocean:index/reservedIp:ReservedIp",
                           "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
                           "digitalocean:index/dnsRecord:DnsRecord"}),
)
