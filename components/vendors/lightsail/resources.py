"""Lightsail's resources as the policy pack and the change model read them (type tokens, inputs, public ports)."""

from __future__ import annotations

from collections.abc import Mapping

from components.vendors.effects import ForceNewInputs, VolumeInputs
from components.vendors.model import FirewallFacts, Props, ResourceFacts
from components.vendors.openings import ALL_PORTS, Opening
from components.vendors.props import as_int, plain, seq, text, text_input

INSTANCE_SOURCE = "terraform-provider-aws internal/service/lightsail/instance.go"
DISK_SOURCE = "terraform-provider-aws internal/service/lightsail/disk.go"


def inbound_openings(props: Props) -> list[Opening]:
    """An InstancePublicPorts' port infos (protocol all, or a missing port, opens every port)."""
    out = []
    for i, info in enumerate(seq(props.get("portInfos"))):
        proto = text(info.get("protocol")).lower() or "tcp"
        sources = tuple(text(s) for s in seq(info.get("cidrs")) + seq(info.get("ipv6Cidrs"))
                        + [f"alias:{text(a)}" for a in seq(info.get("cidrListAliases"))])
        lo, hi = as_int(info.get("fromPort")), as_int(info.get("toPort"))
        ports: tuple[int, int] | None
        if proto in ("icmp", "icmpv6"):
            ports = None
        elif proto == "all" or lo is None or hi is None:
            ports = ALL_PORTS
        else:
            ports = (min(lo, hi), max(lo, hi))
        out.append(Opening(proto, ports, sources, f"portInfos[{i}]"))
    return out


def backups_on(props: Props) -> bool:
    add_on = plain(props.get("addOn"))
    return (isinstance(add_on, Mapping) and text(add_on.get("type")) == "AutoSnapshot"
            and text(add_on.get("status")) == "Enabled")


RESOURCES = ResourceFacts(
    server="aws:lightsail/instance:Instance",
    server_kind="Lightsail Instance",
    size_input="bundleId",
    user_data=text_input("userData"),
    backups_on=backups_on,
    firewall=FirewallFacts(
        type="aws:lightsail/instancePublicPorts:InstancePublicPorts", kind="Lightsail InstancePublicPorts",
        server_reference="instanceName", by_name=True, openings=inbound_openings,
        fix_missing="add a lightsail.InstancePublicPorts with instance_name set to this instance (without it "
                    "Lightsail opens 22 and 80 to the whole internet)"),
    server_inputs=ForceNewInputs(
        INSTANCE_SOURCE, frozenset({"name", "availabilityZone", "blueprintId", "bundleId", "keyPairName", "userData"})),
    data_volume="aws:lightsail/disk:Disk",
    volume_inputs=VolumeInputs(DISK_SOURCE, frozenset({"name", "availabilityZone", "sizeInGb"})),
    data_volume_attachment="aws:lightsail/disk_attachment:Disk_attachment",
    other_types=frozenset({"aws:lightsail/keyPair:KeyPair", "aws:lightsail/staticIp:StaticIp",
                           "aws:lightsail/staticIpAttachment:StaticIpAttachment",
                           "aws:lightsail/domainEntry:DomainEntry"}),
)
