"""Shared pieces of the data-volume tests (tests/test_data_volume.py, tests/test_data_volume_backups.py): specs
with a volume, a database and a backup bucket, the files the converge writes for them, and a temporary root
(HVPS_ROOT) with stubs for what needs a running host, each stub recording its call."""

from __future__ import annotations

import os
from pathlib import Path

from components.config import HostSpec, parse_host_spec
from components.firstboot import converge_files
from tests.conftest import raw_config

DATA = {"dataVolumeGb": 10, "database": "postgresql"}
BUCKET = {"backupBucket": "shop-backups", "backupEndpoint": "https://fra1.digitaloceanspaces.com",
          "backupRecipient": "age1" + "q" * 58, "backupAccessKeyId": "AKIDEXAMPLE",
          "backupSecretAccessKey": "example-secret"}


def spec_with(**overrides: object) -> HostSpec:
    return parse_host_spec(raw_config(**overrides))


def host_files(spec: HostSpec) -> dict[str, str]:
    return {f.path: f.content for f in converge_files(spec).files}


def script(tmp_path: Path, spec: HostSpec, path: str) -> Path:
    target = tmp_path / Path(path).name
    target.write_text(host_files(spec)[path])
    return target


def stub_root(tmp_path: Path, stubs: dict[str, str]) -> tuple[Path, dict[str, str]]:
    root, bin_dir = tmp_path / "root", tmp_path / "bin"
    bin_dir.mkdir()
    (root / "etc").mkdir(parents=True)
    (root / "etc/fstab").write_text("UUID=0 / ext4 defaults 0 1\n")
    for name, body in stubs.items():
        (bin_dir / name).write_text(f'#!/bin/bash\nprintf "%s\\n" "${{0##*/}} $*" >>"$HVPS_ROOT/.calls"\n{body}\n')
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "HVPS_ROOT": str(root), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return root, env


def calls(root: Path) -> list[str]:
    path = root / ".calls"
    return path.read_text().splitlines() if path.exists() else []
