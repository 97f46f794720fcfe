"""The policies of the pack, with their names and enforcement levels (policy/__main__.py serves them)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from components.vendors import VENDORS
from policy.hardening_policies.compute import validate_production_safety, validate_size
from policy.hardening_policies.first_boot import validate_first_boot
from policy.hardening_policies.network import (
    validate_inbound_ports,
    validate_split_ssh_advisory,
    validate_split_ssh_production,
    validate_ssh_advisory,
    validate_ssh_production,
)
from policy.hardening_policies.remote import validate_remote_commands
from policy.hardening_policies.resources import PRODUCTION_SCHEMA
from policy.hardening_policies.secrets import validate_no_secrets
from policy.hardening_policies.stack_graph import validate_firewall_attached, validate_resource_types

PACK_NAME = "hardened-vps-guardrails"
PACK_DESCRIPTION = ("Refuses changes that weaken a hardened-vps host: firewall, open ports, SSH exposure, "
                    "first-boot data and its secrets, production backups and protection, catalog sizes.")


# --- the policies --------------------------------------------------------------------------------------------
firewall_attached = StackValidationPolicy(
    name="server-firewall-attached",
    description="Every server has a cloud firewall attached that filters ("
                + ", ".join(v.resources.firewall.kind for v in VENDORS) + ").",
    validate=validate_firewall_attached,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

allowed_types = StackValidationPolicy(
    name="resource-types-allowed",
    description="Only the resource types the product builds (its servers, firewalls, keys, addresses, DNS "
                "records); any other compute of a vendor's SDK is refused.",
    validate=validate_resource_types,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

inbound_ports = ResourceValidationPolicy(
    name="firewall-inbound-ports",
    description="Cloud firewalls open nothing but TCP 22, 80 and 443.",
    validate=validate_inbound_ports,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

ssh_open_advisory = ResourceValidationPolicy(
    name="ssh-open-to-internet",
    description="SSH (port 22) open to the internet (more than a /8 of IPv4 or a /32 of IPv6): allowed outside "
                "production, but better restricted.",
    validate=validate_ssh_advisory,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.MEDIUM,
)

ssh_restricted_in_production = ResourceValidationPolicy(
    name="production-ssh-restricted",
    description="In a production stack, SSH (port 22) admits at most a /8 of IPv4 and a /32 of IPv6, however "
                "the CIDRs are spelled or split over rules.",
    validate=validate_ssh_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

ssh_split_open_advisory = StackValidationPolicy(
    name="ssh-open-to-internet-across-rules",
    description="Where each firewall rule is a resource of its own (" + ", ".join(
        v.resources.firewall.rule_kind for v in VENDORS if v.resources.firewall.rule_type) + "), SSH open to the "
                "internet by a firewall's rules together, none of them alone: allowed outside production, but "
                "better restricted.",
    validate=validate_split_ssh_advisory,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.MEDIUM,
)

ssh_split_restricted_in_production = StackValidationPolicy(
    name="production-ssh-restricted-across-rules",
    description="In a production stack, where each firewall rule is a resource of its own, a firewall's rules "
                "together admit SSH (port 22) from at most a /8 of IPv4 and a /32 of IPv6.",
    validate=validate_split_ssh_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

first_boot_present = ResourceValidationPolicy(
    name="server-first-boot-data",
    description="Every server boots with exactly the hardened first-boot data this project renders for the "
                "stack's config (no bare server, no edited bundle); only the SSH host key varies.",
    validate=validate_first_boot,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

first_boot_secrets = ResourceValidationPolicy(
    name="first-boot-no-secrets",
    description="First-boot data (and every file bundled in it), and the host converge's bundle, hold no plaintext "
                "secret: private keys, tokens, passwords.",
    validate=validate_no_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

remote_commands = ResourceValidationPolicy(
    name="remote-commands-are-the-products",
    description="Commands run over SSH on the server are only the product's own: the first-boot readiness wait, "
                "the host converge with this stack's converge bundle, and the release (its uploads of the release "
                "script and app archive, and its deploy command), exactly as components/readiness, "
                "components/hostconfig and components/app make them for the stack; they are judged on their "
                "inputs, before they run.",
    validate=validate_remote_commands,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

production_safety = ResourceValidationPolicy(
    name="production-backups-and-protection",
    description="In a production stack, every server has automatic backups on and is protected from deletion, and "
                "so is its data volume.",
    validate=validate_production_safety,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

catalog_sizes = ResourceValidationPolicy(
    name="server-size-in-catalog",
    description="Every server's plan comes from the project's catalog (known price, tested sizing).",
    validate=validate_size,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

RESOURCE_POLICIES: tuple[ResourceValidationPolicy, ...] = (
    inbound_ports, ssh_open_advisory, ssh_restricted_in_production, first_boot_present, first_boot_secrets,
    remote_commands, production_safety, catalog_sizes)
STACK_POLICIES: tuple[StackValidationPolicy, ...] = (firewall_attached, allowed_types, ssh_split_open_advisory,
                                                     ssh_split_restricted_in_production)
POLICIES: tuple[ResourceValidationPolicy | StackValidationPolicy, ...] = (*STACK_POLICIES, *RESOURCE_POLICIES)
