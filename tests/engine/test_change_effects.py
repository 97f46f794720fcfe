"""Models what the vendors' providers do when a stack key changes, and checks `components.changes` against it;
longer than 300 lines because the model (the providers' diff rules, with their sources) and the checks that
replay it for every key on every vendor are one argument, read together.

Behaviour modelled (the engine plans a replacement when a ForceNew input changes, an in-place update
otherwise; `ignore_changes` hides an input from the diff):
- terraform-provider-digitalocean `digitalocean/droplet/resource_droplet.go`: image, region, user_data,
  ssh_keys, monitoring, droplet_agent, vpc_uuid ForceNew; ipv6 ForceNew only true -> false (CustomizeDiff
  ForceNewIfChange); size updated by PowerOff + Resize(resize_disk) + PowerOn; resize_disk defaults to true.
- terraform-provider-linode `linode/instance/schema_resource.go` (+ resource.go's update): image,
  authorized_keys, metadata.user_data ForceNew; type and region changes are migrations (migration_type
  "cold" by default), resize_disk defaults to false.
- terraform-provider-aws `internal/service/lightsail/instance.go`: name, availability_zone, blueprint_id,
  bundle_id, key_pair_name, user_data ForceNew; ip_address_type updated in place (SetIpAddressType).
- terraform-provider-vultr v2.27.1 `vultr/resource_vultr_instance.go`: region, os_id, user_data, ssh_key_ids,
  hostname, reserved_ip_id (and app, image, snapshot, script ids) ForceNew; plan, enable_ipv6, backups, tags,
  label and firewall_group_id sent in place by one Update; `vultr/resource_vultr_block_storage.go`: region and
  block_type ForceNew, size_gb and attached_to_instance updated in place (detach + attach).
- terraform-provider-hcloud v1.68.0 `internal/server/resource.go`: image, location, user_data, ssh_keys ForceNew;
  name, labels, backups and firewall_ids in place; server_type by Poweroff + ChangeType (and no power-on),
  public_net by a power cycle; `internal/volume/resource.go`: location ForceNew, name and size in place;
  `internal/volume/resource_attachment.go`: volume_id and server_id ForceNew, no Update.
- the data volume (changes.VOLUME_INPUTS): terraform-provider-digitalocean `digitalocean/volume/resource_volume.go`
  (region, name ForceNew; size resized in place), terraform-provider-linode `linode/volume/framework_schema_resource.go`
  (region RequiresReplace; label, size and linode_id updated in place, linode_id by detach + attach), terraform-
  provider-aws `internal/service/lightsail/disk.go` (name, availability_zone, size_in_gb ForceNew). Every stack
  here has a volume, so each key's effect on it is checked too; the server must never be replaced by it.
- pulumi/pulumi: `ignore_changes` removes an input from the diff (pkg/resource/deploy/step_generator.go).
- pulumi/pulumi: the old state of a resource is found by its URN, then by its aliases
  (pkg/resource/deploy/step_generator.go `generateAliases`, `getOldResource`; modelled in tools/urns/): a
  server whose URN changes without an alias naming the old one is created anew and the old one deleted, even
  when every input stays the same.

Each key of the stack config is changed on each vendor's stack and the real program (`__main__.py`, with its
own resource names) is run under mocks; the effect seen in what it registers must be the one
`components.changes` states.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from components import catalog, changes
from components.config import PROJECT
from components.firstboot import PROVISION_SCRIPT
from components.testing.mockrun import ID_FROM_INPUT, RecordedResource
from components.vendors import host_class
from tests.adapters_support import DEFAULT_SIZE, sized
from tests.conftest import ED25519_KEY, ROOT, RSA_4096_KEY, full_config
from tools import urns
from tools.urns import AliasSpec, Registration, RegistrationLog

BASE_REGION = {"digitalocean": "fra1", "linode": "fr-par", "lightsail": "eu-central-1", "vultr": "fra",
               "hetzner": "nbg1"}
OTHER_REGION = {"digitalocean": "ams3", "linode": "us-iad", "lightsail": "eu-west-3", "vultr": "ams", "hetzner": "fsn1"}
BASE = {"domain": "shop.example.com", "acmeEmail": "ops@example.com", "appSource": "examples/flask-app",
        "hostName": "web-1", "dataVolumeGb": 10}
GIT_APP: dict[str, object] = {"appSource": "https://example.com/shop.git", "appRef": "v1"}
BUCKET: dict[str, object] = {"backupBucket": "shop-backups", "backupEndpoint": "https://fra1.digitaloceanspaces.com",
                             "backupRecipient": "age1" + "q" * 58, "backupAccessKeyId": "key-1",
                             "backupSecretAccessKey": "secret-1"}

#: key -> (extra base values, the changed values). Every config key needs one (a test checks it).
VARIANTS: dict[str, tuple[dict[str, object], dict[str, object]]] = {
    "size": ({}, {"size": "medium"}),
    "image": ({}, {"image": "ubuntu-24.04"}),  # an image no vendor defaults to
    "hostName": ({}, {"hostName": "web-2"}),
    "adminUser": ({}, {"adminUser": "ops"}),
    "sshPublicKeys": ({}, {"sshPublicKeys": [ED25519_KEY, RSA_4096_KEY]}),
    "sshAllowedCidrs": ({}, {"sshAllowedCidrs": ["203.0.113.0/24"]}),
    "domain": ({}, {"domain": "www.example.org"}),
    "acmeEmail": ({}, {"acmeEmail": "admin@example.com"}),
    "acmeServer": ({}, {"acmeServer": "https://acme-staging-v02.api.letsencrypt.org/directory"}),
    "acmeCaCertificate": ({}, {"acmeCaCertificate": (ROOT / "tests" / "data" / "test-ca.pem").read_text()}),
    "manageDns": ({}, {"manageDns": False}),
    "dnsZone": ({}, {"dnsZone": "shop.example.com"}),
    "backups": ({}, {"backups": True}),
    "monitoring": ({}, {"monitoring": False}),
    "ipv6": ({}, {"ipv6": False}),
    "growDisk": ({}, {"growDisk": True}),
    "swapSizeMb": ({}, {"swapSizeMb": 2048}),
    "rebootWindow": ({}, {"rebootWindow": "off"}),
    "tags": ({}, {"tags": ["extra"]}),
    "appName": ({}, {"appName": "shop"}),
    "appHealthPath": ({}, {"appHealthPath": "/health"}),
    "appSource": ({}, {"appSource": "tests/data"}),
    "appRef": (GIT_APP, {"appRef": "v2"}),
    "appModule": ({}, {"appModule": "shop:app"}),
    "appServer": ({}, {"appServer": "asgi"}),
    "appEnv": ({}, {"appEnv": ["GREETING=hi"]}),
    "appSecrets": ({}, {"appSecrets": "TOKEN=x"}),
    "appWorkers": ({}, {"appWorkers": 3}),
    "appKeepReleases": ({}, {"appKeepReleases": 3}),
    "deployPrivateKey": ({}, {"deployPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH"
                                                  " PRIVATE KEY-----"}),
    "production": ({}, {"production": True}),
    "protect": ({}, {"protect": True}),
    "reprovision": ({}, {"reprovision": True}),
    "benchmark": ({}, {"benchmark": True}),
    "dataVolumeGb": ({}, {"dataVolumeGb": 20}),
    "keepDataVolume": ({}, {"keepDataVolume": False}),
    "database": ({}, {"database": "postgresql"}),
    "backupGenerations": ({}, {"backupGenerations": 14}),
    "backupBucket": ({}, BUCKET),
    "backupEndpoint": (BUCKET, {"backupEndpoint": "https://s3.eu-central-1.amazonaws.com"}),
    "backupRecipient": (BUCKET, {"backupRecipient": "age1" + "z" * 58}),
    "backupAccessKeyId": (BUCKET, {"backupAccessKeyId": "key-2"}),
    "backupSecretAccessKey": (BUCKET, {"backupSecretAccessKey": "secret-2"}),
}
SECRETS = ("appSecrets", "deployPrivateKey", "backupAccessKeyId", "backupSecretAccessKey")


@dataclass
class Host:
    """What one run of the program registered: its server's inputs, its release's inputs, its first-boot digest,
    and every resource's URN (with aliases)."""

    server: RecordedResource
    release: dict[str, Any]
    digest: str
    urns: RegistrationLog
    converged: dict[str, str] = field(default_factory=dict)  # HostConfig's triggers: host path -> file digest
    runs_once: dict[str, Any] = field(default_factory=dict)  # the benchmark's command: name -> inputs
    volume: RecordedResource | None = None  # the data volume (changes.VOLUME_INPUTS)

    def referenced(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Inputs with each value that is another resource's id (its text, or the number an adapter made of it, at
        any depth: a list of firewall ids, an address inside a block) written as that resource (type and name); not
        where the provider takes the id from an input (a Lightsail name): that value is the input itself."""
        resources = self.urns.run.resources if self.urns.run else []
        ids = {r.id: f"<{r.type}::{r.name}>" for r in resources if r.custom and r.type not in ID_FROM_INPUT}

        def named(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: named(v) for k, v in value.items()}
            if isinstance(value, list):
                return [named(v) for v in value]
            if isinstance(value, float) and value.is_integer():
                return ids.get(str(int(value)), value)
            return ids.get(value, value) if isinstance(value, str) else value
        return {k: named(v) for k, v in inputs.items()}

    @property
    def server_urn(self) -> str:
        return next(r.urn for r in self.urns.registrations if r.type == self.server.type)


def _spec_values(vendor: str, key: str, changed: bool) -> dict[str, object]:
    extra, change = VARIANTS.get(key, ({}, {}))
    values: dict[str, object] = {"vendor": vendor, "region": BASE_REGION[vendor], **sized(vendor), **BASE, **extra}
    if changed:
        values.update(change)
    if key == "size" and changed and sized(vendor):  # no plan in the variant's tier either: another of its plans
        offer = catalog.vendor(vendor)
        values["size"] = next(s.slug for s in offer.sizes if s != offer.size_for(sized(vendor)["size"]))
    if key == "region" and changed:
        values["region"] = OTHER_REGION[vendor]
    if key == "vendor" and changed:
        other = next(v for v in catalog.VENDORS if v != vendor)
        values.update({"vendor": other, "region": BASE_REGION[other], "size": DEFAULT_SIZE, **sized(other)})
    return values


def _run_main(values: dict[str, object]) -> Host:
    """One `pulumi up` of the real program (`__main__.py`, its own resource names) with these stack values."""
    log = urns.program_registrations("unit", full_config(**values),
                                     [f"{PROJECT}:{k}" for k in SECRETS if k in values])
    assert log.run is not None
    server = next(r for r in log.run.resources if r.type in changes.SERVER_INPUTS)
    converge = next(r for r in log.run.resources if r.name.endswith("-config-converge"))
    once = {r.name: _plain(r.inputs, {server.id: "<server id>"}) for r in log.run.resources
            if r.name.endswith("-benchmark-run")}
    # the bucket's keys go over SSH by a command of the HostConfig (a converge, not a release)
    credentials = {r.name: json.dumps(_plain(r.inputs, {server.id: "<server id>"}), sort_keys=True)
                   for r in log.run.resources if r.name.endswith("-backup-credentials")}
    release_names = {r.name for r in log.registrations if r.type.startswith("command:remote:")} - {
        converge.name, *once, *credentials}
    # the rest of the release's inputs, with the server's identity named: a key change keeps the same server
    release = {r.name: _plain(r.inputs, {server.id: "<server id>"}) for r in log.run.resources
               if r.name in release_names}
    volume = next((r for r in log.run.resources if r.type in changes.VOLUME_INPUTS), None)
    converged = {**converge.inputs["triggers"][1], **credentials}
    return Host(server, release, log.run.outputs["firstBootDigest"], log, converged, once, volume)


def _build_all(vendor: str) -> dict[tuple[str, bool], Host]:
    """One program run per distinct stack: the base one and one per changed key."""
    cases = {(key, changed): _spec_values(vendor, key, changed) for key in changes.CHANGES for changed in (False, True)}
    runs: dict[str, Host] = {}
    for values in cases.values():
        text = json.dumps(values, sort_keys=True)
        if text not in runs:
            runs[text] = _run_main(values)
    return {case: runs[json.dumps(values, sort_keys=True)] for case, values in cases.items()}


def _plain(value: Any, same: dict[str, str]) -> Any:
    """Inputs comparable by value: an uploaded file is its path (FileAsset compares by identity); values in
    `same` stand for what differs between mock hosts but not between two runs of one host."""
    if isinstance(value, pulumi.FileAsset):
        return ("file", str(value.path))
    if isinstance(value, dict):
        return {k: _plain(v, same) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, same) for v in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) in same:
        return same[str(value)]
    return value


def _camel(snake: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), snake)


def observed_effect(vendor: str, before: Host, after: Host) -> str:
    """The effect the providers' rules give to the difference between two registrations of one host."""
    if before.server.type != after.server.type:
        return changes.REPLACE
    # The engine finds the old server by URN (or an alias): found under none, it creates a new server and deletes
    # the old one, whatever its inputs say.
    if after.urns.against(before.urns.urns).claimed.get(after.server_urn) != before.server_urn:
        return changes.REPLACE
    model = changes.SERVER_INPUTS[before.server.type]
    ignored = {_camel(name) for name in host_class(vendor).first_boot_inputs}
    # A reference to another resource is that resource to the engine: its id stays while it is not replaced
    # (the mocks number resources in registration order, so a resource added before it would shift the number).
    b, a = before.referenced(before.server.inputs), after.referenced(after.server.inputs)
    changed = {k for k in set(b) | set(a) if b.get(k) != a.get(k)} - ignored
    forced = {k for k in changed & model.inputs
              if k not in model.only_when_turned_off or (b.get(k) is True and not a.get(k))}
    if forced:
        return changes.REPLACE
    if changed & model.reboot:
        return changes.REBOOT
    if changed:
        return changes.IN_PLACE
    if before.digest != after.digest:
        return _first_boot_effect(before, after)
    if before.converged != after.converged:
        return changes.CONVERGE  # files only the converge delivers (the data concerns), or the bucket's keys
    if before.release != after.release:
        return changes.RELEASE
    if after.runs_once.keys() - before.runs_once.keys():
        return changes.RUN_ONCE  # a command with no update or delete: it runs when it appears, never again
    return changes.NONE


