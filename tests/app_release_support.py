"""Helpers for the tests of an app release (tests/test_app_*.py): the example Flask app, a copy of it with extra
files, and the real program run under mocks with an app."""

from __future__ import annotations

import shutil
from pathlib import Path

from components.testing.mockrun import StackRun, run_program
from tests.conftest import ROOT, full_config

EXAMPLE = ROOT / "examples" / "flask-app"


def app_run(source: str, **overrides: object) -> StackRun:
    secret_keys = ["hardened-vps:appSecrets"] if "appSecrets" in overrides else []
    return run_program(full_config(appSource=source, **overrides), stack="app", secret_keys=secret_keys)


def app_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A copy of the example app under tmp_path, with these files added."""
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    for name, data in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_bytes(data)
    return app
