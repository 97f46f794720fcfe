"""The ssh section: who logs in (the admin account and its keys), from where, and how Pulumi deploys."""

from __future__ import annotations

import ipaddress
from typing import Any

from components.config.problems import Collector, allowed
from components.config.schema import KEYS_BY_NAME
from components.config.ssh_keys import SshKey, parse_ssh_key

#: Accounts the image or its packages already have: the admin or the app taking one over would break both.
RESERVED_USERS = frozenset({"root", "daemon", "bin", "sys", "sync", "nobody", "www-data", "admin", "ubuntu",
                            "debian", "sshd", "systemd-network", "_apt", "nginx"})


def check_account(c: Collector, key: str, user: str) -> None:
    """A login name the host can create: adminUser and appName follow the same rule."""
    if not KEYS_BY_NAME[key].matches(user) or user in RESERVED_USERS:
        c.fail(key, f"{user!r} is not a usable account name; allowed: lowercase letters, digits, _ and -, "
                    f"up to 31 characters, not one of {allowed(sorted(RESERVED_USERS))}")


def validate(c: Collector) -> dict[str, Any]:
    """HostSpec's SSH fields."""
    admin = c.text("adminUser")
    check_account(c, "adminUser", admin)
    return dict(admin_user=admin, ssh_keys=tuple(_keys(c)), ssh_allowed_cidrs=tuple(_cidrs(c)),
                deploy_key_given=bool(c.raw.get("deployPrivateKey")))


def _keys(c: Collector) -> list[SshKey]:
    keys: list[SshKey] = []
    key_lines = c.array("sshPublicKeys")
    if not key_lines:
        c.fail("sshPublicKeys", "missing; give at least one OpenSSH public key (e.g. the contents of "
                                "~/.ssh/id_ed25519.pub); password login is disabled")
    first_entry: dict[str, int] = {}  # key body -> entry: adapters name key resources by the key
    for i, line in enumerate(key_lines):
        try:
            parsed = parse_ssh_key(line)
        except ValueError as err:
            c.fail("sshPublicKeys", f"entry {i} ({line[:24]!r}...) is malformed: {err}")
            continue
        if parsed.blob in first_entry:
            c.fail("sshPublicKeys", f"entry {i} is the same key as entry {first_entry[parsed.blob]}; "
                                    "list each key once")
            continue
        first_entry[parsed.blob] = i
        keys.append(parsed)
    return keys


def _cidrs(c: Collector) -> list[str]:
    cidrs: list[str] = []
    for cidr in c.array("sshAllowedCidrs"):
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as err:
            c.fail("sshAllowedCidrs", f"{cidr!r} is not a CIDR ({err}); allowed: e.g. 203.0.113.7/32, "
                                      "2001:db8::/48, 0.0.0.0/0")
            continue
        if "/" not in cidr:  # ip_network reads a bare address as /32: "0.0.0.0" would admit nobody
            if network.network_address.is_unspecified:
                intent = f"{network.network_address}/0 for anywhere"
            else:
                intent = f"{network} for this one address"
            c.fail("sshAllowedCidrs", f"{cidr!r} has no prefix length; write it out, e.g. {intent}")
            continue
        cidrs.append(str(network))
    if not cidrs and not c.has_problem("sshAllowedCidrs"):
        c.fail("sshAllowedCidrs", "empty: nobody could reach SSH; give at least one CIDR")
    return cidrs
