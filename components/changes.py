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
from dataclasses import dataclass
from types import MappingProxyType

from components import catalog

# Effects, worst first. A key's effect is the worst thing one change of it does to the running server.
REPLACE = "replace"
REBOOT = "reboot"
IN_PLACE = "in-place"
CONVERGE = "converge"
FIRST_BOOT = "first-boot"
RELEASE = "release"
RUN_ONCE = "run-once"
NONE = "none"
EFFECTS: tuple[str, ...] = (REPLACE, REBOOT, IN_PLACE, CONVERGE, FIRST_BOOT, RELEASE, RUN_ONCE, NONE)

# What a change does to the data volume (a stack with dataVolumeGb), beside what it does to the server. The volume
# outlives the server: a replaced server finds it again (VOLUME_KEPT), unless the change replaces the volume too.
VOLUME_REPLACE = "volume-replace"
VOLUME_IN_PLACE = "volume-in-place"
VOLUME_KEPT = "volume-kept"
VOLUME_EFFECTS: tuple[str, ...] = (VOLUME_REPLACE, VOLUME_IN_PLACE, VOLUME_KEPT)
VOLUME_TEXT: Mapping[str, str] = MappingProxyType({
    VOLUME_REPLACE: "replaces the data volume (a new, empty one; refused while keepDataVolume protects it)",
    VOLUME_IN_PLACE: "changes the data volume in place",
    VOLUME_KEPT: "the data volume is kept",
})

#: What each effect means for the server, for people.
EFFECT_TEXT: Mapping[str, str] = MappingProxyType({
    REPLACE: "replaces the server (new disk, data lost)",
    REBOOT: "reboots the server",
    IN_PLACE: "in place, no restart",
    CONVERGE: "converged in place by HostConfig over SSH; server kept",
    FIRST_BOOT: "needs reprovision: the running server keeps the old value",
    RELEASE: "new app release over SSH; server kept",
    RUN_ONCE: "a one-time run over SSH; server kept",
    NONE: "no server change",
})

# Upstream sources (repository and file) and this project's own deciding files.
DO_DROPLET = "terraform-provider-digitalocean digitalocean/droplet/resource_droplet.go"
LINODE_INSTANCE = "terraform-provider-linode linode/instance/schema_resource.go, resource.go"
LIGHTSAIL_INSTANCE = "terraform-provider-aws internal/service/lightsail/instance.go"
DO_VOLUME = "terraform-provider-digitalocean digitalocean/volume/resource_volume.go"
LINODE_VOLUME = "terraform-provider-linode linode/volume/framework_schema_resource.go, framework_resource.go"
LIGHTSAIL_DISK = "terraform-provider-aws internal/service/lightsail/disk.go"
HOST_LIFECYCLE = "components/host.py (ignore_changes on first-boot inputs)"
FIRST_BOOT_RENDER = "components/firstboot (rendered into first-boot data)"
HOST_CONFIG = "components/hostconfig (the first-boot files, converged over SSH on every pulumi up)"
APP_RELEASE = "components/app (AppRelease over pulumi-command)"
BENCHMARK = "components/benchmark (HostBenchmark over pulumi-command, once per server)"
DNS_ONLY = "components/host.py dns_plan (DNS records only)"
POLICY_ONLY = "policy/ and resource options (no vendor input)"


@dataclass(frozen=True)
class Effect:
    """What one change of a key does to the running server on one vendor, and where that is decided."""

    kind: str  # one of EFFECTS
    note: str
    source: str
    volume: str = VOLUME_KEPT  # one of VOLUME_EFFECTS: what it does to the data volume, when there is one

    @property
    def text(self) -> str:
        return EFFECT_TEXT[self.kind]


@dataclass(frozen=True)
class ForceNewInputs:
    """A server resource's inputs (as the engine names them) whose change the provider answers by replacing it.

    `only_when_turned_off`: booleans that force a new resource only on true -> false (DigitalOcean ipv6).
    `reboot`: inputs updated in place but with the server powered off or migrated.
    """

    source: str
    inputs: frozenset[str]
    reboot: frozenset[str] = frozenset()
    only_when_turned_off: frozenset[str] = frozenset()


