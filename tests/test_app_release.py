"""App releases under mocks: a change of the app touches only the release, secrets stay secret. Packaging the app:
tests/test_app_package.py; the archive cache: tests/test_app_archive_cache.py; shared helpers:
tests/app_release_support.py."""

from __future__ import annotations

import json
import runpy
import shutil
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import rpc

from components.app import (
    DEPLOY_TIMEOUT,
    UPLOAD_TIMEOUT,
    deploy_command,
    package_directory,
    release_id,
    remote_paths,
    upload_dir,
)
from components.config import load_stack_file, parse_host_spec
from components.firstboot import AS_ROOT, cloud_config_gzip_base64, describe_first_boot, render_first_boot
from components.hostconfig import CONVERGE_TIMEOUT
from components.readiness import READY_TIMEOUT, first_boot_wait
from components.testing import mockrun
from components.testing.mockrun import PLACEHOLDER_PUBLIC_HOST_KEY, StackRun, run_program
from tests.app_release_support import EXAMPLE, app_run
from tests.conftest import ROOT, full_config, raw_config

SERVER_SIDE = ("droplet:Droplet", "firewall:Firewall", "reservedIp:ReservedIp", "sshKey:SshKey")


def secret_value(wire: object) -> object:
    """The value inside Pulumi's wire-format secret wrapper; fails when the input was not secret."""
    assert isinstance(wire, dict) and wire.get(rpc._special_sig_key) == rpc._special_secret_sig, wire
    return wire["value"]


def deploy_of(run: StackRun) -> mockrun.RecordedResource:
    """The release's deploy command (every stack also has the host's first-boot-ready command)."""
    (deploy,) = [r for r in run.of_type("remote:Command") if r.name == "app-deploy"]
    return deploy


def test_release_id_follows_code_and_settings() -> None:
    spec = parse_host_spec(raw_config(appSource=str(EXAMPLE)))
    base = release_id(spec, "code-1")
    assert base.startswith("r-") and len(base) == 14
    assert release_id(spec, "code-2") != base
    changed = parse_host_spec(raw_config(appSource=str(EXAMPLE), appEnv=["GREETING=Hi"]))
    assert release_id(changed, "code-1") != base


def test_changing_the_app_ref_changes_only_the_release() -> None:
    one = app_run("https://git.example.com/shop.git", appRef="v1.0.0")
    two = app_run("https://git.example.com/shop.git", appRef="v1.0.1")
    for suffix in SERVER_SIDE:
        assert [r.inputs for r in one.of_type(suffix)] == [r.inputs for r in two.of_type(suffix)], suffix
    deploy_one, deploy_two = deploy_of(one), deploy_of(two)
    assert deploy_one.inputs["triggers"][0] != deploy_two.inputs["triggers"][0]
    assert "--ref v1.0.1" in deploy_two.inputs["create"] and "--git https://git.example.com/shop.git" in \
        deploy_two.inputs["create"]
    assert one.outputs["appRelease"] != two.outputs["appRelease"]
    assert one.outputs["firstBootDigest"] == two.outputs["firstBootDigest"]