def observed_volume_effect(before: Host, after: Host) -> str:
    """What the providers' rules do to the data volume between two registrations of one host: found under its URN
    (or an alias) with no replacing input changed, it is kept; its attaching inputs follow the server."""
    b, a = before.volume, after.volume
    assert b is not None and a is not None, "the base stack has a data volume"
    if b.type != a.type:
        return changes.VOLUME_REPLACE
    urn_of = {r.urn for r in after.urns.registrations if r.type == a.type and r.name == a.name}
    old_urn = next(r.urn for r in before.urns.registrations if r.type == b.type and r.name == b.name)
    if not any(after.urns.against(before.urns.urns).claimed.get(u) == old_urn for u in urn_of):
        return changes.VOLUME_REPLACE
    model = changes.VOLUME_INPUTS[b.type]
    changed = {k for k in set(b.inputs) | set(a.inputs) if b.inputs.get(k) != a.inputs.get(k)} - model.attaching
    if changed & model.inputs:
        return changes.VOLUME_REPLACE
    return changes.VOLUME_IN_PLACE if changed else changes.VOLUME_KEPT


def _first_boot_effect(before: Host, after: Host) -> str:
    """A first-boot change on a running server: HostConfig converges the files it changes, unless the value also
    reaches the provisioner, whose one-time steps (accounts, swap, the sample release, TLS set-up) read it: those
    need a new server."""
    changed = {p for p in set(before.converged) | set(after.converged)
               if before.converged.get(p) != after.converged.get(p)}
    assert changed, "first boot changed but the converge's triggers name no file"
    return changes.FIRST_BOOT if PROVISION_SCRIPT in changed else changes.CONVERGE


