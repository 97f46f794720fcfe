"""The plan's document model (tools/plan/document.py): text and Markdown carry the same, every time."""

from __future__ import annotations

import re

from tests.conftest import STACK_FILES
from tests.plan_support import assert_markdown_well_formed, markdown_section
from tools import plan


def test_plan_text_and_markdown_carry_the_same_content(stack_file, plans):
    doc, _ = plans[stack_file]
    text, markdown = plan.render_text(doc), plan.render_markdown(doc)
    assert_markdown_well_formed(markdown)
    tree = markdown_section(markdown, "Resources").split("```text\n")[1].split("```")[0]
    assert tree in text  # the tree is the same block in both
    # aligned columns, no Markdown table rows in the terminal form (a shown command may hold a shell's `||`)
    assert not re.search(r"^\s*\|.*\|\s*$", text, re.MULTILINE)
    assert re.search(r"^Key +Value$", text, re.MULTILINE)


def test_plan_is_deterministic():
    path = STACK_FILES[0]
    assert plan.render_markdown(plan.build_plan(path)) == plan.render_markdown(plan.build_plan(path))