#: The server resource of each vendor: its ForceNew and rebooting inputs, read from the provider source.
SERVER_INPUTS: Mapping[str, ForceNewInputs] = MappingProxyType({
    "digitalocean:index/droplet:Droplet": ForceNewInputs(
        DO_DROPLET,
        frozenset({"image", "region", "sshKeys", "userData", "monitoring", "dropletAgent", "vpcUuid", "ipv6"}),
        reboot=frozenset({"size"}),  # Update: PowerOff, Resize(size, resize_disk), PowerOn
        only_when_turned_off=frozenset({"ipv6"}),  # CustomizeDiff ForceNewIfChange(old && !new)
    ),
    "linode:index/instance:Instance": ForceNewInputs(
        LINODE_INSTANCE,
        frozenset({"image", "metadatas", "authorizedKeys", "authorizedUsers", "rootPass", "firewallId",
                   "backupId", "stackscriptId", "stackscriptData"}),
        reboot=frozenset({"type", "region"}),  # resize and region change are migrations (migration_type: cold)
    ),
    "aws:lightsail/instance:Instance": ForceNewInputs(
        LIGHTSAIL_INSTANCE,
        frozenset({"name", "availabilityZone", "blueprintId", "bundleId", "keyPairName", "userData"}),
    ),
})


@dataclass(frozen=True)
class VolumeInputs:
    """A data volume resource's inputs (engine names) whose change replaces it, and those that attach it to the
    server (updated in place, following the server: Linode's volume is its own attachment)."""

    source: str
    inputs: frozenset[str]
    attaching: frozenset[str] = frozenset()


#: The data volume resource of each vendor, read from the provider source. Size is in place where the provider
#: resizes (growing only: DigitalOcean's CustomizeDiff and Linode's API refuse a smaller size).
VOLUME_INPUTS: Mapping[str, VolumeInputs] = MappingProxyType({
    "digitalocean:index/volume:Volume": VolumeInputs(
        DO_VOLUME, frozenset({"region", "name", "description", "snapshotId", "initialFilesystemType",
                              "initialFilesystemLabel"})),
    "linode:index/volume:Volume": VolumeInputs(
        LINODE_VOLUME, frozenset({"region", "sourceVolumeId", "encryption"}), attaching=frozenset({"linodeId"})),
    "aws:lightsail/disk:Disk": VolumeInputs(LIGHTSAIL_DISK, frozenset({"name", "availabilityZone", "sizeInGb"})),
})


def _same(kind: str, note: str, source: str, volume: str = VOLUME_KEPT) -> dict[str, Effect]:
    effect = Effect(kind, note, source, volume)
    return {vendor: effect for vendor in catalog.VENDORS}


def _per(digitalocean: Effect, linode: Effect, lightsail: Effect) -> dict[str, Effect]:
    return {"digitalocean": digitalocean, "linode": linode, "lightsail": lightsail}


_FIRST_BOOT_NOTE = "written by first boot; the running server keeps the old value (set reprovision to rebuild)"
_NOT_USED = "not used by this vendor"

