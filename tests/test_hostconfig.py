"""HostConfig under mocks: every vendor converges the running host after first boot, before the app, and a
config edit reaches only the converge, never the server."""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from components import changes, firstboot
from components.config import parse_host_spec
from components.firstboot import CONVERGE_COMMAND, HOST_KEY_PATH, converge_bundle, converge_digests, wire
from components.firstboot.concerns import CONVERGE_CODE_PATH
from components.hostconfig import converge_stdin
from components.testing.mockrun import PLACEHOLDER_PUBLIC_HOST_KEY, RecordedResource, StackRun, run_program
from components.vendors import host_class
from tests.conftest import ED25519_KEY, ROOT, RSA_4096_KEY, full_config, raw_config
from tests.test_app_release import run_recording_options

REGIONS = {"digitalocean": "fra1", "linode": "fr-par", "lightsail": "eu-central-1"}
SERVER_TYPES = {"digitalocean": "digitalocean:index/droplet:Droplet", "linode": "linode:index/instance:Instance",
                "lightsail": "aws:lightsail/instance:Instance"}
EXAMPLE = ROOT / "examples" / "flask-app"


def options_run(vendor: str, **overrides: object) -> tuple[StackRun, dict[str, pulumi.ResourceOptions]]:
    """The real program (with the example app) on `vendor`, and the options each resource was given."""
    config = full_config(vendor=vendor, region=REGIONS[vendor], appSource=str(EXAMPLE), **overrides)
    return run_recording_options(config, "hc")


def names(resources: object) -> list[str]:
    return [getattr(r, "_name", "") for r in (resources if isinstance(resources, list) else [])]


def converge_of(run: StackRun) -> RecordedResource:
    (found,) = [r for r in run.of_type("remote:Command") if r.name == "host-config-converge"]
    return found


@pytest.mark.parametrize("vendor", list(REGIONS))
def test_every_vendor_converges_after_first_boot_and_before_the_app(vendor: str) -> None:
    run, options = options_run(vendor)
    spec = parse_host_spec(raw_config(vendor=vendor, region=REGIONS[vendor], appSource=str(EXAMPLE)), stack="hc")
    component = run.one("index:HostConfig")
    assert not component.custom and component.name == "host-config"
    assert getattr(options["host-config"].parent, "_name", None) == "host"  # a child of the WebHost component
    assert getattr(options["host-config-converge"].parent, "_name", None) == "host-config"
    assert names(options["host-config-converge"].depends_on) == ["host-first-boot-ready"]
    for child in ("app-deploy", "app-script", "app-archive"):  # config before app
        assert "host-config-converge" in names(options[child].depends_on), child

    converge = converge_of(run)
    assert converge.inputs["create"] == converge.inputs["update"] == CONVERGE_COMMAND
    assert "delete" not in converge.inputs  # removing HostConfig (or a replaced copy) runs nothing on the host
    assert converge.inputs["stdin"] == base64.b64encode(converge_bundle(spec)).decode() == converge_stdin(spec)
    ready = next(r for r in run.resources if r.name == "host-first-boot-ready")
    identity, files = converge.inputs["triggers"]
    assert identity == ready.inputs["triggers"][0] and identity  # a rebuilt server is converged again
    assert files == converge_digests(spec) and all(re.fullmatch(r"[0-9a-f]{12}", d) for d in files.values())
    connection = converge.inputs["connection"]["value"]  # the SDK keeps the connection secret
    assert connection["user"] == spec.admin_user and connection["hostKey"] == PLACEHOLDER_PUBLIC_HOST_KEY.strip()
    timeouts = options["host-config-converge"].custom_timeouts
    assert timeouts is not None and timeouts.create == timeouts.update


def test_the_converge_bundle_is_first_boots_files_without_the_host_key_and_with_its_code() -> None:
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com"), stack="hc")
    members = {e.path: (e.content.decode(), f"{e.mode:04o}") for e in wire.unpack(converge_bundle(spec))}
    boot = firstboot.describe_first_boot(spec).files
    code = members.pop(CONVERGE_CODE_PATH)
    converged = firstboot.describe_first_boot(spec, converge=True).files  # with the concerns only it delivers
    assert members == {f.path: (f.content, f.mode) for f in converged if f.path != HOST_KEY_PATH}
    assert code[1] == "0600" and "converge_one()" in code[0]
    assert "converge_one()" not in "".join(f.content for f in boot)  # first boot never carries it
    assert HOST_KEY_PATH not in converge_digests(spec) and not any("PRIVATE KEY" in c for c, _ in members.values())
    assert converge_bundle(spec) == converge_bundle(spec)  # reproducible: no change, no new input


def _server_inputs_seen(run: StackRun, vendor: str) -> dict[str, Any]:
    """The server's inputs as the engine diffs them: the first-boot inputs it ignores after creation left out."""
    ignored = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), n) for n in host_class(vendor).first_boot_inputs}
    server = run.one(SERVER_TYPES[vendor].rsplit(":", 1)[-1])
    return {k: v for k, v in server.inputs.items() if k not in ignored}


def inputs_of(run: StackRun, name: str, vendor: str) -> str:
    """A resource's inputs, the mock's server id named (mock ids count registrations: an added key shifts them)."""
    server = run.one(SERVER_TYPES[vendor].rsplit(":", 1)[-1])
    text = json.dumps(next(r for r in run.resources if r.name == name).inputs, sort_keys=True, default=str)
    return text.replace(f'"{server.id}"', '"<server id>"')


