"""hvps-backup and hvps-restore under stubs: generations kept, the volume required, the upload encrypted with the
delivered credentials, and a restore that puts the database and the app's data back around a stopped app.

They run under bash in a temporary root (HVPS_ROOT, tests/data_volume_support.py) with stubs for mountpoint,
setpriv running pg_dump/pg_restore, systemctl, age and rclone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.data_volume_support import BUCKET, DATA, calls, script, spec_with, stub_root

BACKUP_STUBS = {
    "mountpoint": '[ ! -e "$HVPS_ROOT/.unmounted" ]',
    "setpriv": 'while [ "${1#--}" != "$1" ]; do shift; done\n'
               'case $1 in pg_dump) echo "dump of ${@: -1}" ;; pg_restore) cat >"$HVPS_ROOT/.restored" ;; esac',
    "systemctl": "",
    "age": 'echo "age $*"; cat',
    "rclone": 'case $1 in rcat) cat >"$HVPS_ROOT/.uploaded"; env | grep ^RCLONE_ | sort >"$HVPS_ROOT/.rclone-env" ;;'
              ' esac\n[ ! -e "$HVPS_ROOT/.upload-down" ]',
}


def backup_host(tmp_path: Path, **overrides: object) -> tuple[Path, dict[str, str], Path, Path]:
    spec = spec_with(**DATA, backupGenerations=2, **overrides)
    backup = script(tmp_path, spec, "/usr/local/sbin/hvps-backup")
    restore = script(tmp_path, spec, "/usr/local/sbin/hvps-restore")
    root, env = stub_root(tmp_path, BACKUP_STUBS)
    (root / "srv/data/app").mkdir(parents=True)
    (root / "srv/data/app/state.txt").write_text("v1\n")
    return root, env, backup, restore


def run(path: Path, env: dict[str, str], *args: str, stamp: str | None = None) -> subprocess.CompletedProcess[str]:
    if stamp:  # a fixed clock: `date` stub prints the stamp
        bin_dir = Path(env["PATH"].split(":")[0])
        (bin_dir / "date").write_text(f"#!/bin/sh\necho {stamp}\n")
        (bin_dir / "date").chmod(0o755)
    return subprocess.run(["bash", str(path), *args], env=env, capture_output=True, text=True, timeout=30)


def backups(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "srv/data/backups").iterdir())


def test_backup_dumps_the_database_and_the_app_data_and_keeps_the_generations(tmp_path: Path) -> None:
    root, env, backup, _ = backup_host(tmp_path)
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        result = run(backup, env, stamp=stamp)
        assert result.returncode == 0, result.stderr
    assert backups(root) == ["20260102T000000Z", "20260103T000000Z"]  # backupGenerations 2
    newest = root / "srv/data/backups/20260103T000000Z"
    assert (newest / "database.dump").read_text() == "dump of app\n"
    listing = subprocess.run(["tar", "-tf", str(newest / "app.tar")], capture_output=True, text=True).stdout
    assert "app/state.txt" in listing.split()
    assert oct((root / "srv/data/backups").stat().st_mode & 0o777) == "0o700"
    assert "setpriv --reuid=postgres --regid=postgres --init-groups pg_dump -Fc app" in calls(root)
    assert not (root / ".uploaded").exists()  # no bucket, no upload


def test_backup_refuses_without_the_volume(tmp_path: Path) -> None:
    root, env, backup, _ = backup_host(tmp_path)
    (root / ".unmounted").touch()
    result = run(backup, env)
    assert result.returncode == 2 and "not mounted" in result.stderr
    assert not (root / "srv/data/backups").exists()


def test_upload_encrypts_to_the_recipient_with_the_delivered_credentials(tmp_path: Path) -> None:
    root, env, backup, _ = backup_host(tmp_path, **BUCKET)
    assert run(backup, env, stamp="20260101T000000Z").returncode == 4  # no credentials yet: local copy kept
    assert backups(root) == ["20260101T000000Z"]
    creds = 'RCLONE_CONFIG_HVPS_ACCESS_KEY_ID="AKID"\nRCLONE_CONFIG_HVPS_SECRET_ACCESS_KEY="s3cr\\$t"\n'
    stored = subprocess.run(["bash", str(backup), "--store-credentials"], input=creds, env=env, text=True)
    assert stored.returncode == 0
    cred_file = root / "etc/hvps/backup-credentials"
    assert cred_file.read_text() == creds and oct(cred_file.stat().st_mode & 0o777) == "0o600"
    result = run(backup, env, stamp="20260102T000000Z")
    assert result.returncode == 0, result.stderr
    assert (root / ".uploaded").read_text().startswith("age -r " + BUCKET["backupRecipient"])
    assert "rclone rcat hvps:shop-backups/web-1/20260102T000000Z.tar.age" in calls(root) or any(
        c.startswith("rclone rcat hvps:shop-backups/") and c.endswith("/20260102T000000Z.tar.age") for c in calls(root))
    rclone_env = (root / ".rclone-env").read_text()
    assert "RCLONE_CONFIG_HVPS_SECRET_ACCESS_KEY=s3cr$t" in rclone_env  # the value as stored, unexpanded
    assert "RCLONE_CONFIG_HVPS_ENDPOINT=https://fra1.digitaloceanspaces.com" in rclone_env
    (root / ".upload-down").touch()
    assert run(backup, env, stamp="20260103T000000Z").returncode == 4


def test_restore_latest_puts_database_and_data_back_around_a_stopped_app(tmp_path: Path) -> None:
    root, env, backup, restore = backup_host(tmp_path)
    assert run(backup, env, stamp="20260101T000000Z").returncode == 0
    (root / "srv/data/app/state.txt").write_text("v2\n")
    assert run(backup, env, stamp="20260102T000000Z").returncode == 0
    (root / "srv/data/app/state.txt").write_text("broken\n")
    (root / ".calls").unlink()
    result = run(restore, env)
    assert result.returncode == 0, result.stderr
    assert (root / "srv/data/app/state.txt").read_text() == "v2\n"
    assert (root / ".restored").read_text() == "dump of app\n"
    seen = calls(root)
    assert seen[0] == "systemctl stop app.socket app.service"
    assert "setpriv --reuid=postgres --regid=postgres --init-groups pg_restore --clean --if-exists --exit-on-error " \
           "-d app" in seen
    assert seen[-1] == "systemctl start app.socket app.service"
    assert run(restore, env, "20260101T000000Z").returncode == 0
    assert (root / "srv/data/app/state.txt").read_text() == "v1\n"


@pytest.mark.parametrize("name", ["20990101T000000Z", "../../etc", "nope"])
def test_restore_of_an_unknown_backup_exits_2_and_touches_nothing(tmp_path: Path, name: str) -> None:
    root, env, backup, restore = backup_host(tmp_path)
    assert run(backup, env, stamp="20260101T000000Z").returncode == 0
    (root / ".calls").unlink()
    result = run(restore, env, name)
    assert result.returncode == 2 and "no backup" in result.stderr
    assert calls(root) == []
