"""App releases under mocks: a change of the app touches only the release, secrets stay secret."""

from __future__ import annotations

import io
import json
import os
import runpy
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import rpc

from components.app import (
    CACHE_KEEP_SECONDS,
    DEPLOY_TIMEOUT,
    UPLOAD_TIMEOUT,
    AppPackageError,
    ReleaseCacheError,
    archive_file,
    deploy_command,
    package_directory,
    release_cache_dir,
    release_id,
    remote_paths,
    upload_dir,
)
from components.config import load_stack_file, parse_host_spec
from components.firstboot import describe_first_boot, linode_user_data, render_first_boot
from components.hostconfig import CONVERGE_TIMEOUT
from components.readiness import READY_TIMEOUT, first_boot_wait
from components.testing import mockrun
from components.testing.mockrun import PLACEHOLDER_PUBLIC_HOST_KEY, StackRun, run_program
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



def deploy_of(run: StackRun) -> mockrun.RecordedResource:
    """The release's deploy command (every stack also has the host's first-boot-ready command)."""
    (deploy,) = [r for r in run.of_type("remote:Command") if r.name == "app-deploy"]
    return deploy


def test_packaging_is_reproducible_and_skips_junk(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    first = package_directory(app)
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (app / ".env").write_text("SECRET_KEY=do-not-ship")
    second = package_directory(app)
    assert (first.data, first.digest, first.files) == (second.data, second.digest, second.files)
    assert second.skipped == (".env (an environment file)",)
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
    assert cmd.startswith(first_boot_wait() + " && sudo bash ")  # fails with the state text unless complete
    assert "--server asgi --workers 3" in cmd and """--env 'GREETING="Hello world"'""" in cmd
    assert f"sudo bash {script} " in cmd and f"--archive {archive} " in cmd
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
    forms = {with_key.cloud_config, with_key.launch_script, linode_user_data(with_key.cloud_config)}
    assert forms & set(_strings([r.inputs for r in run.resources])), "the server carries the engine-made key"
    shown = list(_strings([_unsecret(r.inputs) for r in run.resources]))
    assert not forms & set(shown) and not any("PRIVATE KEY" in v for v in shown)
    assert "PRIVATE KEY" not in json.dumps(run.outputs)
    text = plan.render_text(plan.plan_document(stack, spec, render_first_boot(spec), run, plan.config_rows(path)))
    assert MARKED_KEY.splitlines()[1] not in text and "PRIVATE KEY" not in text


# --- what a release carries: no secrets by accident ---------------------------------------------------------

PEM_KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _app_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    for name, data in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_bytes(data)
    return app


def test_secret_looking_files_are_left_out_and_listed(tmp_path: Path) -> None:
    app = _app_with(tmp_path, {".env.production": b"SECRET=1", ".env.local": b"SECRET=2", "id_rsa": PEM_KEY,
                               "deploy/id_ed25519.pub": b"ssh-ed25519 AAAA", "config/secrets.json": b"{}",
                               "tls/server.key": PEM_KEY, "tls/server.pem": PEM_KEY, "tls/ca.pem": CERT,
                               "config/settings.json": b"{}"})
    package = package_directory(app)
    assert set(package.files) == {"app.py", "requirements.txt", "static/style.css", "tls/ca.pem",
                                  "config/settings.json"}
    assert sorted(s.split(" (")[0] for s in package.skipped) == sorted(
        [".env.local", ".env.production", "id_rsa", "deploy/id_ed25519.pub", "config/secrets.json",
         "tls/server.key", "tls/server.pem"])
    with tarfile.open(fileobj=io.BytesIO(package.data)) as tar:
        assert b"PRIVATE KEY" not in b"".join(tar.extractfile(m).read() for m in tar if m.isfile())  # type: ignore


def test_a_private_key_under_another_name_stops_packaging_with_the_way_out(tmp_path: Path) -> None:
    app = _app_with(tmp_path, {"config/deploy.txt": b"notes\n" + PEM_KEY})
    with pytest.raises(AppPackageError) as err:
        package_directory(app)
    message = str(err.value)
    assert "hardened-vps:appSource: config/deploy.txt holds a private key" in message and ".hvpsignore" in message
    (app / ".hvpsignore").write_text("# not for the server\nconfig/deploy.txt\n")
    package = package_directory(app)
    assert "config/deploy.txt" not in package.files and ".hvpsignore" not in package.files


def test_links_in_the_app_directory_are_refused(tmp_path: Path) -> None:
    app = _app_with(tmp_path, {})
    (app / "static" / "etc").symlink_to("/etc")
    with pytest.raises(AppPackageError, match="static/etc is a symbolic link"):
        package_directory(app)


def test_the_preview_lists_what_was_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: shown.append(message))
    app_run(str(_app_with(tmp_path, {".env.production": b"SECRET=1"})))
    assert any(".env.production (an environment file)" in m for m in shown), shown


