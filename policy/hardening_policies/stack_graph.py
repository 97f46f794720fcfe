"""The stack graph: every server has a firewall attached, and only the resource types the product builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
)

from components.config import PROJECT
from policy.hardening_policies.resources import (
    DATA_VOLUME_ATTACHMENTS,
    DATA_VOLUMES,
    DO_FIREWALL,
    DROPLET,
    LIGHTSAIL_INSTANCE,
    LIGHTSAIL_PORTS,
    LINODE_FIREWALL,
    LINODE_INSTANCE,
    REMOTE_TYPES,
    as_int,
    describe,
    known,
    plain,
    seq,
    text,
)


# --- stack policy: every server has a firewall attached ------------------------------------------------------
@dataclass(frozen=True)
class _Attachment:
    firewall_type: str
    reference: str  # the firewall input naming its servers


_ATTACHMENTS: Mapping[str, _Attachment] = {
    DROPLET: _Attachment(DO_FIREWALL, "dropletIds"),
    LINODE_INSTANCE: _Attachment(LINODE_FIREWALL, "linodes"),
    LIGHTSAIL_INSTANCE: _Attachment(LIGHTSAIL_PORTS, "instanceName"),
}


def points_at(firewall: PolicyResource, server: PolicyResource, reference: str) -> bool:
    """Whether `firewall`'s `reference` input names `server`: by property dependency (works in a preview,
    before the server has an id) or by value (id or name)."""
    if any(dep.urn == server.urn for dep in firewall.property_dependencies.get(reference, [])):
        return True
    if reference == "instanceName":
        name = known(lambda: text(server.props.get("name")))
        region = known(lambda: text(server.props.get("region")))
        their_region = known(lambda: text(firewall.props.get("region")))
        return bool(name) and known(lambda: text(firewall.props.get(reference))) == name and (
            not region or not their_region or region == their_region)
    server_id = known(lambda: as_int(server.props.get("id")))
    if server_id is None:
        return False
    ids = known(lambda: [as_int(v) for v in seq(firewall.props.get(reference))]) or []
    return server_id in ids


def linode_firewall_defect(firewall: PolicyResource) -> str | None:
    """Why a Linode Firewall would not filter (None when it does): Linode enforces no rule of a disabled
    firewall, and an inbound policy other than DROP admits whatever no rule drops. Unknown values in a preview
    are not held against it; the update, with known values, is checked again."""
    if known(lambda: plain(firewall.props.get("disabled"))) is True:
        return "it is disabled (disabled: true), so Linode enforces none of its rules"
    if (known(lambda: text(firewall.props.get("status")).lower()) or "") == "disabled":
        return "its status is disabled, so Linode enforces none of its rules"
    policy = known(lambda: text(firewall.props.get("inboundPolicy")).upper())
    if policy is not None and policy != "DROP":
        return f"its inbound policy is {policy or '(unset)'}, not DROP, so every port is open"
    return None


def validate_firewall_attached(args: StackValidationArgs, report: ReportViolation) -> None:
    for server in args.resources:
        attachment = _ATTACHMENTS.get(server.resource_type)
        if attachment is None:
            continue
        who = describe(server.resource_type, server.name)
        firewalls = [r for r in args.resources if r.resource_type == attachment.firewall_type
                     and points_at(r, server, attachment.reference)]
        if server.resource_type == LINODE_INSTANCE:
            defects = {f.name: linode_firewall_defect(f) for f in firewalls}
            filtering = [f for f in firewalls if defects[f.name] is None]
            if firewalls and not filtering:
                why = "; ".join(f"'{name}': {defect}" for name, defect in defects.items())
                report(f"{who} is attached only to Linode Firewalls that do not filter ({why}). Fix: set "
                       "inbound_policy='DROP' and leave disabled unset (false) on the firewall.", server.urn)
                continue
            firewalls = filtering
        if firewalls:
            continue
        fixes = {
            DROPLET: "add a digitalocean.Firewall whose droplet_ids include this droplet's id",
            LINODE_INSTANCE: "add a linode.Firewall with inbound_policy='DROP' and this instance's id in linodes",
            LIGHTSAIL_INSTANCE: "add a lightsail.InstancePublicPorts with instance_name set to this instance "
                                "(without it Lightsail opens 22 and 80 to the whole internet)",
        }
        report(f"{who} has no cloud firewall attached. Fix: {fixes[server.resource_type]}; the project's host "
               "component (components/vendors) builds one for every server.", server.urn)


# --- stack policy: only the resource types the product builds --------------------------------------------------
#: Every cloud resource type the host components (components/vendors) create. Anything else from a cloud SDK
#: (EC2, Lambda, Lightsail containers or databases, DigitalOcean apps, autoscaling pools or Kubernetes, Linode
#: LKE or instance configs) is compute, or a change to compute, that none of the other policies look at.
PRODUCT_TYPES = frozenset({
    DROPLET, DO_FIREWALL, "digitalocean:index/sshKey:SshKey", "digitalocean:index/reservedIp:ReservedIp",
    "digitalocean:index/reservedIpAssignment:ReservedIpAssignment", "digitalocean:index/dnsRecord:DnsRecord",
    LINODE_INSTANCE, LINODE_FIREWALL, "linode:index/domainRecord:DomainRecord",
    LIGHTSAIL_INSTANCE, LIGHTSAIL_PORTS, "aws:lightsail/keyPair:KeyPair", "aws:lightsail/staticIp:StaticIp",
    "aws:lightsail/staticIpAttachment:StaticIpAttachment", "aws:lightsail/domainEntry:DomainEntry",
    *DATA_VOLUMES, *DATA_VOLUME_ATTACHMENTS,
})
#: Type prefixes that create nothing in a cloud: the engine's own (stack, providers), this project's
#: components (their children are checked one by one), local key and random material. Commands are not among
#: them: `command:local` runs anything on the deploying machine, and of `command:remote` only REMOTE_TYPES
#: (held to the product's exact release by remote-commands-are-the-products) may be in a stack.
LOCAL_TYPE_PREFIXES = ("pulumi:pulumi:", "pulumi:providers:", f"{PROJECT}:", "tls:", "random:")


def type_not_allowed(resource_type: str) -> bool:
    """A resource type the product does not build: any cloud type outside PRODUCT_TYPES, any command but the
    release's, any other package."""
    return (resource_type not in PRODUCT_TYPES and resource_type not in REMOTE_TYPES
            and not resource_type.startswith(LOCAL_TYPE_PREFIXES))


def validate_resource_types(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if type_not_allowed(resource.resource_type):
            report(f"{describe(resource.resource_type, resource.name)} is of a type this product does not build: "
                   "only the server, firewall, key, address and DNS types of the host components (DigitalOcean "
                   "Droplet, Linode Instance, Lightsail Instance and theirs) may be in a stack, so no compute runs "
                   "without the cloud firewall and hardened first boot the other policies check. Fix: remove it "
                   "(servers come from components/vendors); if the product now builds this type, add it to "
                   "PRODUCT_TYPES in policy/hardening_policies/stack_graph.py with the checks it needs.", resource.urn)
