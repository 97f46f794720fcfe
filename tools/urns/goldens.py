"""The pinned URNs: tests/golden/urns-<stack>.txt, one URN a line, checked and refreshed."""

from __future__ import annotations

import difflib
from pathlib import Path

from components.config import stack_name_of
from tools.golden import write_goldens
from tools.urns.registrations import stack_urns

ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = ROOT / "stacks"
GOLDEN_DIR = ROOT / "tests" / "golden"
REFRESH_COMMAND = "python -m tools.urns --update-golden"
RENAME_HINT = ("A changed URN is a new resource to Pulumi: `up` creates it and deletes the old one (the server "
               "too). a rename needs `aliases`: give the renamed resource or component "
               "`opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=<old name>, type_=<old type>)])` "
               "(children follow their aliased parent). Then refresh the pinned URNs: " + REFRESH_COMMAND)


def stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    return sorted(stacks_dir.glob("Pulumi.*.yaml"))


def golden_name(path: Path) -> str:
    return f"urns-{stack_name_of(path)}.txt"


def golden_documents(stacks_dir: Path = STACKS_DIR) -> dict[str, str]:
    return {golden_name(p): "".join(f"{urn}\n" for urn in stack_urns(p)) for p in stack_files(stacks_dir)}


def urn_changes(old: str, new: str, name: str) -> str:
    """A readable diff of two URN lists, with what to do about it."""
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"golden/{name}", f"now/{name}"))
    return f"{diff}\n{RENAME_HINT}"


def check_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Each stack whose URNs differ from its pinned file, as a diff and the rename hint."""
    expected = golden_documents(stacks_dir)
    problems = []
    for name, text in expected.items():
        path = golden_dir / name
        if not path.exists():
            problems.append(f"{name}: no pinned URNs (new stack?); run: {REFRESH_COMMAND}")
        elif path.read_text() != text:
            problems.append(urn_changes(path.read_text(), text, name))
    problems += [f"{p.name}: pinned URNs of a stack that no longer exists; run: {REFRESH_COMMAND}"
                 for p in sorted(golden_dir.glob("urns-*.txt")) if p.name not in expected]
    return problems


def update_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Rewrite the pinned URN files; returns the names written or removed."""
    return write_goldens(golden_documents(stacks_dir), golden_dir, golden_dir.glob("urns-*.txt"))
