"""hvps-release and the integrity baseline: a release refreshes AIDE's database for the paths it installed, pruned
or rolled back, and nothing else; without a baseline there is no refresh, and an AIDE error keeps the old one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.release_script_support import current, make_host, release


@pytest.fixture
def host(tmp_path: Path) -> Path:
    return make_host(tmp_path)


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
