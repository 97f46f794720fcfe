"""Resource readers: the types the product builds, production, and engine property values made plain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import (
    PolicyConfigSchema,
)
from pulumi_policy.proxy import UnknownValueError

from components.config import PROJECT

# --- resource types ------------------------------------------------------------------------------------------
DROPLET = "digitalocean:index/droplet:Droplet"
DO_FIREWALL = "digitalocean:index/firewall:Firewall"
LINODE_INSTANCE = "linode:index/instance:Instance"
LINODE_FIREWALL = "linode:index/firewall:Firewall"
LIGHTSAIL_INSTANCE = "aws:lightsail/instance:Instance"
LIGHTSAIL_PORTS = "aws:lightsail/instancePublicPorts:InstancePublicPorts"
#: The data volume (dataVolumeGb) of each vendor, and the attachments where the volume is not its own.
DATA_VOLUMES = frozenset({"digitalocean:index/volume:Volume", "linode:index/volume:Volume", "aws:lightsail/disk:Disk"})
DATA_VOLUME_ATTACHMENTS = frozenset({"digitalocean:index/volumeAttachment:VolumeAttachment",
                                     "aws:lightsail/disk_attachment:Disk_attachment"})

SERVER_VENDORS: Mapping[str, str] = {DROPLET: "digitalocean", LINODE_INSTANCE: "linode",
                                     LIGHTSAIL_INSTANCE: "lightsail"}
FIREWALL_TYPES = (DO_FIREWALL, LINODE_FIREWALL, LIGHTSAIL_PORTS)
_KIND = {DROPLET: "Droplet", DO_FIREWALL: "DigitalOcean Firewall", LINODE_INSTANCE: "Linode Instance",
         LINODE_FIREWALL: "Linode Firewall", LIGHTSAIL_INSTANCE: "Lightsail Instance",
         LIGHTSAIL_PORTS: "Lightsail InstancePublicPorts"}
REMOTE_COMMAND = "command:remote:Command"
REMOTE_COPY = "command:remote:CopyToRemote"
#: The pulumi-command types the product builds (readiness wait, host converge, AppRelease). They reach the host
#: as the admin, who has sudo without password, so each one must be the very command or upload the product
#: makes for this stack.
REMOTE_TYPES = frozenset({REMOTE_COMMAND, REMOTE_COPY})
#: The input holding the plan slug, per server type.
SIZE_INPUT: Mapping[str, str] = {DROPLET: "size", LINODE_INSTANCE: "type", LIGHTSAIL_INSTANCE: "bundleId"}

#: The only ports a host may open to anyone (TCP): SSH, HTTP, HTTPS.
ALLOWED_TCP_PORTS = (22, 80, 443)
SSH_PORT = 22
ALL_PORTS = (0, 65535)


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


# --- small helpers for engine property values ----------------------------------------------------------------
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def plain(value: Any) -> Any:
    """Unwrap a secret kept in wire format (mock inputs; the policy runtime unwraps them already)."""
    if isinstance(value, Mapping) and _SECRET_SIG in value and "value" in value:
        return value["value"]
    return value


def seq(value: Any) -> list[Any]:
    """A list property as a list (None and unknown-free proxies included); a lone string is not a list."""
    value = plain(value)
    if value is None or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [plain(v) for v in value]


def text(value: Any) -> str:
    value = plain(value)
    return "" if value is None else str(value)


def as_int(value: Any) -> int | None:
    try:
        return int(float(plain(value)))
    except (TypeError, ValueError):
        return None


def known(get: Any) -> Any:
    """Call `get`; None when the engine does not know the value yet (preview)."""
    try:
        return get()
    except UnknownValueError:
        return None
