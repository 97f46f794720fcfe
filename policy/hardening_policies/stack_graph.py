"""The stack graph: every server has a firewall attached, and only the resource types the product builds."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
)

from components.config import PROJECT
from components.vendors import VENDORS
from components.vendors.model import FirewallFacts
from policy.hardening_policies.resources import (
    REMOTE_TYPES,
    as_int,
    describe,
    input_set,
    known,
    known_value,
    seq,
    text,
    vendor_of,
)


# --- stack policy: every server has a firewall attached ------------------------------------------------------
def points_at(firewall: PolicyResource, server: PolicyResource, reference: str, by_name: bool = False) -> bool:
    """Whether `firewall`'s `reference` input names `server` (or any resource that names another: a rule its
    firewall, a server its firewall). By value where both are known (its id, or its name and region where
    `by_name`): a reference computed from the server but naming something else does not count. By property
    dependency only while a value is unknown (a preview, before the server has an id)."""
    depends = any(dep.urn == server.urn for dep in firewall.property_dependencies.get(reference, []))
    if by_name:
        name = known(lambda: text(server.props.get("name")))
        value = known(lambda: text(firewall.props.get(reference)))
        if not name or not value:
            return depends
        region = known(lambda: text(server.props.get("region")))
        their_region = known(lambda: text(firewall.props.get("region")))
        return value == name and (not region or not their_region or region == their_region)
    server_id = known(lambda: resource_id(server.props.get("id")))

    def named() -> list[int | str | None]:
        value = firewall.props.get(reference)
        return [resource_id(v) for v in seq(value)] or [resource_id(value)]

    ids = known(named)
    if server_id is None or ids is None:
        return depends
    return server_id in ids


def resource_id(value: object) -> int | str | None:
    """A provider id as a reference holds it: a number where the vendor numbers its resources (a float in some
    engines' hands), else its text (a UUID); None when unset."""
    number = as_int(value)
    if number is not None:
        return number
    return text(value) or None


def is_attached(firewall: PolicyResource, server: PolicyResource, facts: FirewallFacts) -> bool:
    """Whether this firewall filters this server: the firewall names the server, or, where the server names its
    firewall (server_names_firewall), the server names this one."""
    if facts.server_names_firewall:
        return points_at(server, firewall, facts.server_reference)
    return points_at(firewall, server, facts.server_reference, facts.by_name)


def foreign_firewalls(server: PolicyResource, stack_firewalls: list[PolicyResource], facts: FirewallFacts) -> list[str]:
    """Where the server names its firewalls: the known ids it names that are no firewall of this stack. Their rules
    are read by no policy, and a vendor that combines a server's firewalls lets through what any of them admits.
    An id the engine does not know yet (preview) is one of the stack's own, created in this update."""
    stack_ids = {known(lambda f=f: resource_id(f.props.get("id"))) for f in stack_firewalls} - {None}
    value = known(lambda: server.props.get(facts.server_reference))
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):  # a list of ids, each known or not
        named = [known(lambda i=i: resource_id(value[i])) for i in range(len(value))]
    else:
        named = [known(lambda: resource_id(value))]
    return [str(rid) for rid in named if rid is not None and rid not in stack_ids]


def unfiltered_by(server: PolicyResource, facts: FirewallFacts) -> list[str]:
    """The server's inputs (FirewallFacts.unfiltered_inputs) that are set, each with why it defeats the firewall.
    Unknown counts as set (fail closed)."""
    return [f"`{name}` ({why})" for name, why in facts.unfiltered_inputs.items() if input_set(server.props, name)]


def validate_firewall_attached(args: StackValidationArgs, report: ReportViolation) -> None:
    for server in args.resources:
        vendor = vendor_of(server.resource_type)
        if vendor is None:
            continue
        facts = vendor.resources.firewall
        who = describe(server.resource_type, server.name)
        if unfiltered := unfiltered_by(server, facts):
            report(f"{who} sets {', '.join(unfiltered)}: its cloud firewall would not be all that reaches it. Fix: "
                   "remove them; the project's host component sets none.", server.urn)
        of_type = [r for r in args.resources if r.resource_type == facts.type]
        firewalls = [r for r in of_type if is_attached(r, server, facts)]
        defects = {f.name: facts.defect(known_value(f.props)) for f in firewalls}
        filtering = [f for f in firewalls if defects[f.name] is None]
        if firewalls and not filtering:
            why = "; ".join(f"'{name}': {defect}" for name, defect in defects.items())
            report(f"{who} is attached only to {facts.kind}s that do not filter ({why}). Fix: "
                   f"{facts.fix_defect}.", server.urn)
        elif not filtering:
            report(f"{who} has no cloud firewall attached. Fix: {facts.fix_missing}; the project's host "
                   "component (components/vendors) builds one for every server.", server.urn)
        # Beside its own firewall (else the message above says enough), one the stack does not hold.
        elif facts.server_names_firewall and (foreign := foreign_firewalls(server, of_type, facts)):
            report(f"{who} names {facts.kind}s that are not in this stack ({', '.join(foreign)}) in "
                   f"`{facts.server_reference}`: no policy reads their rules, and they add to what reaches it. Fix: "
                   f"name only the stack's own {facts.kind}.", server.urn)


# --- stack policy: only the resource types the product builds --------------------------------------------------
#: Every cloud resource type the host components (components/vendors) create. Anything else from a cloud SDK
#: (other compute services, containers, databases, app platforms, autoscaling pools, Kubernetes or instance
#: configs) is compute, or a change to compute, that none of the other policies look at.
PRODUCT_TYPES = frozenset(t for v in VENDORS for t in v.resources.types)
_SERVERS = ", ".join(v.resources.server_kind for v in VENDORS)
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
                   f"only the server, firewall, key, address and DNS types of the host components ({_SERVERS} and "
                   "theirs) may be in a stack, so no compute runs "
                   "without the cloud firewall and hardened first boot the other policies check. Fix: remove it "
                   "(servers come from components/vendors); if the product now builds this type, add it to its "
                   "vendor's resources (components/vendors/<vendor>/resources.py) with the checks it needs.",
                   resource.urn)
