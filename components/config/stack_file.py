"""Stack files (`stacks/Pulumi.<stack>.yaml`) read the way Pulumi hands their values to the program, for the
tests, the offline plan and the VM proof; a broken file is one line naming it (and the line), never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from components.config.problems import ConfigError
from components.config.schema import PROJECT, SECRET_PLACEHOLDER
from components.config.spec import HostSpec, parse_host_spec

PROJECT_DIR = Path(__file__).resolve().parents[2]  # a relative appSource is relative to the project


def stack_config_values(document: Mapping[str, Any],
                        project: str = PROJECT) -> tuple[dict[str, str], dict[str, str]]:
    """Split a stack file's `config:` into (project values, other namespaces' values) as Pulumi strings.

    Pulumi hands a program every value as a string: lists and maps as JSON, booleans as true/false.
    Encrypted `secure:` values are kept as an opaque marker (they are never needed to build the spec).
    """
    mine: dict[str, str] = {}
    other: dict[str, str] = {}
    for full_key, value in (document.get("config") or {}).items():
        namespace, _, key = str(full_key).partition(":")
        text = _pulumi_string(value)
        if namespace == project and key:
            mine[key] = text
        else:
            other[str(full_key)] = text
    return mine, other


def _pulumi_string(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class StackFileError(ConfigError):
    """A stack file that cannot be read as YAML config; one line naming the file (and line, when known)."""

    def __init__(self, where: str, message: str):
        self.problems = [f"{where}: {message}"]
        ValueError.__init__(self, f"invalid stack file {where}: {message}")


def read_stack_document(path: str | Path) -> dict[str, Any]:
    """A stack file's YAML document, or StackFileError naming the file and line (never a parser traceback)."""
    import yaml  # imported here: the Pulumi program itself never needs PyYAML

    class Loader(yaml.SafeLoader):
        """SafeLoader whose over-long integers fail at their line (int() refuses beyond 4300 digits)."""

    def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return yaml.SafeLoader.construct_yaml_int(loader, node)
        except ValueError:
            raise yaml.constructor.ConstructorError(None, None, "a number too long to read",
                                                    node.start_mark) from None

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    path = Path(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}  # a SafeLoader subclass
    except (OSError, UnicodeDecodeError) as err:
        raise StackFileError(str(path), f"cannot be read ({err.__class__.__name__}: {err})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise StackFileError(where, f"not valid YAML: {problem}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(str(path), "expected a mapping with a `config:` mapping of key: value")
    return document


def load_stack_file(path: str | Path, override: Callable[[dict[str, str]], None] | None = None) -> HostSpec:
    """Build the HostSpec of a `stacks/Pulumi.<stack>.yaml` file (for tests, the plan and the VM proof)."""
    path = Path(path)
    values, _ = stack_config_values(read_stack_document(path))
    if override:
        override(values)
    encrypted = [key for key, value in values.items() if value == SECRET_PLACEHOLDER]
    return parse_host_spec(values, stack=stack_name_of(path), base_dir=PROJECT_DIR, secret_keys=encrypted)


def stack_name_of(path: str | Path) -> str:
    """`stacks/Pulumi.prod.yaml` -> `prod`."""
    name = Path(path).name
    return name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") else Path(path).stem