@pytest.fixture
def edited_template(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Append a comment-free line to one template, as an edit in the repository would."""
    original = firstboot.templating._template

    def edit(name: str) -> None:
        monkeypatch.setattr(firstboot.templating, "_template", lambda n: original(n) + ("x = 1\n" if n == name else ""))

    yield edit


EDITS = {
    "sysctl": ("template", "etc/sysctl.d/90-hvps-hardening.conf", {"/etc/sysctl.d/90-hvps-hardening.conf"}),
    "nginx": ("template", "etc/nginx/snippets/hvps-security-headers.conf",
              {"/etc/nginx/snippets/hvps-security-headers.conf"}),
    "admin-key": ("config", "sshPublicKeys", {"/etc/hvps/admin_authorized_keys"}),
}


@pytest.mark.parametrize("vendor", list(REGIONS))
@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_changes_only_the_converge(vendor: str, edit: str, edited_template: Callable[[str], None]) -> None:
    before, _ = options_run(vendor)
    kind, what, paths = EDITS[edit]
    if kind == "template":
        edited_template(what)
        after, _ = options_run(vendor)
    else:
        after, _ = options_run(vendor, sshPublicKeys=[ED25519_KEY, RSA_4096_KEY])
    assert _server_inputs_seen(after, vendor) == _server_inputs_seen(before, vendor)  # the server is not touched
    old, new = converge_of(before).inputs, converge_of(after).inputs
    assert new["stdin"] != old["stdin"]
    changed = {p for p in old["triggers"][1] | new["triggers"][1]
               if old["triggers"][1].get(p) != new["triggers"][1].get(p)}
    assert changed == paths  # the preview's diff names exactly the files the edit changes
    for name in ("host-first-boot-ready", "app-deploy"):  # neither waits nor redeploys
        assert inputs_of(after, name, vendor) == inputs_of(before, name, vendor), name


def test_no_change_registers_the_same_converge() -> None:
    first, second = options_run("digitalocean")[0], options_run("digitalocean")[0]
    assert converge_of(first).inputs == converge_of(second).inputs


def test_first_boot_applied_says_what_converges_and_what_needs_reprovision() -> None:
    run = run_program(full_config(), stack="hc")
    needs = changes.keys_by_effect("digitalocean").get(changes.FIRST_BOOT, [])
    applied = run.outputs["firstBootApplied"]
    assert "HostConfig" in applied and applied.endswith(", ".join(needs)) and "sshPublicKeys" not in applied
    rebuilt = run_program(full_config(reprovision=True), stack="hc").outputs["firstBootApplied"]
    assert "rebuilding the server" in rebuilt


def test_backup_keys_reach_the_host_over_ssh_as_secrets_never_in_first_boot_or_the_converge() -> None:
    from components.hostconfig import CREDENTIALS_TIMEOUT, STORE_CREDENTIALS_COMMAND
    from tests.test_app_release import secret_value

    data = {"dataVolumeGb": "10", "backupBucket": "shop-backups", "backupEndpoint": "https://fra1.digitaloceanspaces.com",
            "backupRecipient": "age1" + "q" * 58, "backupAccessKeyId": "AKIDEXAMPLE",
            "backupSecretAccessKey": "very$ecret-key"}
    secret_keys = ["hardened-vps:backupAccessKeyId", "hardened-vps:backupSecretAccessKey"]
    run, options = run_recording_options(full_config(vendor="linode", region="fr-par", **data), "hc", secret_keys)
    (store,) = [r for r in run.of_type("remote:Command") if r.name == "host-config-backup-credentials"]
    assert store.inputs["create"] == store.inputs["update"] == STORE_CREDENTIALS_COMMAND
    assert secret_value(store.inputs["stdin"]) == ('RCLONE_CONFIG_HVPS_ACCESS_KEY_ID="AKIDEXAMPLE"\n'
                                                   'RCLONE_CONFIG_HVPS_SECRET_ACCESS_KEY="very\\$ecret-key"\n')
    assert names(options["host-config-backup-credentials"].depends_on) == ["host-config-converge"]
    timeouts = options["host-config-backup-credentials"].custom_timeouts      # the dial retries only until then
    assert timeouts is not None and timeouts.create == timeouts.update == CREDENTIALS_TIMEOUT
    # nowhere else: not in the converge (a plain input), not in any other resource's inputs
    for r in run.resources:
        if r.name != "host-config-backup-credentials":
            assert "very$ecret-key" not in json.dumps(r.inputs, default=str), r.name
    spec = parse_host_spec(raw_config(vendor="linode", region="fr-par", **data), stack="hc")
    assert converge_of(run).inputs["stdin"] == converge_stdin(spec)
    assert not [f.path for f in firstboot.converge_files(spec).files if "AKIDEXAMPLE" in f.content]
    plain, _ = run_recording_options(full_config(vendor="linode", region="fr-par", dataVolumeGb="10"), "hc")
    assert not [r for r in plain.of_type("remote:Command") if r.name == "host-config-backup-credentials"]


def test_one_converge_runs_at_a_time_and_a_waiting_one_gives_up_before_pulumi_does() -> None:
    """Through hvps-root a converge runs under PID 1 and outlives a `pulumi up` that gave up on it: the next one
    waits for its lock (flock), less long than the resource's own timeout, and never shares its staging."""
    from components.firstboot.converge import CONVERGE_LOCK_WAIT_S
    from components.hostconfig import CONVERGE_TIMEOUT
    words = shlex.split(CONVERGE_COMMAND.split(") ", 1)[1])
    assert words == ["flock", "-w", str(CONVERGE_LOCK_WAIT_S), "/run/hvps-converge.lock",
                     "/usr/local/sbin/hvps-converge"]
    assert CONVERGE_TIMEOUT.endswith("m") and int(CONVERGE_TIMEOUT[:-1]) * 60 > CONVERGE_LOCK_WAIT_S
