"""Resource readers: the types the product builds, production, and engine property values made plain."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    PolicyConfigSchema,
)
from pulumi_policy.proxy import UnknownValueError

from components.config import PROJECT
from components.vendors import BY_NAME, VENDORS
from components.vendors.model import FirewallFacts, Vendor

# Re-exported for the pack's modules: the port model and the value helpers live with the vendors' readers.
from components.vendors.openings import ALLOWED_TCP_PORTS as ALLOWED_TCP_PORTS
from components.vendors.openings import SSH_PORT as SSH_PORT
from components.vendors.props import UNKNOWN
from components.vendors.props import as_int as as_int
from components.vendors.props import plain as plain
from components.vendors.props import seq as seq
from components.vendors.props import text as text

# --- resource types: every vendor's, from the registry ---------------------------------------------------------
#: server type token -> its vendor.
SERVER_VENDORS: Mapping[str, str] = {v.resources.server: v.name for v in VENDORS}
#: firewall type token -> how to read it; and, where rules are resources of their own, rule type token -> the
#: firewall's facts (`openings` reads one rule).
FIREWALLS: Mapping[str, FirewallFacts] = {v.resources.firewall.type: v.resources.firewall for v in VENDORS}
FIREWALL_RULES: Mapping[str, FirewallFacts] = {f.rule_type: f for f in FIREWALLS.values() if f.rule_type}
#: Every type that holds inbound rules: a firewall with its rules inline, or one rule.
FIREWALL_TYPES = tuple(FIREWALLS) + tuple(FIREWALL_RULES)
#: The data volume (dataVolumeGb) of each vendor, and the attachments where the volume is not its own.
DATA_VOLUMES = frozenset(v.resources.data_volume for v in VENDORS)
DATA_VOLUME_ATTACHMENTS = frozenset(v.resources.data_volume_attachment for v in VENDORS
                                    if v.resources.data_volume_attachment)
_KIND = {**{v.resources.server: v.resources.server_kind for v in VENDORS},
         **{f.type: f.kind for f in FIREWALLS.values()},
         **{f.rule_type: f.rule_kind for f in FIREWALL_RULES.values()}}
REMOTE_COMMAND = "command:remote:Command"
REMOTE_COPY = "command:remote:CopyToRemote"
#: The pulumi-command types the product builds (readiness wait, host converge, AppRelease). They reach the host
#: as the admin, who reaches root without a password (hvps-root, or sudo before the first converge), so each one
#: must be the very command or upload the product makes for this stack.
REMOTE_TYPES = frozenset({REMOTE_COMMAND, REMOTE_COPY})


def vendor_of(resource_type: str) -> Vendor | None:
    """The vendor whose server has this type (None: not a server the product builds)."""
    vendor = SERVER_VENDORS.get(resource_type)
    return BY_NAME[vendor] if vendor else None


def describe(resource_type: str, name: str) -> str:
    return f"{_KIND.get(resource_type, resource_type)} '{name}'"


# --- production ----------------------------------------------------------------------------------------------
PRODUCTION_KEY = "production"
PRODUCTION_SCHEMA = PolicyConfigSchema(properties={PRODUCTION_KEY: {
    "type": "boolean", "default": False,
    "description": "Apply the production rules even if the stack does not set hardened-vps:production: true."}})


def stack_declares_production() -> bool:
    """`hardened-vps:production` of the stack under analysis (the CLI passes the stack config to the pack)."""
    raw = pulumi.Config(PROJECT).get(PRODUCTION_KEY)
    return raw is not None and str(raw).strip().lower() == "true"


def is_production(policy_config: Mapping[str, Any]) -> bool:
    return policy_config.get(PRODUCTION_KEY) is True or stack_declares_production()


# --- small helpers for engine property values (components/vendors/props.py) ----------------------------------
def known(get: Any) -> Any:
    """Call `get`; None when the engine does not know the value yet (preview)."""
    try:
        return get()
    except UnknownValueError:
        return None


def input_set(props: Mapping[str, Any], name: str) -> bool:
    """Whether an input is set at all: anything but unset, false, empty text or an empty list or block. A value the
    engine does not know yet counts as set (fail closed)."""
    try:
        value = plain(props.get(name))
    except UnknownValueError:
        return True
    if isinstance(value, (Sequence, Mapping)) and not isinstance(value, str):
        return bool(value)
    return not (value is None or value is False or value == "")


def known_value(props: Mapping[str, Any]) -> Callable[[str], Any]:
    """value(input) of `props`, or UNKNOWN where the engine does not know it yet (preview)."""
    def value(key: str) -> Any:
        try:
            return plain(props.get(key))
        except UnknownValueError:
            return UNKNOWN
    return value