def test_the_unit_reads_the_active_releases_secrets_and_nginx_follows_no_link() -> None:
    files = {f.path: f.content for f in describe_first_boot(parse_host_spec(raw_config(appName="shop"))).files}
    unit = next(c for p, c in files.items() if p.endswith("shop.service"))
    assert "EnvironmentFile=-/srv/shop/current/secrets.env" in unit and "/etc/shop/env" not in unit
    locations = next(c for p, c in files.items() if "locations" in p)
    static = locations.split("location /static/ {", 1)[1].split("}", 1)[0]
    assert "disable_symlinks on;" in static


# --- building a release writes nothing into the repository -------------------------------------------------------

NOT_WRITTEN_BY_THE_PROGRAM = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def working_tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the working tree with its size and modification time (Python's bytecode caches and the
    tools' caches left out: the interpreter writes those, not the program)."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in NOT_WRITTEN_BY_THE_PROGRAM]
        for name in filenames:
            stat = (Path(dirpath) / name).lstat()
            found[str(Path(dirpath, name).relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def test_an_app_stack_run_writes_nothing_to_the_working_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The program (an app from a local directory, never packed before) leaves the repository as it was, whatever
    the working directory; the archive waits in the user's cache, named by its content, holding the packed bytes."""
    app = _app_with(tmp_path, {"version.txt": f"built for {tmp_path.name}\n".encode()})
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    before = working_tree(ROOT)
    run = app_run(str(app))
    assert working_tree(ROOT) == before
    assert list((tmp_path / "cwd").iterdir()) == []
    (upload,) = [r for r in run.of_type("remote:CopyToRemote") if r.name == "app-archive"]
    source = upload.inputs["source"]
    assert isinstance(source, pulumi.FileAsset)
    package = package_directory(app)
    assert Path(str(source.path)) == cache / "hardened-vps" / "releases" / f"app-{package.digest[:16]}.tar.gz"
    assert Path(str(source.path)).read_bytes() == package.data
    assert [p.name for p in (cache / "hardened-vps" / "releases").iterdir()] == [Path(str(source.path)).name]


def test_a_cached_archive_with_other_bytes_is_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = package_directory(_app_with(tmp_path, {}))
    path = archive_file("shop", package)
    path.write_bytes(b"truncated")
    assert archive_file("shop", package) == path and path.read_bytes() == package.data


def test_the_archive_is_private_and_a_relative_cache_setting_is_ignored(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative XDG_CACHE_HOME would land in the working tree (the XDG spec says to ignore it); the archive is
    0600 in a 0700 directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = archive_file("shop", package_directory(_app_with(tmp_path, {})))
    assert path.parent == tmp_path / "home" / ".cache" / "hardened-vps" / "releases"
    assert not (tmp_path / "relative-cache").exists()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_cache_others_may_write_to_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another user able to write there could swap the archive between its digest check and the upload."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shared = tmp_path / "cache" / "hardened-vps" / "releases"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    with pytest.raises(ReleaseCacheError, match="not private to this user"):
        archive_file("shop", package_directory(_app_with(tmp_path, {})))


def test_without_a_home_the_error_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    with pytest.raises(ReleaseCacheError, match="set XDG_CACHE_HOME to an absolute path"):
        release_cache_dir()


def test_old_archives_and_partial_writes_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archives of the app older than a week go when a new one is written; recent ones (a run in flight) stay."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    releases = tmp_path / "cache" / "hardened-vps" / "releases"
    releases.mkdir(parents=True, mode=0o700)
    week_old = os.path.getmtime(releases) - CACHE_KEEP_SECONDS - 60
    stale = {name: releases / name for name in ("shop-0000000000000000.tar.gz", ".x.tar.gz.1.partial")}
    for path in stale.values():
        path.write_bytes(b"old")
        os.utime(path, (week_old, week_old))
    recent = releases / "shop-1111111111111111.tar.gz"
    other_app = releases / "blog-2222222222222222.tar.gz"
    for path in (recent, other_app):
        path.write_bytes(b"recent")
    os.utime(other_app, (week_old, week_old))
    current = archive_file("shop", package_directory(_app_with(tmp_path, {})))
    assert sorted(p.name for p in releases.iterdir()) == sorted([current.name, recent.name, other_app.name])


def test_the_fast_suite_writes_archives_to_a_cache_of_its_own() -> None:
    """Running the program in the suite must not fill the developer's ~/.cache (conftest gives it a temp cache)."""
    cache = Path(os.environ["XDG_CACHE_HOME"])
    assert cache.name.startswith("hvps-test-cache-") and not cache.is_relative_to(Path.home())
    assert release_cache_dir().is_relative_to(cache)
