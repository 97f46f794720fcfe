"""Golden files: the one writer shared by the plan's goldens and the pinned URNs."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_goldens(expected: Mapping[str, str], golden_dir: Path, existing: Iterable[Path]) -> list[str]:
    """Write each expected file whose text changed, remove `existing` files no longer expected; returns the
    names written or removed."""
    golden_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in expected.items():
        path = golden_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(name)
    for path in sorted(existing):
        if path.name not in expected:
            path.unlink()
            changed.append(f"{path.name} (removed)")
    return changed


def add_golden_arguments(parser: argparse.ArgumentParser, stacks_dir: Path, golden_dir: Path, files: str) -> None:
    """The options every golden-keeping command shares: check, update, and the directories the tests point elsewhere."""
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<STACK>.yaml) or stack file path")
    parser.add_argument("--check-golden", action="store_true", help="compare with tests/golden/; exit 1 on a diff")
    parser.add_argument("--update-golden", action="store_true", help=f"rewrite {files}")
    parser.add_argument("--stacks-dir", type=Path, default=stacks_dir, help=argparse.SUPPRESS)
    parser.add_argument("--golden-dir", type=Path, default=golden_dir, help=argparse.SUPPRESS)