def test_changing_app_files_changes_only_the_release(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    one = app_run(str(app))
    (app / "app.py").write_text((app / "app.py").read_text().replace("Hello", "Hi"))
    two = app_run(str(app))
    for suffix in SERVER_SIDE:
        assert [r.inputs for r in one.of_type(suffix)] == [r.inputs for r in two.of_type(suffix)], suffix
    uploads_one = {r.name: r.inputs["remotePath"] for r in one.of_type("remote:CopyToRemote")}
    uploads_two = {r.name: r.inputs["remotePath"] for r in two.of_type("remote:CopyToRemote")}
    assert len(uploads_one) == 2 and uploads_one != uploads_two
    assert one.outputs["appRelease"] != two.outputs["appRelease"]


def test_secrets_are_secret_in_state_and_absent_from_outputs() -> None:
    secret = "SECRET_KEY=s3cr3t-value\nDATABASE_URL=postgres://u:pw@db/x"
    run = app_run(str(EXAMPLE), appSecrets=secret)
    deploy = deploy_of(run)
    # Sent as the EnvironmentFile the host stores with the release: every value double-quoted for systemd.
    assert secret_value(deploy.inputs["stdin"]) == ('SECRET_KEY="s3cr3t-value"\n'
                                                    'DATABASE_URL="postgres://u:pw@db/x"\n')
    # The triggers carry the secret's digest (a rotation redeploys), so Pulumi keeps them secret as a whole.
    assert len(secret_value(deploy.inputs["triggers"])) == 3  # type: ignore[arg-type]
    assert "--env-file -" in deploy.inputs["create"]
    assert "s3cr3t" not in deploy.inputs["create"]
    assert "s3cr3t" not in json.dumps(run.outputs)


def test_bad_secret_lines_are_reported_without_their_value() -> None:
    with pytest.raises(Exception) as err:
        app_run(str(EXAMPLE), appSecrets="SECRET_KEY=fine\nthis-is-a-leaked-password")
    assert "hardened-vps:appSecrets: line 2 is not KEY=value" in str(err.value)
    assert "leaked-password" not in str(err.value)


@pytest.mark.parametrize(("overrides", "needle"), [
    ({"appSource": "https://git.example.com/x.git"}, "hardened-vps:appRef: missing"),
    ({"appSource": "no/such/dir"}, "hardened-vps:appSource: 'no/such/dir' is neither a directory"),
    ({"appSource": str(EXAMPLE), "appModule": "app"}, "hardened-vps:appModule: 'app' is not an entry point"),
    ({"appSource": str(EXAMPLE), "appServer": "uwsgi"}, "hardened-vps:appServer: 'uwsgi' is not supported"),
    ({"appEnv": ["NOEQUALS"]}, "hardened-vps:appEnv: 'NOEQUALS' is not KEY=value"),
])
def test_bad_app_config(overrides: dict[str, object], needle: str) -> None:
    from components.config import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(**overrides))
    assert any(needle in p for p in err.value.problems), err.value.problems


def test_deploy_command_waits_for_first_boot_and_removes_no_upload() -> None:
    spec = parse_host_spec(raw_config(appSource=str(EXAMPLE), appServer="asgi", appWorkers="3",
                                      appEnv=["GREETING=Hello world"]))
    package = package_directory(EXAMPLE)
    cmd = deploy_command(spec, "r-abc", package, with_secrets=False)
    script, archive = remote_paths(spec, package)
    assert cmd.startswith(f"{first_boot_wait()} && {AS_ROOT} bash ")  # fails with the state text unless complete
    assert "--server asgi --workers 3" in cmd and """--env 'GREETING="Hello world"'""" in cmd
    assert f"{AS_ROOT} bash {script} " in cmd and f"--archive {archive} " in cmd
    assert cmd.endswith(f"--prune-uploads {upload_dir(spec)}")
    assert "rm " not in cmd  # a re-run (any input change) must find what its own inputs name


def test_upload_paths_are_content_addressed_in_the_admins_home(tmp_path: Path) -> None:
    spec = parse_host_spec(raw_config(appSource=str(EXAMPLE)))
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    script, archive = remote_paths(spec, package_directory(app))
    assert script.startswith("/home/deploy/.hvps-uploads/hvps-release-") and archive is not None
    assert remote_paths(spec, package_directory(app)) == (script, archive)
    (app / "app.py").write_text("changed = True\n")
    assert remote_paths(spec, package_directory(app)) == (script, remote_paths(spec, package_directory(app))[1])
    assert remote_paths(spec, package_directory(app))[1] != archive
    git = parse_host_spec(raw_config(appSource="https://git.example.com/x.git", appRef="v1"))
    assert remote_paths(git, None)[1] is None


def run_recording_options(config: dict[str, str], stack: str, secret_keys: list[str] | None = None,
                          ) -> tuple[StackRun, dict[str, pulumi.ResourceOptions]]:
    """The real program under mocks, and the resource options each resource was given."""
    options: dict[str, pulumi.ResourceOptions] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        options[args.name] = args.opts

    def program() -> None:
        pulumi.runtime.register_stack_transformation(record)
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    return run_program(config, stack=stack, secret_keys=secret_keys, program=program), options


def app_options(**overrides: object) -> tuple[StackRun, dict[str, pulumi.ResourceOptions]]:
    """A stack run with the app, and the resource options each child of the release was given."""
    secret_keys = ["hardened-vps:appSecrets"] if "appSecrets" in overrides else []
    return run_recording_options(full_config(appSource=str(EXAMPLE), **overrides), "app", secret_keys)


