"""App releases under mocks: a change of the app touches only the release, secrets stay secret."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from components.app import deploy_command, package_directory, release_id
from components.config import parse_host_spec
from components.mockrun import StackRun, run_program
from tests.conftest import ROOT, full_config, raw_config

EXAMPLE = ROOT / "examples" / "flask-app"
SERVER_SIDE = ("droplet:Droplet", "firewall:Firewall", "reservedIp:ReservedIp", "sshKey:SshKey")


def secret_value(wire: object) -> object:
    """The value inside Pulumi's wire-format secret wrapper; fails when the input was not secret."""
    assert isinstance(wire, dict) and wire.get(rpc._special_sig_key) == rpc._special_secret_sig, wire
    return wire["value"]


def app_run(source: str, **overrides: object) -> StackRun:
    secret_keys = ["hardened-vps:appSecrets"] if "appSecrets" in overrides else []
    return run_program(full_config(appSource=source, **overrides), stack="app", secret_keys=secret_keys)


def test_packaging_is_reproducible_and_skips_junk(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    first = package_directory(app)
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (app / ".env").write_text("SECRET_KEY=do-not-ship")
    second = package_directory(app)
    assert first == second
    assert set(first.files) == {"app.py", "requirements.txt", "static/style.css"}
    (app / "app.py").write_text((app / "app.py").read_text() + "\n# changed\n")
    assert package_directory(app).digest != first.digest


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
    deploy_one, deploy_two = one.one("remote:Command"), two.one("remote:Command")
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
    deploy = run.one("remote:Command")
    assert secret_value(deploy.inputs["stdin"]) == secret
    # The triggers carry the secret's digest (a rotation redeploys), so Pulumi keeps them secret as a whole.
    assert len(secret_value(deploy.inputs["triggers"])) == 2  # type: ignore[arg-type]
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


def test_deploy_command_waits_for_first_boot_and_cleans_up() -> None:
    spec = parse_host_spec(raw_config(appSource=str(EXAMPLE), appServer="asgi", appWorkers="3",
                                      appEnv=["GREETING=Hello world"]))
    cmd = deploy_command(spec, "r-abc", with_archive=True, with_secrets=False)
    assert cmd.startswith("cloud-init status --wait")
    assert "--server asgi --workers 3" in cmd and "--env 'GREETING=Hello world'" in cmd
    assert cmd.endswith("rm -f /tmp/hvps-release-r-abc.sh /tmp/hvps-app-r-abc.tar.gz; exit $rc")


def test_the_sample_app_needs_no_release() -> None:
    run = run_program(full_config(), stack="noapp")
    assert not run.of_type("remote:Command") and "appRelease" not in run.outputs
