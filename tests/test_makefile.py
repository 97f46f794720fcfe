"""The Makefile as a new user meets it: missing host tools are named before the long pip install, and pytest's
summary line is printed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def dry_run(target: str, tmp_path: Path) -> list[str]:
    """The commands `make TARGET` would run for a clone without a virtualenv yet, in order."""
    assert MAKE
    result = subprocess.run([MAKE, "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    return result.stdout.splitlines()


def first_index(lines: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no command matches {pattern!r} in:\n" + "\n".join(lines)
    return found[0]


@needs_make
def test_make_test_checks_host_tools_before_installing(tmp_path: Path) -> None:
    lines = dry_run("test", tmp_path)
    assert first_index(lines, r"command -v \$tool") < first_index(lines, r"-m venv ")
    assert first_index(lines, r"-m venv ") < first_index(lines, r"pip install")


@needs_make
@pytest.mark.parametrize("target", ["preview", "up", "destroy"])
def test_deploy_targets_check_the_pulumi_cli_before_installing(target: str, tmp_path: Path) -> None:
    lines = dry_run(target, tmp_path)
    assert first_index(lines, r"command -v pulumi") < first_index(lines, r"-m venv ")


@needs_make
def test_missing_tools_are_named_with_their_debian_packages(tmp_path: Path) -> None:
    assert MAKE
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    result = subprocess.run([MAKE, "-s", "test-tools"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": str(empty_path)})
    assert result.returncode != 0
    assert "missing: cloud-init shellcheck" in result.stderr
    assert "sudo apt-get install cloud-init shellcheck" in result.stderr


def test_pytest_prints_its_summary_line() -> None:
    """pytest hides the "N passed" line at -qq: pyproject's addopts and the Makefile together stay at one -q."""
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    quiet_in_addopts = len(re.findall(r"(?:^|\s)(?:-q+|--quiet)\b", addopts))
    for command in re.findall(r"^\t.*-m pytest.*$", (ROOT / "Makefile").read_text(), re.M):
        quiet = quiet_in_addopts + sum(len(q) - 1 for q in re.findall(r"(?<=\s)-q+\b", command))
        assert quiet <= 1, f"pytest would run at -qq (no summary line): {command.strip()} with addopts {addopts!r}"


def test_pytest_run_at_the_makefile_quietness_prints_the_summary(tmp_path: Path) -> None:
    test = tmp_path / "test_one.py"
    test.write_text("def test_one():\n    assert True\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c",
                             str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(test)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert re.search(r"^1 passed in ", result.stdout, re.M), result.stdout + result.stderr


def _fake_venv(tmp_path: Path, mypy_rc: int, pytest_rc: int) -> Path:
    """A virtualenv whose ruff passes, whose mypy and pytest exit as told, with its install stamps up to date."""
    venv = tmp_path / f"venv-{mypy_rc}-{pytest_rc}"
    (venv / "bin").mkdir(parents=True)
    for name, body in (("ruff", "exit 0"), ("mypy", f"echo 'mypy says {mypy_rc}'; exit {mypy_rc}"),
                       ("python", f"echo 'pytest says {pytest_rc}'; exit {pytest_rc}")):
        (venv / "bin" / name).write_text(f"#!/bin/sh\n{body}\n")
        (venv / "bin" / name).chmod(0o755)
    for stamp in (".runtime", ".dev"):
        (venv / stamp).touch()
    return venv


@needs_make
@pytest.mark.parametrize(("mypy_rc", "pytest_rc", "ok"), [(0, 0, True), (1, 0, False), (0, 1, False)])
def test_make_test_runs_mypy_beside_the_suite_and_needs_both(tmp_path: Path, mypy_rc: int, pytest_rc: int,
                                                             ok: bool) -> None:
    assert MAKE
    venv = _fake_venv(tmp_path, mypy_rc, pytest_rc)
    result = subprocess.run([MAKE, "-s", "test", f"VENV={venv}", "-o", f"{venv}/.runtime", "-o", f"{venv}/.dev"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
    assert f"pytest says {pytest_rc}" in result.stdout and f"mypy: mypy says {mypy_rc}" in result.stdout