@pytest.fixture(scope="module", params=catalog.VENDORS)
def built(request: pytest.FixtureRequest) -> tuple[str, dict[tuple[str, bool], Host]]:
    vendor: str = request.param
    return vendor, _build_all(vendor)


def test_every_key_has_a_variant_here() -> None:
    assert set(changes.CHANGES) - {"vendor", "region"} == set(VARIANTS)


def _wrong_effects(vendor: str, hosts: dict[tuple[str, bool], Host], keys: list[str]) -> dict[str, str]:
    """key -> how the stated effect (on the server, and on the data volume) differs from what the adapters give."""
    wrong = {}
    for key in keys:
        before, after = hosts[(key, False)], hosts[(key, True)]
        seen = (observed_effect(vendor, before, after), observed_volume_effect(before, after))
        stated_effect = changes.CHANGES[key][vendor]
        stated = (stated_effect.kind, stated_effect.volume)
        if seen != stated:
            wrong[key] = f"stated {stated}, adapters give {seen}"
    return wrong


def test_stated_effects_match_what_the_adapters_register(built: tuple[str, dict[tuple[str, bool], Host]]) -> None:
    vendor, hosts = built
    wrong = _wrong_effects(vendor, hosts, list(changes.CHANGES))
    assert not wrong, f"{vendor}: {wrong}"


