"""Tracked files speak of the product: no issue-tracker numbers and no paths of a developer's machine.

A tracker number (`#12`, "issue 9", `project#1234`) means nothing to a reader of the code; a path outside the
repository (a work directory, a shared folder beside the clone) exists only on the machine that wrote it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

TRACKER = re.compile(
    r"(?<![\w\"'&/#=])#\d+\b"  # a bare #12 (not "#1000" quoted as data, an HTML entity or a URL fragment)
    r"|\b(?:issues?|tickets?|bugs?|pull requests?|PRs?)\s*#?\d+\b"  # issue 9, ticket #3, PR 7
    r"|\b[a-z][\w.-]*#\d{3,}\b",  # upstream references: project#1234
    re.I)
OUTSIDE_PATH = re.compile(r"(?<![\w./-])/work/\S|(?<![\w/])\.\./shared\b")
#: .gitignore patterns are relative to the repository even when they start with "/".
PATH_EXEMPT = (".gitignore",)
#: This file, whose examples show what the patterns find.
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()


def tracked_text_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = [n for n in out.split("\0") if n]
    files = []
    for name in names:
        path = ROOT / name
        if path.is_file() and b"\0" not in path.read_bytes()[:4096]:
            files.append(name)
    return files


def findings(pattern: re.Pattern[str], names: list[str]) -> list[str]:
    hits = []
    for name in names:
        for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{name}:{number}: {line.strip()[:120]}")
    return hits


@pytest.fixture(scope="module")
def files() -> list[str]:
    names = tracked_text_files()
    assert len(names) > 50 and "README.md" in names and SELF in names
    return [n for n in names if n != SELF]


def test_no_tracker_numbers(files: list[str]) -> None:
    hits = findings(TRACKER, files)
    assert not hits, "say what the reference means instead of its number:\n" + "\n".join(hits)


def test_no_paths_outside_the_repository(files: list[str]) -> None:
    hits = findings(OUTSIDE_PATH, [n for n in files if not n.endswith(PATH_EXEMPT)])
    assert not hits, "paths of one machine, not of the repository:\n" + "\n".join(hits)


@pytest.mark.parametrize("text", ["see #12", "(#7)", "Issue 3: boots", "fixed in issue #9", "PR 15", "ticket 4",
                                  "leaks (pulumi#8280)", "Near fra1 #1"])
def test_tracker_pattern_finds(text: str) -> None:
    assert TRACKER.search(text)


@pytest.mark.parametrize("text", ['"#1000"', "PKCS#8", "&#39;", "# via pytest", "url#section", "Near fra1, 1st",
                                  "issues with 3 keys"])
def test_tracker_pattern_spares(text: str) -> None:
    assert not TRACKER.search(text)


@pytest.mark.parametrize(("text", "found"), [("cp /work/cache-x/img .", True), ("see ../shared/notes", True),
                                             ("e2e/work/vm.raw", False),
                                             ("mktemp -d /tmp/x", False), ("/usr/share/doc", False)])
def test_outside_path_pattern(text: str, found: bool) -> None:
    assert bool(OUTSIDE_PATH.search(text)) is found
