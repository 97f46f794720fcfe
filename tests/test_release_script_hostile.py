"""hvps-release against hostile releases: the host stays hardened whatever the release holds. Archives with links,
devices or names leaving the release directory are refused before extraction; the build runs as an unprivileged
user, bounded in time, and leaves nothing behind when it fails or plants a link."""

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
from tests.release_script_support import BUILDER, STACK_ARGS, STUBS, archive, make_host, release


@pytest.fixture
def host(tmp_path: Path) -> Path:
    return make_host(tmp_path)


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
    # pip's temporary files (a source package's build steps run there) off /tmp, which is noexec on the host
    tmpdirs = {re.search(r" TMPDIR=(\S+) ", c).group(1) for c in setprivs}  # type: ignore[union-attr]
    assert len(tmpdirs) == 1 and tmpdirs.pop().startswith(f"{host}/var/tmp/hvps-build.")
    assert not list((host / "var/tmp").iterdir())  # removed with the build
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
        for d in ("run/lock", "srv/app/releases", "etc", "var/tmp"):
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
