"""hvps-release on its own: a real bash run in a temporary root, with systemctl, curl and python3 stubbed."""

from __future__ import annotations

import importlib
import io
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from components.app import RELEASE_SCRIPT
from tests.conftest import ROOT

#: What the pip stub records for a build run through setpriv as the unprivileged build user.
BUILDER = "pip[--reuid=hvps-build --regid=999 --clear-groups --no-new-privs"

STUBS = {
    "systemctl": '#!/bin/bash\necho "systemctl $*" >>"$HVPS_ROOT/calls.log"\n',
    # Healthy unless the active release carries a BROKEN marker file.
    "curl": '#!/bin/bash\necho "curl $*" >>"$HVPS_ROOT/calls.log"\n[ ! -e "$HVPS_ROOT/srv/app/current/BROKEN" ]\n',
    "python3": ('#!/bin/bash\n[ "$1 $2" = "-m venv" ] || exit 64\nmkdir -p "$3/bin"\n'
                'printf \'#!/bin/bash\\necho "pip[$HVPS_AS] $*" >>"$HVPS_ROOT/calls.log"\\n\' >"$3/bin/pip"\n'
                'chmod +x "$3/bin/pip"\n'),
    "chown": "#!/bin/bash\nexit 0\n",
    # Records the identity the command would run as, then runs it (as the test's own user).
    "setpriv": ('#!/bin/bash\necho "setpriv $*" >>"$HVPS_ROOT/calls.log"\nas=""\n'
                'while [[ $1 == --* ]]; do as="$as $1"; shift; done\n'
                '[ "$1 $2" = "env -i" ] && shift 2\nexec env -i HVPS_ROOT="$HVPS_ROOT" HVPS_AS="${as# }" "$@"\n'),
    "useradd": '#!/bin/bash\necho "useradd $*" >>"$HVPS_ROOT/calls.log"\necho "${!#}" >>"$HVPS_ROOT/users"\n',
    # Users the useradd stub made exist (uid and gid 999), the rest are looked up for real.
    "id": ('#!/bin/bash\nif grep -qx -- "${!#}" "$HVPS_ROOT/users" 2>/dev/null; then echo 999; exit 0; fi\n'
           'exec /usr/bin/id "$@"\n'),
    "pkill": '#!/bin/bash\necho "pkill $*" >>"$HVPS_ROOT/calls.log"\nexit 1\n',
    # AIDE's update: records its arguments, writes the new database, and exits as told (5: added + changed
    # entries, what a deploy's own files give).
    "aide": ('#!/bin/bash\nprintf \'%s\\n\' "$*" >>"$HVPS_ROOT/aide.log"\n'
             'echo "after $(wc -l <"$HVPS_ROOT/aide.log")" >"$HVPS_ROOT/var/lib/aide/aide.db.new"\n'
             'exit "$(cat "$HVPS_ROOT/aide.rc" 2>/dev/null || echo 5)"\n'),
}


@pytest.fixture
def host(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for d in ("run/lock", "srv/app/releases", "etc"):
        (root / d).mkdir(parents=True)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    return root


def archive(tmp_path: Path, name: str, broken: bool = False) -> Path:
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for f in ("app.py", "requirements.txt", "static/style.css"):
            tar.add(ROOT / "examples" / "flask-app" / f, arcname=f)
        if broken:
            marker = tmp_path / "BROKEN"
            marker.write_text("x")
            tar.add(marker, arcname="BROKEN")
    return path


#: What the program passes from the stack's values (components/app/deploy.py); the script has no defaults.
STACK_ARGS = ("--server", "wsgi", "--workers", "2", "--health", "/healthz", "--keep", "5")


def release(host: Path, rid: str, *extra: str, broken: bool = False, stdin: str | None = None,
            keep: int = 5) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{host.parent / 'stubs'}:{os.environ['PATH']}",
                        "HVPS_HEALTH_TRIES": "2", "HVPS_HEALTH_DELAY": "0"}
    args = ["bash", str(RELEASE_SCRIPT), "--app", "app", "--id", rid, "--module", "app:app", *STACK_ARGS,
            "--archive", str(archive(host.parent, rid, broken)), "--keep", str(keep), *extra]
    result = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    time.sleep(0.01)  # distinct build times for the keep-N ordering
    return result


