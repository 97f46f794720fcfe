"""Golden files: the one writer shared by the plan's goldens and the pinned URNs."""

from __future__ import annotations

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
