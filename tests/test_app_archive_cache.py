"""The archive cache (components/app/deploy.py: archive_file, release_cache_dir): building a release writes nothing
into the repository; the archive waits in the user's private cache, named by its content, rewritten when its bytes
differ, pruned when old; the suite uses a cache of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
import pytest

from components.app import CACHE_KEEP_SECONDS, ReleaseCacheError, archive_file, package_directory, release_cache_dir
from tests.app_release_support import app_run, app_with
from tests.conftest import ROOT

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
    app = app_with(tmp_path, {"version.txt": f"built for {tmp_path.name}\n".encode()})
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
    package = package_directory(app_with(tmp_path, {}))
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
    path = archive_file("shop", package_directory(app_with(tmp_path, {})))
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
        archive_file("shop", package_directory(app_with(tmp_path, {})))


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
    current = archive_file("shop", package_directory(app_with(tmp_path, {})))
    assert sorted(p.name for p in releases.iterdir()) == sorted([current.name, recent.name, other_app.name])


def test_the_fast_suite_writes_archives_to_a_cache_of_its_own() -> None:
    """Running the program in the suite must not fill the developer's ~/.cache (conftest gives it a temp cache)."""
    cache = Path(os.environ["XDG_CACHE_HOME"])
    assert cache.name.startswith("hvps-test-cache-") and not cache.is_relative_to(Path.home())
    assert release_cache_dir().is_relative_to(cache)
