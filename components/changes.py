"""What changing a stack config key does to a RUNNING server, per vendor, as data.

Pulumi's preview says "replace" only for the resource in front of you; this table says it before you edit
the stack file, for every key and vendor, and names where each fact comes from. The Terraform providers
behind the vendor SDKs decide it (which inputs are ForceNew, what an update does); this project decides the
rest (`ignore_changes` on the first-boot inputs in components/host.py, which inputs each adapter feeds).
`tools.plan` and the README table read it; tests/engine/test_change_effects.py checks it against what the
adapters really pass under mocks.

Pure data and pure functions: nothing here imports a vendor SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from components.vendors import VENDORS
from components.vendors.effects import (  # re-exported: the model every reader of this table uses
    CONVERGE,
    EFFECT_TEXT,
    EFFECTS,
    FIRST_BOOT,
    IN_PLACE,
    NONE,
    REBOOT,
    RELEASE,
    REPLACE,
    RUN_ONCE,
    VOLUME_EFFECTS,
    VOLUME_IN_PLACE,
    VOLUME_KEPT,
    VOLUME_REPLACE,
    VOLUME_TEXT,
    Effect,
    ForceNewInputs,
    VolumeInputs,
)

__all__ = [
    "CHANGES",
    "CONVERGE",
    "EFFECTS",
    "EFFECT_TEXT",
    "FIRST_BOOT",
    "IN_PLACE",
    "NONE",
    "REBOOT",
    "RELEASE",
    "REPLACE",
    "RUN_ONCE",
    "SERVER_INPUTS",
    "VOLUME_EFFECTS",
    "VOLUME_INPUTS",
    "VOLUME_IN_PLACE",
    "VOLUME_KEPT",
    "VOLUME_REPLACE",
    "VOLUME_TEXT",
    "Effect",
    "ForceNewInputs",
    "VolumeInputs",
    "effect",
    "keys_by_effect",
    "keys_replacing_the_volume",
]

# Upstream sources (repository and file) and this project's own deciding files.
HOST_LIFECYCLE = "components/host.py (ignore_changes on first-boot inputs)"
FIRST_BOOT_RENDER = "components/firstboot (rendered into first-boot data)"
HOST_CONFIG = "components/hostconfig (the first-boot files, converged over SSH on every pulumi up)"
APP_RELEASE = "components/app (AppRelease over pulumi-command)"
BENCHMARK = "components/benchmark (HostBenchmark over pulumi-command, once per server)"
DNS_ONLY = "components/host.py dns_plan (DNS records only)"
POLICY_ONLY = "policy/ and resource options (no vendor input)"


#: The server resource of each vendor (by type token): its ForceNew and rebooting inputs, from the vendor's folder.
SERVER_INPUTS: Mapping[str, ForceNewInputs] = MappingProxyType(
    {v.resources.server: v.resources.server_inputs for v in VENDORS})
#: The data volume resource of each vendor (by type token), from the vendor's folder.
VOLUME_INPUTS: Mapping[str, VolumeInputs] = MappingProxyType(
    {v.resources.data_volume: v.resources.volume_inputs for v in VENDORS})


def _same(kind: str, note: str, source: str, volume: str = VOLUME_KEPT) -> dict[str, Effect]:
    effect = Effect(kind, note, source, volume)
    return {v.name: effect for v in VENDORS}


def _own(key: str) -> dict[str, Effect]:
    """A key whose effect is each vendor's own: from the vendor's folder (`changes.py` there)."""
    return {v.name: v.changes[key] for v in VENDORS}



#: config key -> vendor -> effect. Every key in components.config.CONFIG_KEYS has an entry (a test checks it).
CHANGES: Mapping[str, Mapping[str, Effect]] = MappingProxyType({key: MappingProxyType(by_vendor) for key, by_vendor in {
    "vendor": _same(REPLACE, "a new server and a new data volume at the other vendor; the old ones are deleted",
                    "components/vendors (another vendor's resources)", VOLUME_REPLACE),
    "size": _own("size"),
    "region": _own("region"),
    "image": _own("image"),
    "hostName": _own("hostName"),
    "ipv6": _own("ipv6"),
    "tags": _own("tags"),
    "adminUser": _same(FIRST_BOOT, "the admin account is made by first boot (HostConfig connects as the admin); "
                                   "vendor key names follow in place", HOST_LIFECYCLE),
    "sshPublicKeys": _same(CONVERGE, "HostConfig replaces the admin's authorized_keys (a removed key stops "
                                     "working); the vendor key inputs stay ignored after creation", HOST_CONFIG),
    "sshAllowedCidrs": _same(CONVERGE, "the vendor firewall follows at once; HostConfig installs the host's "
                                       "nftables rules (fail2ban restarts and restores its bans)", HOST_CONFIG),
    "deployPrivateKey": _same(RELEASE, "the release connection changes; the server is not touched", APP_RELEASE),
    "domain": _same(FIRST_BOOT, "nginx and certbot are set up by first boot; DNS records follow at once",
                    FIRST_BOOT_RENDER),
    "acmeEmail": _same(CONVERGE, "the certificate script is a first-boot file; the next issue uses it", HOST_CONFIG),
    "acmeServer": _same(CONVERGE, "the certificate script is a first-boot file; the next issue uses it", HOST_CONFIG),
    "acmeCaCertificate": _same(CONVERGE, "the CA file and certbot's drop-in are first-boot files", HOST_CONFIG),
    "manageDns": _same(NONE, "DNS records only", DNS_ONLY),
    "dnsZone": _same(NONE, "DNS records only", DNS_ONLY),
    "backups": _own("backups"),
    "monitoring": _own("monitoring"),
    "swapSizeMb": _same(FIRST_BOOT, "the swap file is made once, by first boot's install phase (or the first "
                                   "converge that turns swap on); one that exists keeps its size", FIRST_BOOT_RENDER),
    "rebootWindow": _same(CONVERGE, "unattended-upgrades' settings are a first-boot file", HOST_CONFIG),
    "benchmark": _same(RUN_ONCE, "turning it on benchmarks the server once (a few minutes; the tools it installs "
                                 "are purged after); turning it off runs nothing and drops the output", BENCHMARK),
    "dataVolumeGb": _own("dataVolumeGb"),
    "keepDataVolume": _same(NONE, "resource options of the volume only (protect, retain on delete)", POLICY_ONLY),
    "database": _same(CONVERGE, "HostConfig sets PostgreSQL up on the volume; turning it off stops nothing and "
                                "deletes nothing", HOST_CONFIG),
    "backupGenerations": _same(CONVERGE, "the backup settings are a host file", HOST_CONFIG),
    "backupBucket": _same(CONVERGE, "the backup settings are a host file", HOST_CONFIG),
    "backupEndpoint": _same(CONVERGE, "the backup settings are a host file", HOST_CONFIG),
    "backupRecipient": _same(CONVERGE, "the backup settings are a host file", HOST_CONFIG),
    "backupAccessKeyId": _same(CONVERGE, "sent over SSH into a root-only file, never in first-boot data",
                               HOST_CONFIG),
    "backupSecretAccessKey": _same(CONVERGE, "sent over SSH into a root-only file, never in first-boot data",
                                   HOST_CONFIG),
    "appName": _same(FIRST_BOOT, "the app's user and units are made by first boot: a rename needs reprovision",
                     FIRST_BOOT_RENDER),
    "appHealthPath": _same(FIRST_BOOT, "first boot's nginx and sample app keep the old path; a deployed app's next "
                                       "release checks the new one", FIRST_BOOT_RENDER),
    "appSource": _same(RELEASE, "deploys a release", APP_RELEASE),
    "appRef": _same(RELEASE, "deploys a release", APP_RELEASE),
    "appModule": _same(RELEASE, "deploys a release", APP_RELEASE),
    "appServer": _same(RELEASE, "deploys a release", APP_RELEASE),
    "appEnv": _same(RELEASE, "deploys a release", APP_RELEASE),
    "appSecrets": _same(RELEASE, "deploys a release with the new secrets", APP_RELEASE),
    "appWorkers": _same(FIRST_BOOT, "first boot's gunicorn.conf keeps the old count; a deployed app's next release "
                                    "uses the new one", FIRST_BOOT_RENDER),
    "appKeepReleases": _same(RELEASE, "applied by the next release", APP_RELEASE),
    "growDisk": _own("growDisk"),
    "production": _same(NONE, "policy checks only", POLICY_ONLY),
    "protect": _same(NONE, "a resource option: Pulumi refuses to delete or replace while it is on", POLICY_ONLY),
    "reprovision": _same(NONE, "by itself nothing; while on, first-boot changes (converged ones too) REPLACE the "
                               "server", HOST_LIFECYCLE),
}.items()})


def effect(key: str, vendor: str, reprovision: bool = False) -> Effect:
    """The effect of changing `key` on a `vendor` server; with reprovision on, first-boot changes replace it."""
    found = CHANGES[key][vendor]
    if reprovision and found.kind in (FIRST_BOOT, CONVERGE):
        return Effect(REPLACE, "reprovision is on: new first-boot data rebuilds the server", HOST_LIFECYCLE)
    return found


def keys_replacing_the_volume(vendor: str) -> list[str]:
    """The config keys whose change replaces `vendor`'s data volume (a new, empty one), in config order."""
    return [key for key, by_vendor in CHANGES.items() if by_vendor[vendor].volume == VOLUME_REPLACE]


def keys_by_effect(vendor: str, reprovision: bool = False) -> dict[str, list[str]]:
    """effect kind -> the config keys with that effect on `vendor`, in config order; worst effect first."""
    grouped: dict[str, list[str]] = {kind: [] for kind in EFFECTS}
    for key in CHANGES:
        grouped[effect(key, vendor, reprovision).kind].append(key)
    return {kind: keys for kind, keys in grouped.items() if keys}
