"""Shared pieces of the policy tests (tests/test_policy_*.py): the example stacks by name, and the policy
messages and resource inputs they check.

Policies are called directly (building the PolicyPack would start a gRPC server and block), through the harness
the offline plan uses too (policy/offline.py). Each resource is presented as the engine presents it: inputs
(resource policies) or outputs (stack policy) behind pulumi_policy's unknown-checking proxy, and the URN,
`protect`, parent and property dependencies the program really registered (captured from the mock monitor), so a
firewall knows its server the way it does in a real preview. The `stacks` fixture (tests/conftest.py) runs every
example stack once for all of them.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from components.vendors import BY_NAME
from policy.hardening_policies.pack import POLICIES
from policy.offline import Registered, StackCase, evaluate

PROD = "prod"

# The vendors' type tokens, from the registry (components/vendors/<vendor>/resources.py): the tests name vendors,
# the policy pack does not.
_DO, _LINODE, _LIGHTSAIL, _VULTR, _HETZNER = (BY_NAME[name].resources
                                              for name in ("digitalocean", "linode", "lightsail", "vultr", "hetzner"))
DROPLET, DO_FIREWALL = _DO.server, _DO.firewall.type
LINODE_INSTANCE, LINODE_FIREWALL = _LINODE.server, _LINODE.firewall.type
LIGHTSAIL_INSTANCE, LIGHTSAIL_PORTS = _LIGHTSAIL.server, _LIGHTSAIL.firewall.type
VULTR_INSTANCE, VULTR_FIREWALL, VULTR_RULE = _VULTR.server, _VULTR.firewall.type, _VULTR.firewall.rule_type
HETZNER_SERVER, HETZNER_FIREWALL = _HETZNER.server, _HETZNER.firewall.type
#: The input holding the plan slug, per server type.
SIZE_INPUT = {v.resources.server: v.resources.size_input for v in BY_NAME.values()}


DEV_STACKS = ("do-dev", "linode-dev", "lightsail-dev", "vultr-dev", "hetzner-dev")


SERVER_OF = {"do-dev": DROPLET, "linode-dev": LINODE_INSTANCE, "lightsail-dev": LIGHTSAIL_INSTANCE,
             "vultr-dev": VULTR_INSTANCE, "hetzner-dev": HETZNER_SERVER, PROD: DROPLET}


#: The firewall attached to a stack's server.
FIREWALL_OF = {"do-dev": DO_FIREWALL, "linode-dev": LINODE_FIREWALL, "lightsail-dev": LIGHTSAIL_PORTS,
               "vultr-dev": VULTR_FIREWALL, "hetzner-dev": HETZNER_FIREWALL, PROD: DO_FIREWALL}


def ssh_rules_of(case: StackCase) -> Registered:
    """The resource holding the stack's SSH rule: its firewall, or where each rule is a resource of its own
    (Vultr), the rule admitting SSH over IPv4."""
    if FIREWALL_OF[case.stack] != VULTR_FIREWALL:
        return case.one(FIREWALL_OF[case.stack])
    return next(r for r in case.resources if r.type == VULTR_RULE and r.inputs["port"] == "22"
                and r.inputs["ipType"] == "v4")


def all_messages(case: StackCase) -> dict[str, list[str]]:
    """Policy name -> messages, every policy over every resource of the stack."""
    out: dict[str, list[str]] = {p.name: [] for p in POLICIES}
    for violation in evaluate(case):
        out[violation.policy].append(violation.message)
    return out


def names_resource_and_fix(message: str, reg: Registered) -> bool:
    return f"'{reg.name}'" in message and "Fix:" in message


def first_boot_props(server: Registered, data: str | None) -> dict[str, Any]:
    props = copy.deepcopy(server.inputs)
    if server.type == LINODE_INSTANCE:
        props["metadatas"] = [] if data is None else [{"userData": data}]
    elif data is None:
        props.pop("userData")
    else:
        props["userData"] = data
    return props


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def openssh_key(cipher: bytes = b"none", keys: int = 1, key_type: bytes = b"ssh-ed25519", comment: bytes = b"",
                secret_tail: bytes | None = None, width: int = 70, trailer: str = "") -> str:
    """An OpenSSH private key built from PROTOCOL.key, with one part changed at a time (test material only)."""
    point, seed = bytes(range(32)), bytes(range(32, 64))
    public = _ssh_string(key_type) + _ssh_string(point)
    private = (b"\x01\x02\x03\x04" * 2 + _ssh_string(key_type) + _ssh_string(point)
               + _ssh_string(seed + (point if secret_tail is None else secret_tail)) + _ssh_string(comment))
    private += bytes(range(1, 1 + (-len(private) % 8)))
    blob = (b"openssh-key-v1\0" + _ssh_string(cipher) + _ssh_string(cipher if cipher == b"none" else b"bcrypt")
            + _ssh_string(b"" if cipher == b"none" else b"salt") + keys.to_bytes(4, "big")
            + _ssh_string(public) * keys + _ssh_string(private))
    body = base64.b64encode(blob).decode()
    lines = "".join(body[i:i + width] + "\n" for i in range(0, len(body), width))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}-----END OPENSSH PRIVATE KEY-----\n{trailer}"
