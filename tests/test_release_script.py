"""hvps-release on its own: a real bash run in a temporary root, with systemctl, curl and python3 stubbed. This
module checks a release's way through: build, switch, health check and rollback, the secrets that go with the code,
keeping the newest releases, argument checks, pruning uploads. Hostile releases: tests/test_release_script_hostile.py;
the integrity baseline: tests/test_release_script_baseline.py; the stubs and helpers: tests/release_script_support.py.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from components.app import RELEASE_SCRIPT
from tests.release_script_support import BUILDER, STACK_ARGS, archive, current, make_host, release


@pytest.fixture
def host(tmp_path: Path) -> Path:
    return make_host(tmp_path)


def test_deploy_builds_a_venv_switches_and_restarts(host: Path) -> None:
    result = release(host, "r-1", "--server", "asgi", "--workers", "3", "--env", 'GREETING="Hello world"')
    assert result.returncode == 0, result.stderr
    assert current(host) == "r-1" and "active; switch and health check took" in result.stdout
    target = host / "srv/app/releases/r-1"
    assert (target / ".ready").exists() and (target / "app.py").exists()
    env = (target / "release.env").read_text().splitlines()
    assert env[:3] == ["APP_MODULE=app:app",
                       "GUNICORN_CMD_ARGS=--workers 3 --worker-class uvicorn.workers.UvicornWorker",
                       "HVPS_RELEASE=r-1"]
    assert 'GREETING="Hello world"' in env
    calls = (host / "calls.log").read_text()
    assert f"{BUILDER}] install --quiet --disable-pip-version-check --no-input -r" in calls
    assert f"{BUILDER}] install --quiet --disable-pip-version-check --no-input gunicorn uvicorn" in calls
    assert "systemctl restart app.service" in calls
    assert "--unix-socket" in calls and "http://localhost/healthz" in calls
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert stat.S_IMODE((target / "app.py").stat().st_mode) & 0o007 == 0  # code is not world-readable
    assert stat.S_IMODE((target / "static/style.css").stat().st_mode) & 0o004  # static files are


def test_failed_health_check_rolls_back_to_the_previous_release(host: Path) -> None:
    assert release(host, "r-1").returncode == 0
    assert release(host, "r-2").returncode == 0
    bad = release(host, "r-3", broken=True)
    assert bad.returncode == 1
    assert "health check /healthz failed" in bad.stdout and "rolled back to r-2" in bad.stdout
    assert current(host) == "r-2"
    assert (host / "calls.log").read_text().count("systemctl restart app.service") == 4


def test_secret_env_from_stdin_is_root_only_group_readable(host: Path) -> None:
    assert release(host, "r-1", "--env-file", "-", stdin='SECRET_KEY="abc"\n').returncode == 0
    env_file = host / "srv/app/current/secrets.env"
    assert env_file.read_text() == 'SECRET_KEY="abc"\n'
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640
    assert not list(host.glob("run/hvps-secrets.*"))  # the stdin copy is gone


def test_rollback_brings_back_the_old_secrets(host: Path) -> None:
    """Secrets and code roll back together: the unit reads current/secrets.env."""
    assert release(host, "r-1", "--env-file", "-", stdin='SECRET_KEY="one"\n').returncode == 0
    bad = release(host, "r-2", "--env-file", "-", stdin='SECRET_KEY="two"\n', broken=True)
    assert bad.returncode == 1 and "rolled back to r-1" in bad.stdout
    assert (host / "srv/app/current/secrets.env").read_text() == 'SECRET_KEY="one"\n'
    assert "two" not in "".join(p.read_text() for p in host.rglob("*env*") if p.is_file())


def test_a_rotation_that_fails_its_health_check_restores_the_secrets(host: Path) -> None:
    """Same code, new secrets, unhealthy: the release is restarted with the secrets it had."""
    assert release(host, "r-1", "--env-file", "-", stdin='SECRET_KEY="one"\n').returncode == 0
    (host / "srv/app/current/BROKEN").write_text("the new secret breaks it")
    assert release(host, "r-1", "--env-file", "-", stdin='SECRET_KEY="two"\n').returncode == 1
    assert (host / "srv/app/current/secrets.env").read_text() == 'SECRET_KEY="one"\n'
    assert current(host) == "r-1"


def test_a_release_without_secrets_drops_the_old_ones(host: Path) -> None:
    assert release(host, "r-1", "--env-file", "-", stdin='SECRET_KEY="one"\n').returncode == 0
    assert release(host, "r-1").returncode == 0
    assert not (host / "srv/app/current/secrets.env").exists()


def test_keeps_only_the_newest_releases(host: Path) -> None:
    for n in range(1, 6):
        assert release(host, f"r-{n}", keep=2).returncode == 0
    kept = sorted(p.name for p in (host / "srv/app/releases").iterdir())
    assert kept == ["r-4", "r-5"] and current(host) == "r-5"


def test_redeploying_an_existing_release_reuses_its_build(host: Path) -> None:
    assert release(host, "r-1").returncode == 0
    assert release(host, "r-2").returncode == 0
    again = release(host, "r-1")
    assert again.returncode == 0 and "building" not in again.stdout and current(host) == "r-1"


@pytest.mark.parametrize(("extra", "needle"), [
    ((), "--id must be lowercase"),
    (("--env", "A=unencoded"), "--env takes one encoded line"),
    (("--env", 'A="x"\nB="y"'), "--env takes one encoded line"),
    (("--module", "app:app\nX=1"), "--module must be module:callable"),
    (("--workers", "2 --bind 0.0.0.0"), "--workers and --keep must be numbers"),
    (("--workers", ""), "--workers and --keep must be numbers"),      # no default of its own: the stack's only
    (("--server", ""), "--server must be wsgi or asgi"),
    (("--health", ""), "--health must be the app's health path"),
])
def test_rejects_bad_arguments(host: Path, extra: tuple[str, ...], needle: str) -> None:
    bad = release(host, "R_1" if not extra else "r-1", *extra)
    assert bad.returncode == 2 and needle in bad.stderr


def test_passes_bash_n_and_shellcheck() -> None:
    assert subprocess.run(["bash", "-n", str(RELEASE_SCRIPT)]).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed")
    lint = subprocess.run(["shellcheck", str(RELEASE_SCRIPT)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_prune_uploads_keeps_what_the_deploy_command_names(host: Path, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    script = uploads / "hvps-release-new.sh"
    shutil.copy(RELEASE_SCRIPT, script)
    current_archive = uploads / "app-new.tar.gz"
    shutil.copy(archive(tmp_path, "new"), current_archive)
    stale = [uploads / "hvps-release-old.sh", uploads / "app-old.tar.gz"]
    for f in stale:
        f.write_text("old")
    foreign = uploads / "notes.txt"
    foreign.write_text("not ours")
    env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{host.parent / 'stubs'}:{os.environ['PATH']}",
                        "HVPS_HEALTH_TRIES": "2", "HVPS_HEALTH_DELAY": "0"}
    args = ["bash", str(script), "--app", "app", "--id", "r-1", "--module", "app:app", *STACK_ARGS,
            "--archive", str(current_archive), "--prune-uploads", str(uploads)]
    first = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in uploads.iterdir()) == ["app-new.tar.gz", "hvps-release-new.sh", "notes.txt"]
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)  # Pulumi re-runs it
    assert again.returncode == 0, again.stderr


def test_failed_release_prunes_nothing(host: Path, tmp_path: Path) -> None:
    assert release(host, "r-1").returncode == 0
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "app-r1.tar.gz").write_text("the release to fall back to")
    bad = release(host, "r-2", "--prune-uploads", str(uploads), broken=True)
    assert bad.returncode == 1
    assert (uploads / "app-r1.tar.gz").exists()