def test_no_volume_change_replaces_the_server() -> None:
    """A key whose change touches the data volume leaves the server as it is (at most a converge on it)."""
    for key in ("dataVolumeGb", "keepDataVolume"):
        assert {e.kind for e in changes.CHANGES[key].values()} <= {changes.NONE, changes.CONVERGE}, key


DROPLET = "digitalocean:index/droplet:Droplet"


def _host(inputs: dict[str, Any], digest: str = "d", name: str = "host-server",
          aliases: tuple[AliasSpec, ...] = (), converged: dict[str, str] | None = None) -> Host:
    """A host of one droplet named `name` under the stack, with these inputs (and converged file digests)."""
    log = RegistrationLog("s", registrations=[
        Registration(urns.new_urn("s", PROJECT, "", DROPLET, name), DROPLET, name, "", True, aliases)])
    return Host(RecordedResource(DROPLET, name, inputs, True, "1"), {}, digest, log, converged or {})


def test_the_model_tells_replacement_from_in_place() -> None:
    """The observer itself: a ForceNew input replaces, an ignored one does not, ipv6 only when turned off."""
    host = _host
    assert observed_effect("digitalocean", host({"image": "a"}), host({"image": "b"})) == changes.REPLACE
    assert observed_effect("digitalocean", host({"userData": "a"}), host({"userData": "b"})) == changes.NONE
    assert observed_effect("digitalocean", host({"ipv6": True}), host({"ipv6": False})) == changes.REPLACE
    assert observed_effect("digitalocean", host({"ipv6": False}), host({"ipv6": True})) == changes.IN_PLACE
    assert observed_effect("digitalocean", host({"size": "a"}), host({"size": "b"})) == changes.REBOOT
    files = {"/etc/nftables.conf": "1", PROVISION_SCRIPT: "1"}
    nft = {**files, "/etc/nftables.conf": "2"}
    provisioner = {**files, PROVISION_SCRIPT: "2"}
    assert observed_effect("digitalocean", host({}, "a", converged=files), host({}, "b", converged=nft)) == \
        changes.CONVERGE
    assert observed_effect("digitalocean", host({}, "a", converged=files),
                           host({}, "b", converged=provisioner)) == changes.FIRST_BOOT


