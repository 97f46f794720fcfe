"""The README's generated sections match the code, and the commands it leads with exist."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tools.docs import BLOCKS, rewrite


def test_generated_readme_blocks_are_current() -> None:
    text = (ROOT / "README.md").read_text()
    assert rewrite(text) == text, "run: .venv/bin/python -m tools.docs"
    for name in BLOCKS:
        assert f"<!-- {name}:begin -->" in text


def test_readme_commands_are_make_targets() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    used = set(re.findall(r"^make ([a-z][a-z0-9-]*)", readme, re.M))
    assert {"up", "test"} <= used
    assert used <= targets, used - targets
