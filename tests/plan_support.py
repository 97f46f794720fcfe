"""Helpers for the plan's tests (tests/test_plan_*.py): sections of a rendered plan, well-formed Markdown."""

from __future__ import annotations

import re


def markdown_section(text: str, title: str) -> str:
    """One `### title` section of a Markdown document."""
    match = re.search(rf"^### {re.escape(title)}.*?\n(.*?)(?=^### |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


def text_section(text: str, title: str) -> str:
    """One section of the plain-text plan: from its underlined title to the next one."""
    match = re.search(rf"^{re.escape(title)}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match.group(1)


def assert_markdown_well_formed(text: str) -> None:
    assert text.count("```") % 2 == 0
    for block in re.findall(r"(?:^\|.*\|\n)+", text, re.MULTILINE):
        rows = [re.split(r"(?<!\\)\|", row)[1:-1] for row in block.splitlines()]
        assert len({len(r) for r in rows}) == 1, block
        assert all(re.fullmatch(r"---:?", cell) for cell in rows[1]), block
