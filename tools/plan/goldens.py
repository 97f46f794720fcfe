"""Golden files: every stack's plan and every tier's comparison, as reviewed Markdown in tests/golden/."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from components import catalog
from components.config import stack_name_of
from tools.golden import write_goldens
from tools.plan.compare import build_compare
from tools.plan.document import render_markdown
from tools.plan.stack_plan import build_plan
from tools.plan.stacks import ROOT, STACKS_DIR, stack_files

if TYPE_CHECKING:
    from tools.bench.results import Result

GOLDEN_DIR = ROOT / "tests" / "golden"
REFRESH_COMMAND = "python -m tools.plan --update-golden"


def golden_documents(stacks_dir: Path = STACKS_DIR) -> dict[str, str]:
    from tools.bench.goldens import fixture_results  # tools.bench reads tools.plan's document model

    docs = {f"plan-{stack_name_of(p)}.md": render_markdown(build_plan(p)) for p in stack_files(stacks_dir)}
    docs |= {f"compare-{tier}.md": render_markdown(build_compare(tier)) for tier in catalog.TIERS}
    results = fixture_results()  # the comparison with measured rows, at each tier the fixtures ran
    for tier in measured_tiers(results):
        docs[f"compare-{tier}-measured.md"] = render_markdown(build_compare(tier, results=results))
    return docs


def measured_tiers(results: Sequence[Result]) -> list[str]:
    """The tiers of the plans these benchmark results ran on."""
    sizes = [catalog.vendor(r.vendor).size_by_slug(r.plan) for r in results]
    return [t for t in catalog.TIERS if any(s is not None and s.tier == t for s in sizes)]


def _golden_files(golden_dir: Path) -> list[Path]:
    return sorted([*golden_dir.glob("plan-*.md"), *golden_dir.glob("compare-*.md")])


def check_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Each difference between what the stacks produce now and the reviewed golden files, as a unified diff."""
    problems = []
    expected = golden_documents(stacks_dir)
    for name, text in expected.items():
        path = golden_dir / name
        if not path.exists():
            problems.append(f"{name}: no golden file (new stack?)")
            continue
        old = path.read_text()
        if old != text:
            diff = difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"golden/{name}", f"now/{name}")
            problems.append("".join(diff))
    problems += [f"{p.name}: golden file for a stack or tier that no longer exists"
                 for p in _golden_files(golden_dir) if p.name not in expected]
    return problems


def update_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Rewrite the golden files; returns the names written or removed."""
    return write_goldens(golden_documents(stacks_dir), golden_dir, _golden_files(golden_dir))