#: config key -> vendor -> effect. Every key in components.config.CONFIG_KEYS has an entry (a test checks it).
CHANGES: Mapping[str, Mapping[str, Effect]] = MappingProxyType({key: MappingProxyType(by_vendor) for key, by_vendor in {
    "vendor": _same(REPLACE, "a new server and a new data volume at the other vendor; the old ones are deleted",
                    "components/vendors (another vendor's resources)", VOLUME_REPLACE),
    "size": _per(
        Effect(REBOOT, "powered off and resized in place; the disk grows for good only with growDisk", DO_DROPLET),
        Effect(REBOOT, "cold migration to the new plan; the disk is not resized (resize_disk defaults to false)",
               LINODE_INSTANCE),
        Effect(REPLACE, "bundle_id is ForceNew; the old instance is deleted first (unique name)",
               LIGHTSAIL_INSTANCE)),
    "region": _per(
        Effect(REPLACE, "region is ForceNew; the reserved IP and the data volume are regional and are replaced too",
               f"{DO_DROPLET}; {DO_VOLUME}", VOLUME_REPLACE),
        Effect(REBOOT, "migrated to the new region; its IP addresses change; the data volume's region "
                       "RequiresReplace", f"{LINODE_INSTANCE}; {LINODE_VOLUME}", VOLUME_REPLACE),
        Effect(REPLACE, "availability_zone is ForceNew (for the disk too); the static IP is regional and is replaced "
                        "too", f"{LIGHTSAIL_INSTANCE}; {LIGHTSAIL_DISK}", VOLUME_REPLACE)),
    "image": _per(Effect(REPLACE, "image is ForceNew", DO_DROPLET),
                  Effect(REPLACE, "image is ForceNew", LINODE_INSTANCE),
                  Effect(REPLACE, "blueprint_id is ForceNew", LIGHTSAIL_INSTANCE)),
    "hostName": _per(
        Effect(IN_PLACE, "droplet renamed; the OS hostname set by first boot stays; the data volume's name "
                         "(made from hostName) is ForceNew", f"{DO_DROPLET}; {DO_VOLUME}", VOLUME_REPLACE),
        Effect(IN_PLACE, "label renamed; the OS hostname set by first boot stays; the data volume's label is "
                         "renamed in place", f"{LINODE_INSTANCE}; {LINODE_VOLUME}", VOLUME_IN_PLACE),
        Effect(REPLACE, "the instance name is ForceNew; deleted first (names are unique); so is the disk's name",
               f"{LIGHTSAIL_INSTANCE}; {LIGHTSAIL_DISK}", VOLUME_REPLACE)),
    "ipv6": _per(
        Effect(REPLACE, "turning it off is ForceNew (turning it on is in place)", DO_DROPLET),
        Effect(NONE, "a Linode always has IPv6; only the AAAA record follows", "components/vendors/linode/adapter.py"),
        Effect(IN_PLACE, "ip_address_type changes in place (SetIpAddressType)", LIGHTSAIL_INSTANCE)),
    "tags": _per(Effect(IN_PLACE, "tags update in place", DO_DROPLET),
                 Effect(IN_PLACE, "tags update in place", LINODE_INSTANCE),
                 Effect(IN_PLACE, "tags update in place", LIGHTSAIL_INSTANCE)),
    "adminUser": _same(FIRST_BOOT, "the admin account is made by first boot (HostConfig connects as the admin); "
                                   "vendor key names follow in place", HOST_LIFECYCLE),
    "sshPublicKeys": _same(CONVERGE, "HostConfig replaces the admin's authorized_keys (a removed key stops "
                                     "working); the vendor key inputs stay ignored after creation", HOST_CONFIG),
    "sshAllowedCidrs": _same(CONVERGE, "the vendor firewall follows at once; HostConfig installs the host's "
                                       "nftables rules", HOST_CONFIG),
    "deployPrivateKey": _same(RELEASE, "the release connection changes; the server is not touched", APP_RELEASE),
    "domain": _same(FIRST_BOOT, "nginx and certbot are set up by first boot; DNS records follow at once",
                    FIRST_BOOT_RENDER),
    "acmeEmail": _same(CONVERGE, "the certificate script is a first-boot file; the next issue uses it", HOST_CONFIG),
    "acmeServer": _same(CONVERGE, "the certificate script is a first-boot file; the next issue uses it", HOST_CONFIG),
    "acmeCaCertificate": _same(CONVERGE, "the CA file and certbot's drop-in are first-boot files", HOST_CONFIG),
    "manageDns": _same(NONE, "DNS records only", DNS_ONLY),
    "dnsZone": _same(NONE, "DNS records only", DNS_ONLY),
    "backups": _per(Effect(IN_PLACE, "backups and backup_policy update in place", DO_DROPLET),
                    Effect(IN_PLACE, "backups_enabled updates in place", LINODE_INSTANCE),
                    Effect(IN_PLACE, "the AutoSnapshot add-on is enabled or disabled in place", LIGHTSAIL_INSTANCE)),
    "monitoring": _per(Effect(REPLACE, "monitoring is ForceNew", DO_DROPLET),
                       Effect(NONE, _NOT_USED, "components/vendors/linode/adapter.py"),
                       Effect(NONE, _NOT_USED, "components/vendors/lightsail/adapter.py")),
    "swapSizeMb": _same(FIRST_BOOT, "the swap file is made once, by first boot's lockdown", FIRST_BOOT_RENDER),
    "rebootWindow": _same(CONVERGE, "unattended-upgrades' settings are a first-boot file", HOST_CONFIG),
    "benchmark": _same(RUN_ONCE, "turning it on benchmarks the server once (a few minutes; the tools it installs "
                                 "are purged after); turning it off runs nothing and drops the output", BENCHMARK),
    "dataVolumeGb": _per(
        Effect(CONVERGE, "the volume is resized in place, growing only (CustomizeDiff refuses a smaller size); "
                         "HostConfig grows its filesystem", DO_VOLUME, VOLUME_IN_PLACE),
        Effect(CONVERGE, "the volume is resized in place, growing only (Linode refuses a smaller size); "
                         "HostConfig grows its filesystem", LINODE_VOLUME, VOLUME_IN_PLACE),
        Effect(CONVERGE, "size_in_gb is ForceNew for the disk (Update changes tags only): a new, empty disk, which "
                         "HostConfig formats", LIGHTSAIL_DISK, VOLUME_REPLACE)),
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
    "growDisk": _per(Effect(IN_PLACE, "stored only (resize_disk); takes effect at the next size change", DO_DROPLET),
                     Effect(NONE, _NOT_USED + " (resize_disk stays false)", "components/vendors/linode/adapter.py"),
                     Effect(NONE, _NOT_USED, "components/vendors/lightsail/adapter.py")),
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