def current(host: Path) -> str:
    return os.readlink(host / "srv/app/current").rsplit("/", 1)[-1]


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


# --- hostile releases: the host stays hardened whatever the release holds -------------------------------------

def hostile_archive(tmp_path: Path, members: list[tarfile.TarInfo], name: str = "hostile") -> Path:
    """An archive with the example app plus crafted members (links, devices, names leaving the directory)."""
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for f in ("app.py", "requirements.txt"):
            tar.add(ROOT / "examples" / "flask-app" / f, arcname=f)
        for info in members:
            data = b"x" if info.isreg() else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def run_archive(host: Path, path: Path, rid: str = "r-h") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{host.parent / 'stubs'}:{os.environ['PATH']}",
                        "HVPS_HEALTH_TRIES": "2", "HVPS_HEALTH_DELAY": "0"}
    args = ["bash", str(RELEASE_SCRIPT), "--app", "app", "--id", rid, "--module", "app:app", *STACK_ARGS,
            "--archive", str(path)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def _protected(host: Path) -> dict[str, int]:
    """Files a release must never expose: /etc/shadow and the app's secret env, with their modes."""
    (host / "etc/app").mkdir(exist_ok=True)
    for f in ("etc/shadow", "etc/app/env"):
        (host / f).write_text("root:$y$not-for-the-world:19000::::::\n")
        (host / f).chmod(0o640)
    return {f: stat.S_IMODE((host / f).stat().st_mode) for f in ("etc/shadow", "etc/app/env")}


def test_a_static_symlink_to_etc_is_refused_and_etc_keeps_its_modes(host: Path, tmp_path: Path) -> None:
    """The reported hole: `chmod -R o+rX static` followed static -> /etc (here the fake root's etc)."""
    modes = _protected(host)
    result = run_archive(host, hostile_archive(tmp_path, [_member("static", tarfile.SYMTYPE, "../../../../etc")]))
    assert result.returncode == 3 and "refused" in result.stdout, result.stdout + result.stderr
    assert {f: stat.S_IMODE((host / f).stat().st_mode) for f in modes} == modes
    assert not list((host / "srv/app/releases").iterdir())  # nothing left behind, not even r-h.tmp
    assert not (host / "srv/app/current").exists()


@pytest.mark.parametrize("member", [
    _member("static/shadow", tarfile.SYMTYPE, "/etc/shadow"),
    _member("static/hard", tarfile.LNKTYPE, "app.py"),
    _member("static/fifo", tarfile.FIFOTYPE),
    _member("static/null", tarfile.CHRTYPE),
    _member("../../escape.py"),
    _member("/abs.py"),
    _member("venv/bin/python"),
    _member("secrets.env"),
], ids=["symlink", "hardlink", "fifo", "device", "dot-dot", "absolute", "reserved-venv", "reserved-secrets"])
def test_archives_with_links_devices_or_escaping_names_are_refused(host: Path, tmp_path: Path,
                                                                  member: tarfile.TarInfo) -> None:
    calls = host / "calls.log"
    result = run_archive(host, hostile_archive(tmp_path, [member]))
    assert result.returncode == 3 and "refused" in result.stdout, result.stdout + result.stderr
    assert not list((host / "srv/app/releases").iterdir())
    assert not (tmp_path / "escape.py").exists() and not (host / "srv/escape.py").exists()
    assert not calls.exists() or "tar -xzf" not in calls.read_text()  # refused before extraction


def test_links_made_during_the_build_are_refused_and_not_followed(host: Path, tmp_path: Path) -> None:
    """A setup script (here: the pip stub) plants static/x -> etc: root changes no mode through it."""
    modes = _protected(host)
    stubs = host.parent / "stubs"
    (stubs / "python3").write_text(STUBS["python3"].replace(
        'chmod +x "$3/bin/pip"\n',
        'chmod +x "$3/bin/pip"\nmkdir -p "$3/../static"\nln -s ../../../../../etc "$3/../static/x"\n'))
    result = run_archive(host, hostile_archive(tmp_path, []))
    assert result.returncode == 3 and "static/x" in result.stdout, result.stdout + result.stderr
    assert {f: stat.S_IMODE((host / f).stat().st_mode) for f in modes} == modes
    assert not list((host / "srv/app/releases").iterdir())


def test_the_build_runs_unprivileged_and_bounded(host: Path) -> None:
    """Extraction, venv and every pip run go through setpriv as hvps-build, without new privileges, under timeout."""
    assert release(host, "r-1").returncode == 0
    calls = (host / "calls.log").read_text().splitlines()
    assert "useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group " \
           "hvps-build" in calls
    setprivs = [c for c in calls if c.startswith("setpriv ")]
    assert len(setprivs) == 4  # tar, venv, pip -r requirements.txt, pip gunicorn
    assert all(c.startswith("setpriv --reuid=hvps-build --regid=999 --clear-groups --no-new-privs env -i ")
               for c in setprivs)
    pips = [c for c in calls if c.startswith("pip[")]
    assert len(pips) == 2 and all(c.startswith(BUILDER) for c in pips)


def test_a_build_over_its_time_is_stopped_and_removed(host: Path, tmp_path: Path) -> None:
    stubs = host.parent / "stubs"
    (stubs / "python3").write_text(STUBS["python3"].replace("exit 64\n", "exit 64\nsleep 30\n"))
    env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{stubs}:{os.environ['PATH']}", "HVPS_BUILD_TIMEOUT": "1"}
    args = ["bash", str(RELEASE_SCRIPT), "--app", "app", "--id", "r-1", "--module", "app:app", *STACK_ARGS,
            "--archive", str(archive(tmp_path, "slow"))]
    started = time.monotonic()
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3 and "took longer than 1 s" in result.stdout, result.stdout + result.stderr
    assert time.monotonic() - started < 20
    assert not list((host / "srv/app/releases").iterdir())


def test_a_failed_build_leaves_nothing_and_stale_builds_are_pruned(host: Path, tmp_path: Path) -> None:
    stale = host / "srv/app/releases/r-old.tmp"
    stale.mkdir()
    stubs = host.parent / "stubs"
    (stubs / "python3").write_text("#!/bin/bash\nexit 1\n")
    assert release(host, "r-1").returncode == 1
    assert not list((host / "srv/app/releases").iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user for real")
def test_requirements_naming_a_root_only_file_cannot_read_it(tmp_path: Path) -> None:
    """Real setpriv, real chown: `-r /etc/shadow` in requirements.txt is read by the build user, who cannot."""
    base = Path(tempfile.mkdtemp(prefix="hvps-build-"))
    try:
        base.chmod(0o755)
        host = base / "root"
        for d in ("run/lock", "srv/app/releases", "etc"):
            (host / d).mkdir(parents=True)
        shadow = host / "etc/shadow"
        shadow.write_text("root:$y$j9T$first-line-of-shadow:19000::::::\n")
        shadow.chmod(0o640)
        stubs = base / "stubs"
        stubs.mkdir()
        pip = ('#!/bin/bash\nfor a; do [ "$prev" = -r ] && grep "^-r " "$a" | while read -r _ f; do head -1 "$f"; '
               'done; prev=$a; done; exit 0\n')
        texts = {"python3": ('#!/bin/bash\n[ "$1 $2" = "-m venv" ] || exit 64\nmkdir -p "$3/bin"\n'
                             f"cat >\"$3/bin/pip\" <<'EOF'\n{pip}EOF\nchmod +x \"$3/bin/pip\"\n"),
                 "systemctl": STUBS["systemctl"].replace("$HVPS_ROOT/calls.log", "/dev/null"),
                 "curl": STUBS["curl"].replace("$HVPS_ROOT/calls.log", "/dev/null"),
                 "pkill": "#!/bin/bash\nexit 1\n"}  # never signal this machine's real `nobody` processes
        for name, text in texts.items():
            (stubs / name).write_text(text)
            (stubs / name).chmod(0o755)
        path = base / "hostile.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            data = f"-r {shadow}\n".encode()
            info = tarfile.TarInfo("requirements.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{stubs}:{os.environ['PATH']}",
                            "HVPS_HEALTH_TRIES": "1", "HVPS_HEALTH_DELAY": "0", "HVPS_BUILD_USER": "nobody"}
        args = ["bash", str(RELEASE_SCRIPT), "--app", "app", "--id", "r-1", "--module", "app:app", *STACK_ARGS,
                "--archive", str(path)]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        out = result.stdout + result.stderr
        assert "first-line-of-shadow" not in out
        assert "Permission denied" in out  # the stub did try, as the build user
        assert stat.S_IMODE(shadow.stat().st_mode) == 0o640
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_vm_scenarios_hostile_archive_is_refused_here_too(host: Path, tmp_path: Path) -> None:
    """e2e/hostile_release.py's crafted archive, run through the script with stubs: refused before extraction."""
    scenario = importlib.import_module("e2e.hostile_release")  # e2e/ is linted, not type-checked (README)
    pkg = scenario._archive({"app.py": b"app = None\n", "requirements.txt": b"-r /etc/shadow\n"}, {"static": "/etc"})
    path = tmp_path / "vm-hostile.tar.gz"
    path.write_bytes(pkg.data)
    result = run_archive(host, path)
    assert result.returncode == 3 and "refused" in result.stdout, result.stdout + result.stderr
    assert not (host / "calls.log").exists() or "pip" not in (host / "calls.log").read_text()


# ---------------------------------------------------------------------------------------- integrity baseline
AIDE_DB = "var/lib/aide/aide.db"
#: Paths of an app named "app", relative to the host's root, as AIDE names them.
KEPT = ("/srv/app/releases/r-1/app.py", "/srv/app/releases/r-1", "/srv/app/releases/r-10/app.py", "/etc/passwd",
        "/srv/app/releases/sample/app.py", "/srv/app/currently", "/srv/other/current", "/srv/app/releases/r-1.tmp")


def with_baseline(host: Path) -> None:
    (host / AIDE_DB).parent.mkdir(parents=True)
    (host / AIDE_DB).write_text("first boot\n")


def limits(host: Path) -> list[re.Pattern[str]]:
    """The --limit regex of each `aide --update` the release ran (AIDE matches it against each entry's path)."""
    out = []
    for line in (host / "aide.log").read_text().splitlines():
        args = line.split(" ")
        assert args[:4] == ["-c", "/etc/aide/aide.conf", "--update", "--limit"], line
        out.append(re.compile(args[4]))
    return out


def test_a_release_refreshes_the_baseline_for_what_it_installed_only(host: Path) -> None:
    with_baseline(host)
    result = release(host, "r-1.2")
    assert result.returncode == 0, result.stderr
    [limit] = limits(host)
    for path in ("/srv/app", "/srv/app/current", "/srv/app/releases", "/srv/app/releases/r-1.2",
                 "/srv/app/releases/r-1.2/app.py", "/srv/app/releases/r-1.2/venv/bin/pip"):
        assert limit.search(path), path
    for path in (*KEPT, "/srv/app/releases/r-142/app.py"):     # the dot is literal
        assert not limit.search(path), path
    assert (host / AIDE_DB).read_text() == "after 1\n" and not (host / f"{AIDE_DB}.new").exists()
    assert "integrity baseline refreshed" in result.stdout


def test_pruned_releases_leave_the_baseline(host: Path) -> None:
    with_baseline(host)
    for n in (1, 2, 3):
        assert release(host, f"r-{n}", keep=2).returncode == 0
    last = limits(host)[-1]
    assert last.search("/srv/app/releases/r-3/app.py") and last.search("/srv/app/releases/r-1/app.py")  # pruned
    assert not last.search("/srv/app/releases/r-2/app.py")                                             # kept


def test_a_rolled_back_release_is_in_the_baseline_too(host: Path) -> None:
    with_baseline(host)
    assert release(host, "r-1").returncode == 0
    assert release(host, "r-2", broken=True).returncode == 1
    last = limits(host)[-1]
    assert last.search("/srv/app/releases/r-2/app.py") and last.search("/srv/app/current")
    assert not last.search("/srv/app/releases/r-1/app.py")


def test_no_baseline_no_refresh(host: Path) -> None:
    assert release(host, "r-1").returncode == 0
    assert not (host / "aide.log").exists()


def test_an_aide_error_keeps_the_old_baseline_and_the_release(host: Path) -> None:
    with_baseline(host)
    (host / "aide.rc").write_text("17")
    result = release(host, "r-1")
    assert result.returncode == 0 and current(host) == "r-1"
    assert (host / AIDE_DB).read_text() == "first boot\n"
    assert "integrity baseline not refreshed (aide exit 17)" in result.stdout
