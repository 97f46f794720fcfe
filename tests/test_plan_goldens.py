"""The plans' golden files (tools/plan/goldens.py): up to date, and a change shows as a reviewable diff."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from components import catalog
from components.config import stack_name_of
from tests.conftest import ALL_STACK_FILES, STACK_FILES
from tools import plan

REFRESH = f"If the change is intended, review the diff and run: {plan.REFRESH_COMMAND}"


def golden_problems() -> list[str]:
    """check_golden over stacks/, except that a user's own stack needs no golden file (it may have one)."""
    unreviewed = {f"plan-{stack_name_of(p)}.md: no golden file (new stack?)"
                  for p in ALL_STACK_FILES if p not in STACK_FILES}
    return [p for p in plan.check_golden() if p not in unreviewed]


def copy_examples(stacks: Path) -> Path:
    """A stacks directory holding only the shipped examples."""
    stacks.mkdir()
    for path in STACK_FILES:
        shutil.copy(path, stacks)
    return stacks


def test_golden_files_are_up_to_date():
    problems = golden_problems()
    assert not problems, "\n".join([*problems, REFRESH])


def test_golden_check_fails_on_an_unreviewed_change(tmp_path):
    stacks = copy_examples(tmp_path / "stacks")
    stack = stacks / "Pulumi.do-dev.yaml"
    stack.write_text(stack.read_text().replace("hardened-vps:size: small", "hardened-vps:size: medium"))

    problems = plan.check_golden(stacks, plan.GOLDEN_DIR)
    assert len(problems) == 1
    diff = problems[0]
    assert diff.startswith("--- golden/plan-do-dev.md\n+++ now/plan-do-dev.md\n")
    assert re.search(r"^-.*size: s-1vcpu-1gb$", diff, re.MULTILINE)
    assert re.search(r"^\+.*size: s-1vcpu-2gb$", diff, re.MULTILINE)
    assert re.search(r"^\+\| Total \| \$12\.00 \|$", diff, re.MULTILINE)
    assert plan.main(["--check-golden", "--stacks-dir", str(stacks)]) == 1


def test_golden_update_then_check_and_stale_or_missing_files(tmp_path, capsys):
    stacks, golden = tmp_path / "stacks", tmp_path / "golden"
    stacks.mkdir()
    shutil.copy(plan.STACKS_DIR / "Pulumi.lightsail-dev.yaml", stacks)
    assert plan.main(["--update-golden", "--stacks-dir", str(stacks), "--golden-dir", str(golden)]) == 0
    assert sorted(p.name for p in golden.iterdir()) == sorted(
        ["plan-lightsail-dev.md", *(f"compare-{t}.md" for t in catalog.TIERS), "compare-small-measured.md"])
    assert (golden / "plan-lightsail-dev.md").read_text() == (plan.GOLDEN_DIR / "plan-lightsail-dev.md").read_text()
    assert plan.check_golden(stacks, golden) == []

    shutil.copy(plan.STACKS_DIR / "Pulumi.lightsail-dev.yaml", stacks / "Pulumi.new.yaml")
    (golden / "plan-gone.md").write_text("old\n")
    problems = plan.check_golden(stacks, golden)
    assert problems == ["plan-new.md: no golden file (new stack?)",
                        "plan-gone.md: golden file for a stack or tier that no longer exists"]
    capsys.readouterr()
    assert plan.main(["--update-golden", "--stacks-dir", str(stacks), "--golden-dir", str(golden)]) == 0
    assert capsys.readouterr().out == "updated plan-new.md\nupdated plan-gone.md (removed)\n"
    assert plan.check_golden(stacks, golden) == []
