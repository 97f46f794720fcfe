"""The key schema is the one place a default is written: the parser, HostSpec, the renderer and the generated
Pulumi.yaml and README read it from there, so changing a default is a one-line change."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import CONFIG_KEYS, HostSpec, parse_host_spec
from components.config.schema import SECTIONS
from components.vendors import VENDORS
from tests.conftest import ROOT, raw_config

SCHEMA = Path("components/config/schema.py")
#: Where a default value is written would be a second copy: the program's Python sources.
SOURCES = sorted(p.relative_to(ROOT) for d in ("components", "tools", "policy") for p in (ROOT / d).rglob("*.py"))
SOURCES.append(Path("__main__.py"))
#: A default that is also the name of something else, and the files where it names that other thing: the tier a
#: stack gets by default is a catalog tier (and the README's compare example shows it); the release resource of
#: the program is named "app", like the default app user.
OTHER_MEANINGS: dict[str, set[Path]] = {
    "small": {Path("components/vendors/model.py"), Path("tools/docs.py"),
              *(Path("components/vendors") / vendor.name / "__init__.py" for vendor in VENDORS
                if vendor.size_for("small"))},
    "app": {Path("__main__.py")},
    "none": {Path("components/vendors/effects.py")},  # the change effect "no server change", not the database choice
}


def _string_constants(path: Path) -> list[str]:
    return [n.value for n in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _where_written(value: str) -> set[Path]:
    return {path for path in SOURCES if value in _string_constants(path)}


STRING_DEFAULTS = [(k.name, k.default) for k in CONFIG_KEYS if isinstance(k.default, str)]


@pytest.mark.parametrize(("key", "default"), STRING_DEFAULTS, ids=[k for k, _ in STRING_DEFAULTS])
def test_each_default_is_written_once_in_the_schema(key: str, default: str) -> None:
    where = _where_written(default)
    assert SCHEMA in where, f"{key}'s default {default!r} is not written in {SCHEMA}"
    assert where - {SCHEMA} == OTHER_MEANINGS.get(default, set()), \
        f"{key}'s default {default!r} is written again outside the schema"


#: The host's scripts: a default written as a shell assignment (`keep=5`) would be a second copy there.
HOST_SCRIPTS = sorted(p for p in (ROOT / "components").rglob("*")
                      if p.is_file() and (p.suffix == ".sh" or "sbin" in p.parts))
#: Defaults too common as words or numbers to name the key (0, 1; "none" is also a systemd value).
SCRIPT_DEFAULTS = [(k.name, str(k.default)) for k in CONFIG_KEYS
                   if isinstance(k.default, (str, int)) and not isinstance(k.default, bool)
                   and str(k.default) not in ("", "0", "1", *OTHER_MEANINGS)]


def test_no_host_script_assigns_a_default_of_its_own() -> None:
    """The program passes every value the scripts need: a script that assigned a default would run with it when
    the program did not pass the flag, and a changed default in the schema would not reach it."""
    found = [f"{path.relative_to(ROOT)}:{n}: {key}={value}" for path in HOST_SCRIPTS
             for n, line in enumerate(path.read_text().splitlines(), 1) if not line.lstrip().startswith("#")
             for key, value in SCRIPT_DEFAULTS
             if re.search(rf"(^|[\s;(])[A-Za-z_]\w*={re.escape(value)}($|[\s;)])", line)]
    assert HOST_SCRIPTS and found == []


def test_the_other_meanings_are_still_there() -> None:
    """The exceptions above are facts, not a blanket pass: each names files that do hold the word."""
    for value, files in OTHER_MEANINGS.items():
        assert any(k.default == value for k in CONFIG_KEYS)
        assert files <= _where_written(value)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _as_field_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


HOST_FIELDS = {f.name: f for f in dataclasses.fields(HostSpec)}
#: Keys whose value the parser turns into something else: the tier becomes the vendor's plan (catalog.Size).
CONVERTED = {"size"}
KEYS_WITH_FIELD = [k for k in CONFIG_KEYS
                   if k.default is not None and _snake(k.name) in HOST_FIELDS and k.name not in CONVERTED]


@pytest.mark.parametrize("key", KEYS_WITH_FIELD, ids=[k.name for k in KEYS_WITH_FIELD])
def test_hostspec_defaults_are_the_schemas(key: Any) -> None:
    assert _field_default(HOST_FIELDS[_snake(key.name)]) == _as_field_value(key.default)


def test_hostspec_defaults_are_checked_for_enough_keys() -> None:
    names = {k.name for k in KEYS_WITH_FIELD}
    assert {"rebootWindow", "appHealthPath", "adminUser", "acmeServer", "swapSizeMb", "tags"} <= names


def test_the_parser_fills_in_each_schema_default() -> None:
    """An unset key is the schema's default in the spec (raw_config sets only vendor and keys)."""
    spec = parse_host_spec(raw_config())
    for key in KEYS_WITH_FIELD:
        assert getattr(spec, _snake(key.name)) == _as_field_value(key.default), key.name
    assert spec.size.tier == next(k.default for k in CONFIG_KEYS if k.name == "size")


def test_pulumi_yaml_schema_matches_config_keys() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["stackConfigDir"] == "stacks"
    schema = project["config"]
    assert list(schema) == [k.name for k in CONFIG_KEYS if not k.secret]  # secrets: see tools/gen_pulumi_yaml.py
    for key in CONFIG_KEYS:
        if key.secret:
            continue
        entry = schema[key.name]
        assert entry["type"] == key.type and entry["description"] == key.description
        if key.required:
            assert "default" not in entry
        else:
            assert entry["default"] == (key.default if key.default is not None else "")


def test_pulumi_yaml_defaults_are_the_schemas() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    for key in CONFIG_KEYS:
        if key.default is not None and not key.secret:
            assert declared[key.name]["default"] == key.default


def test_each_key_is_validated_by_its_sections_module() -> None:
    """A maintainer finds a key's checks in components/config/<section>.py, the section the schema gives it."""
    for key in CONFIG_KEYS:
        assert key.section in SECTIONS, key.name
        module = Path("components/config") / f"{key.section}.py"
        assert key.name in _string_constants(module), f"{key.name} is not read in {module}"
        others = [s for s in SECTIONS if s != key.section and key.name in _string_constants(
            Path("components/config") / f"{s}.py")]
        assert not others, f"{key.name} is read outside its section, in {others}"


def test_every_section_has_keys_and_a_validator() -> None:
    import importlib

    for section in SECTIONS:
        assert any(k.section == section for k in CONFIG_KEYS), section
        assert callable(importlib.import_module(f"components.config.{section}").validate)