def test_every_connection_pins_the_host_key_and_stores_no_agent_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/ssh-XXXX/agent.1234")
    run, options = app_options()
    remote = [*run.of_type("remote:CopyToRemote"), *run.of_type("remote:Command")]
    assert len(remote) == 5  # script and archive uploads, the deploy, first-boot-ready and the host converge
    for r in remote:
        connection = secret_value(r.inputs["connection"])  # the SDK keeps connections secret
        assert isinstance(connection, dict)
        assert connection["hostKey"] == PLACEHOLDER_PUBLIC_HOST_KEY.strip(), r.name
        assert "agentSocketPath" not in connection and "agent.1234" not in json.dumps(connection, default=str)
        assert connection["dialErrorLimit"] == -1
        timeouts = options[r.name].custom_timeouts
        assert timeouts is not None and timeouts.create in (UPLOAD_TIMEOUT, DEPLOY_TIMEOUT, READY_TIMEOUT,
                                                            CONVERGE_TIMEOUT)
        assert timeouts.update == timeouts.create
    server = run.one("droplet:Droplet")
    for r in remote:  # a rebuilt server (new id) gets the release again
        assert server.id in r.inputs["triggers"], r.name
    assert run.outputs["sshHostKey"] == PLACEHOLDER_PUBLIC_HOST_KEY.strip()


def test_the_sample_app_needs_no_release() -> None:
    run = run_program(full_config(), stack="noapp")
    assert [r.name for r in run.of_type("remote:Command")] == ["host-first-boot-ready", "host-config-converge"]
    assert not run.of_type("remote:CopyToRemote") and "appRelease" not in run.outputs


#: A stand-in private host key that appears nowhere else, so any place it shows up is a leak.
MARKED_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "bGVha2VkLWhvc3Qta2V5LW1hcmtlcg" * 10
              + "\n-----END OPENSSH PRIVATE KEY-----\n")


def _marked_key_mocks(monkeypatch: pytest.MonkeyPatch) -> None:
    computed = dict(mockrun.COMPUTED)
    computed["tls:index/privateKey:PrivateKey"] = {**computed["tls:index/privateKey:PrivateKey"],
                                                   "privateKeyOpenssh": MARKED_KEY}
    monkeypatch.setattr(mockrun, "COMPUTED", computed)


def _unsecret(value: object) -> object:
    """The value with every secret removed: what state shows in plain text and a preview prints."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return "[secret]"
        return {k: _unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecret(v) for v in value]
    return value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("stack", ["do-dev", "linode-dev", "lightsail-dev", "prod"])
def test_the_private_host_key_is_sent_only_as_a_secret(stack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools import plan

    _marked_key_mocks(monkeypatch)
    path = ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    run = mockrun.run_stack_file(path)
    spec = load_stack_file(path)
    with_key = render_first_boot(spec, host_key=MARKED_KEY)
    forms = {with_key.cloud_config, with_key.launch_script, cloud_config_gzip_base64(with_key.cloud_config)}
    assert forms & set(_strings([r.inputs for r in run.resources])), "the server carries the engine-made key"
    shown = list(_strings([_unsecret(r.inputs) for r in run.resources]))
    assert not forms & set(shown) and not any("PRIVATE KEY" in v for v in shown)
    assert "PRIVATE KEY" not in json.dumps(run.outputs)
    text = plan.render_text(plan.plan_document(stack, spec, render_first_boot(spec), run, plan.config_rows(path)))
    assert MARKED_KEY.splitlines()[1] not in text and "PRIVATE KEY" not in text


def test_the_unit_reads_the_active_releases_secrets_and_nginx_follows_no_link() -> None:
    files = {f.path: f.content for f in describe_first_boot(parse_host_spec(raw_config(appName="shop"))).files}
    unit = next(c for p, c in files.items() if p.endswith("shop.service"))
    assert "EnvironmentFile=-/srv/shop/current/secrets.env" in unit and "/etc/shop/env" not in unit
    locations = next(c for p, c in files.items() if "locations" in p)
    static = locations.split("location /static/ {", 1)[1].split("}", 1)[0]
    assert "disable_symlinks on;" in static