def test_the_model_replaces_a_server_whose_urn_changes_unless_aliased() -> None:
    """Same inputs, new name: the engine finds no old server (a new one, the old deleted); an alias finds it."""
    old = _host({"name": "web-1"}, name="web-1-server")
    assert observed_effect("digitalocean", old, _host({"name": "web-1"}, name="web-2-server")) == changes.REPLACE
    aliased = _host({"name": "web-1"}, name="web-2-server", aliases=(AliasSpec(name="web-1-server"),))
    assert observed_effect("digitalocean", old, aliased) == changes.NONE


def _volume_host(volume_type: str, inputs: dict[str, Any], name: str = "host-data") -> Host:
    """A host whose data volume of `volume_type`, named `name`, has these inputs."""
    host = _host({})
    host.urns.registrations.append(
        Registration(urns.new_urn("s", PROJECT, "", volume_type, name), volume_type, name, "", True, ()))
    host.volume = RecordedResource(volume_type, name, inputs, True, "9")
    return host


def test_the_volume_model_tells_replacement_from_in_place_and_attaching() -> None:
    do_volume, linode_volume, disk = "digitalocean:index/volume:Volume", "linode:index/volume:Volume", \
        "aws:lightsail/disk:Disk"
    v = _volume_host
    assert observed_volume_effect(v(do_volume, {"size": 10}), v(do_volume, {"size": 20})) == changes.VOLUME_IN_PLACE
    assert observed_volume_effect(v(do_volume, {"name": "a"}), v(do_volume, {"name": "b"})) == changes.VOLUME_REPLACE
    assert observed_volume_effect(v(disk, {"sizeInGb": 10}), v(disk, {"sizeInGb": 20})) == changes.VOLUME_REPLACE
    assert observed_volume_effect(v(linode_volume, {"linodeId": 1}), v(linode_volume, {"linodeId": 2})) == \
        changes.VOLUME_KEPT  # moved to another server, kept
    assert observed_volume_effect(v(do_volume, {"size": 10}), v(do_volume, {"size": 10}, name="x-data")) == \
        changes.VOLUME_REPLACE  # a new URN: a new volume
