"""Generated files match the code: the README's sections and Pulumi.yaml; and the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

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


#: The packages whose every module the README's layout names.
LAYOUT_PACKAGES = ("components", "tools", "policy")


def layout_entries(readme: str) -> dict[tuple[str, ...], str]:
    """The README's layout tree: each directory entry (`name/`, by its path) -> its own text, the lines at its entry
    and below it, less those of the directories nested in it (so a module named under a subpackage does not count
    for its parent)."""
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    entries: dict[tuple[str, ...], str] = {(): ""}
    stack: list[tuple[int, tuple[str, ...]]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = stack[-1][1] if stack else ()
        directory = re.match(r"([\w.-]+)/", line.lstrip())
        if directory:
            path = (*path, directory[1])
            stack.append((indent, path))
        entries[path] = entries.get(path, "") + line + "\n"
    return entries


def named_in(text: str, module: Path) -> bool:
    """`name.py`, or the bare name in a list (`: a, b, c`); a package's __main__ also by its `python -m` line."""
    name = re.escape(module.stem)
    if re.search(rf"(?<![\w.]){name}\.py\b|[:,]\s+{name}(?=[,\s(]|$)", text, re.MULTILINE):
        return True
    dotted = ".".join(module.parent.parts)
    return module.name == "__main__.py" and f"python -m {dotted}`" in text


def layout_omissions(readme: str, root: Path) -> list[str]:
    entries = layout_entries(readme)
    missing = []
    for top in LAYOUT_PACKAGES:
        for init in sorted((root / top).rglob("__init__.py")):
            package = init.parent.relative_to(root)
            if package.parts not in entries:
                missing.append(f"{package}/")
                continue
            missing += [str(m.relative_to(root)) for m in sorted((root / package).glob("*.py"))
                        if m.name != "__init__.py" and not named_in(entries[package.parts], m.relative_to(root))]
    return missing


def test_the_readme_layout_names_every_package_and_module() -> None:
    assert layout_omissions((ROOT / "README.md").read_text(), ROOT) == []


def test_the_layout_check_finds_a_module_named_only_under_another_package(tmp_path: Path) -> None:
    for path in ("components/__init__.py", "components/host.py", "components/config/__init__.py",
                 "components/config/host.py", "components/config/ssh.py", "tools/__init__.py",
                 "tools/urns/__init__.py", "tools/urns/__main__.py", "tools/urns/engine.py", "policy/__init__.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    readme = ("## Layout\n\n```\ncomponents/\n  config/    host.py ssh.py   validators\n"
              "tools/\n  urns/      URNs (`python -m tools.urns`): engine, cli\npolicy/    the pack\n```\n")
    assert layout_omissions(readme, tmp_path) == ["components/host.py"]
    fixed = readme.replace("tools/\n", "  host.py    WebHost\ntools/\n")
    assert layout_omissions(fixed, tmp_path) == []
    assert layout_omissions(fixed.replace("  urns/ ", "  urn/  "), tmp_path) == ["tools/urns/"]


def test_the_config_reference_lists_each_vendors_regions_plans_and_images() -> None:
    """Every region a stack may use, every plan and image of every vendor, in the README; refused regions apart."""
    from components.catalog import CATALOG
    from tools.docs import vendor_offer_table

    block = (ROOT / "README.md").read_text().split("<!-- vendor-offers:begin -->")[1].split("<!-- vendor-offers:end")[0]
    assert block.strip() == vendor_offer_table()
    for vendor in CATALOG.values():
        (row,) = [line for line in block.splitlines() if line.startswith(f"| {vendor.title} |")]
        open_part = row.split("; refused:")[0]
        assert all(f"`{r}` ({vendor.locations[r].label})" in open_part for r in vendor.open_regions)
        assert not any(f"`{r}` (" in row for r in vendor.closed_regions)
        assert all(f"`{s.slug}`" in row for s in vendor.sizes) and all(f"`{i}`" in row for i in vendor.images)
