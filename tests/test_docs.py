"""Generated files match the code: the README's sections and Pulumi.yaml; and the README's commands exist."""

from __future__ import annotations

import re

import yaml

from components.config import CONFIG_KEYS
from tests.conftest import ROOT
from tools import gen_pulumi_yaml
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


def test_pulumi_yaml_is_generated_from_config_keys() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    assert text == gen_pulumi_yaml.render(), "run: .venv/bin/python tools/gen_pulumi_yaml.py"
    declared = yaml.safe_load(text)["config"]
    # Secret keys are left to the program (see tools/gen_pulumi_yaml.py); the header names them.
    secrets = [key.name for key in CONFIG_KEYS if key.secret]
    assert secrets and f"# Secret keys ({', '.join(secrets)}) are not declared here" in text
    assert list(declared) == [key.name for key in CONFIG_KEYS if not key.secret]
