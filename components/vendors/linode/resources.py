"""Linode's resources as the policy pack and the change model read them (type tokens, inputs, firewall)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.vendors.effects import ForceNewInputs, VolumeInputs
from components.vendors.model import FirewallFacts, Props, ResourceFacts
from components.vendors.openings import ALL_PORTS, ANYWHERE, Opening, port_span
from components.vendors.props import UNKNOWN, plain, seq, switch_on, text

INSTANCE_SOURCE = "terraform-provider-linode linode/instance/schema_resource.go, resource.go"
VOLUME_SOURCE = "terraform-provider-linode linode/volume/framework_schema_resource.go, framework_resource.go"


def inbound_openings(props: Props) -> list[Opening]:
    """A Linode Firewall's inbound rules; a disabled firewall, or an inbound policy other than DROP, admits all."""
    out = []
    if plain(props.get("disabled")) is True:
        out.append(Opening("all", ALL_PORTS, ANYWHERE,
                           "disabled: true (Linode enforces none of its rules: admits everything)"))
    policy = text(props.get("inboundPolicy")).upper()
    if policy != "DROP":
        out.append(Opening("all", ALL_PORTS, ANYWHERE,
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
            out.append(Opening(proto, port_span(part), sources, f"inbounds[{i}]"))
    return out


def firewall_defect(value: Callable[[str], Any]) -> str | None:
    """Why a Linode Firewall would not filter (None when it does): Linode enforces no rule of a disabled
    firewall, and an inbound policy other than DROP admits whatever no rule drops. Unknown values in a preview
    are not held against it; the update, with known values, is checked again."""
    if value("disabled") is not UNKNOWN and plain(value("disabled")) is True:
        return "it is disabled (disabled: true), so Linode enforces none of its rules"
    status = value("status")
    if status is not UNKNOWN and text(status).lower() == "disabled":
        return "its status is disabled, so Linode enforces none of its rules"
    policy = value("inboundPolicy")
    if policy is not UNKNOWN and text(policy).upper() != "DROP":
        return f"its inbound policy is {text(policy).upper() or '(unset)'}, not DROP, so every port is open"
    return None


def user_data(props: Props) -> tuple[str, str] | None:
    for i, meta in enumerate(seq(props.get("metadatas"))):
        data = text(plain(meta).get("userData")) if isinstance(plain(meta), Mapping) else ""
        if data.strip():
            return data, f"metadatas[{i}].userData"
    return None


RESOURCES = ResourceFacts(
    server="linode:index/instance:Instance",
    server_kind="Linode Instance",
    size_input="type",
    user_data=user_data,
    backups_on=switch_on("backupsEnabled"),
    firewall=FirewallFacts(
        type="linode:index/firewall:Firewall", kind="Linode Firewall", server_reference="linodes",
        openings=inbound_openings, defect=firewall_defect,
        fix_missing="add a linode.Firewall with inbound_policy='DROP' and this instance's id in linodes",
        fix_defect="set inbound_policy='DROP' and leave disabled unset (false) on the firewall"),
    server_inputs=ForceNewInputs(
        INSTANCE_SOURCE,
        frozenset({"image", "metadatas", "authorizedKeys", "authorizedUsers", "rootPass", "firewallId",
                   "backupId", "stackscriptId", "stackscriptData"}),
        reboot=frozenset({"type", "region"}),  # resize and region change are migrations (migration_type: cold)
    ),
    data_volume="linode:index/volume:Volume",
    volume_inputs=VolumeInputs(VOLUME_SOURCE, frozenset({"region", "sourceVolumeId", "encryption"}),
                               attaching=frozenset({"linodeId"})),
    data_volume_attachment=None,
    other_types=frozenset({"linode:index/domainRecord:DomainRecord"}),
)
