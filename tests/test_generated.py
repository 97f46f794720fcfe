"""Every generated file matches what `make generate` would write now, and that target regenerates all of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.config import stack_name_of
from tests.conftest import ALL_STACK_FILES, ROOT, STACK_FILES
from tools import generate, plan, urns


def unreviewed_goldens() -> set[Path]:
    """Goldens of a user's own stack: not shipped, so their absence is not staleness (tests/conftest.py)."""
    users = [stack_name_of(p) for p in ALL_STACK_FILES if p not in STACK_FILES]
    return {d / name for s in users for d, name in ((plan.GOLDEN_DIR, f"plan-{s}.md"),
                                                     (urns.GOLDEN_DIR, f"urns-{s}.txt"))}


@pytest.fixture(scope="module")
def expected() -> dict[Path, str]:
    return generate.expected_files()


def test_every_generated_file_is_current(expected: dict[Path, str]) -> None:
    stale = [p for p in generate.stale_files(expected) if not (p in unreviewed_goldens() and not p.exists())]
    names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
    assert not stale, f"stale generated files: {names}. Review the change, then run: {generate.COMMAND}"


def test_the_generated_set_covers_schema_readme_plans_and_urns(expected: dict[Path, str]) -> None:
    paths = {p.relative_to(ROOT).as_posix() for p in expected}
    assert {"Pulumi.yaml", "README.md"} <= paths
    for stack in STACK_FILES:
        name = stack_name_of(stack)
        assert {f"tests/golden/plan-{name}.md", f"tests/golden/urns-{name}.txt"} <= paths
    assert any(p.startswith("tests/golden/compare-") for p in paths)


def test_a_changed_or_missing_file_is_stale_and_an_equal_one_is_not(tmp_path: Path) -> None:
    same, changed, missing = tmp_path / "same", tmp_path / "changed", tmp_path / "missing"
    same.write_text("a\n")
    changed.write_text("old\n")
    stale = generate.stale_files({same: "a\n", changed: "new\n", missing: "x\n"})
    assert set(stale) >= {changed, missing}
    assert same not in stale


def test_make_generate_runs_the_generator_and_the_readme_plan_example_is_a_generated_block() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^generate:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "-m tools.generate" in recipe.group(1), "the Makefile's generate target must run tools.generate"
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- plan-example:begin -->\n(.*?)<!-- plan-example:end -->", readme, re.S)
    assert block, "README.md lacks the plan-example block"
    # The example shows the real first-boot size and digest of the example stack, as `make plan` prints them.
    assert re.search(r"first boot: cloud-config form, [\d,]+ bytes, digest [0-9a-f]{12}", block.group(1))
