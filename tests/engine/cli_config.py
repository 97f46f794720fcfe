"""Model of the Pulumi CLI's stack-config handling before `preview`, `up`, `refresh` and `destroy` run a program.

The CLI loads `Pulumi.yaml`, loads the stack file, applies the project's `config:` declarations to the stack's
values and validates the result; any error stops the command before the program starts. Mocks skip all of this,
so a project that passes every mock test can still fail every `pulumi preview`. Read from pulumi/pulumi at commit
1b5949891b3cefcb9974752b24a5ecef0acc86c8:

- sdk/go/common/workspace/loaders.go: LoadProjectBytes (schema check, shorthand rewrite, Project.Validate) and
  LoadProjectStackBytes (stackConfigNamespacedWithProject: bare stack keys get the project's namespace).
- sdk/go/common/workspace/project.go: RewriteShorthandConfigValues, Project.Validate, ValidateConfigValue,
  InferFullTypeName.
- sdk/go/common/resource/config/object.go, value.go: how a stack-file value becomes a config.Value
  (unmarshalObject, MarshalString, isSecureValue): `{secure: ...}` is the only secure form.
- pkg/workspace/config.go: mergeConfig, createConfigValue, validateStackConfigValues, validateStackConfigValue,
  missingStackConfigurationKeysError, formatMissingKeys.
- sdk/go/common/resource/config/map.go (Map.SecureKeys) and pkg/resource/deploy/source_eval.go: the keys whose
  values are secure reach the program as its secret keys (PULUMI_CONFIG_SECRET_KEYS, read by the Python SDK's
  pulumi.runtime.is_config_secret).

Not modelled: ESC environments (this project uses none), real decryption (a `decrypt` callable stands in), and
YAML 1.1 (PyYAML) versus YAML 1.2 (Go) scalar differences.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

INT64 = range(-(2**63), 2**63)


class CliConfigError(Exception):
    """What the CLI prints (after `error: `) and stops on; messages are the Go source's."""


@dataclass(frozen=True)
class Value:
    """config.Value: the value as text, whether it is ciphertext (`secure`) and whether the text is JSON."""

    text: str
    secure: bool = False
    object: bool = False


@dataclass(frozen=True)
class ConfigType:
    """workspace.ProjectConfigType: one entry of Pulumi.yaml's `config:` after the shorthand rewrite."""

    type: str | None = None
    items: Mapping[str, Any] | None = None  # ProjectConfigItemsType: {"type": ..., "items": ...}
    default: Any = None  # Go `any`: a YAML null is the same as no default
    value: Any = None
    secret: bool = False


@dataclass(frozen=True)
class Project:
    name: str
    config: Mapping[str, ConfigType]


# --- loading --------------------------------------------------------------------------------------------------

def _is_primitive(value: Any) -> bool:
    """isPrimitiveValue in config.go / project.go: Go string, int or bool (YAML floats are float64: not primitive)."""
    return isinstance(value, (str, bool, int))


def _namespaced_by_project(project_name: str, key: str) -> bool:
    """configKeyIsNamespacedByProject."""
    return ":" not in key or key.startswith(project_name + ":")


def load_project(document: Mapping[str, Any]) -> Project:
    """LoadProjectBytes after the schema check: RewriteShorthandConfigValues, then Project.Validate."""
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise CliConfigError("project is missing a non-empty string 'name' attribute")
    declared = document.get("config")
    config: dict[str, ConfigType] = {}
    if isinstance(declared, Mapping):
        for key, entry in declared.items():
            if _is_primitive(entry) or isinstance(entry, list):
                # RewriteShorthandConfigValues: `key: value` is a default for the project's own keys, a value
                # for other namespaces.
                entry = {"default": entry} if _namespaced_by_project(name, key) else {"value": entry}
            entry = entry or {}
            config[key] = ConfigType(type=entry.get("type"), items=entry.get("items"), default=entry.get("default"),
                                     value=entry.get("value"), secret=bool(entry.get("secret", False)))
    project = Project(name, config)
    _validate_project(project)
    return project


def _validate_project(project: Project) -> None:
    """Project.Validate."""
    for key, declared in project.config.items():
        if declared.default is not None and declared.value is not None:
            raise CliConfigError(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        if _namespaced_by_project(project.name, key):
            if declared.type == "array" and declared.items is None:
                raise CliConfigError(f"The configuration key '{key}' declares an array "
                                     "but does not specify the underlying type via the 'items' attribute")
            if declared.type is not None and declared.default is not None and \
                    not validate_config_value(declared.type, declared.items, declared.default):
                raise CliConfigError(f"The default value specified for configuration key '{key}' is not of the "
                                     f"expected type '{infer_full_type_name(declared.type, declared.items)}'")
        else:
            if declared.type is not None:
                raise CliConfigError(f"Configuration key '{key}' is not namespaced by the project and should not "
                                     "define a type")
            if declared.default is not None:
                raise CliConfigError(f"Configuration key '{key}' is not namespaced by the project and should not "
                                     "define a default value. Did you mean to use the 'value' attribute instead of "
                                     "'default'?")
            if declared.value is None:
                raise CliConfigError(f"Configuration key '{key}' is namespaced and must provide an attribute 'value'")


def _go_json(value: Any) -> str:
    """encoding/json.Marshal: compact, map keys sorted, whole float64s without a fraction."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _contains_secure(value: Any) -> bool:
    if _is_secure_form(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _is_secure_form(value: Any) -> bool:
    """isSecureValue: a map with the single key `secure` holding a string."""
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("secure"), str)


def stack_value(raw: Any) -> Value:
    """A stack file's YAML value as config.Value (unmarshalObject, then object.MarshalString)."""
    if _is_secure_form(raw):
        return Value(raw["secure"], secure=True)
    if isinstance(raw, bool):
        return Value("true" if raw else "false")
    if isinstance(raw, (int, float)):
        return Value(_go_json(raw))
    if isinstance(raw, str):
        return Value(raw)
    if isinstance(raw, (list, Mapping)) or raw is None:
        return Value(_go_json(raw), secure=_contains_secure(raw), object=True)
    return Value(str(raw))  # time.Time and friends: their String() form


def load_stack(project: Project, document: Mapping[str, Any] | None) -> dict[str, Value]:
    """LoadProjectStackBytes: the stack file's `config:`, bare keys namespaced with the project."""
    values = (document or {}).get("config") or {}
    return {(key if ":" in key else f"{project.name}:{key}"): stack_value(raw) for key, raw in values.items()}


# --- merge and validation (pkg/workspace/config.go) -------------------------------------------------------------

def create_config_value(raw: Any) -> Value:
    """createConfigValue: a project default becomes a *plain* value (never secure), primitives via fmt %v."""
    if isinstance(raw, bool):
        return Value("true" if raw else "false")
    if _is_primitive(raw):
        return Value(str(raw))
    return Value(_go_json(raw), object=True)


def _format_missing_keys(keys: list[str]) -> str:
    """formatMissingKeys: 'a'; or 'a', 'b' and 'c' (sorted)."""
    if len(keys) == 1:
        return f"'{keys[0]}'"
    keys = sorted(keys)
    return ", ".join(f"'{k}'" for k in keys[:-2]) + ("" if len(keys) == 2 else ", ") + \
        f"'{keys[-2]}' and '{keys[-1]}'"


def _full_key(project: Project, key: str) -> str:
    """parseConfigKey: bare keys belong to the project."""
    return key if ":" in key else f"{project.name}:{key}"


def merge_config(stack_name: str, project: Project, stack: Mapping[str, Value],
                 decrypt: Callable[[str], str] = lambda ciphertext: ciphertext) -> dict[str, Value]:
    """ValidateStackConfigAndApplyProjectConfig (mergeConfig with validate=true): the config the program gets."""
    merged = dict(stack)
    missing: list[str] = []
    for key in sorted(project.config):
        declared = project.config[key]
        full = _full_key(project, key)
        if full in merged:
            continue
        if declared.value is None and declared.default is None:
            if full.split(":", 1)[0] == project.name:
                missing.append(key)  # collected, reported together below
            continue
        merged[full] = create_config_value(declared.default if declared.default is not None else declared.value)
    if missing:
        plural = "values" if len(missing) > 1 else "value"
        raise CliConfigError(f"Stack '{stack_name}' is missing configuration {plural} {_format_missing_keys(missing)}")
    _validate_stack_config_values(stack_name, project, merged, decrypt)
    return merged


def _validate_stack_config_values(stack_name: str, project: Project, merged: Mapping[str, Value],
                                  decrypt: Callable[[str], str]) -> None:
    """validateStackConfigValues: only keys the project declares, and only typed ones; undeclared keys pass."""
    for key in sorted(project.config):
        declared = project.config[key]
        value = merged.get(_full_key(project, key))
        if declared.type is None or value is None:
            continue
        # validateStackConfigValue: the secret check comes first, on the value as stored (default or stack).
        if declared.secret and not value.secure:
            raise CliConfigError(f"Stack '{stack_name}' with configuration key '{key}' must be encrypted as it's "
                                 "secret")
        text = plaintext(value, decrypt)
        content = json.loads(text) if value.object else text
        if not validate_config_value(declared.type, declared.items, content):
            raise CliConfigError(f"Stack '{stack_name}' with configuration key '{key}' must be of type "
                                 f"'{infer_full_type_name(declared.type, declared.items)}'")


def plaintext(value: Value, decrypt: Callable[[str], str]) -> str:
    """Value.Value(decrypter): the text with every ciphertext decrypted, nested ones in objects too."""
    if not value.secure:
        return value.text
    if not value.object:
        return decrypt(value.text)

    def walk(node: Any) -> Any:
        if _is_secure_form(node):
            return decrypt(node["secure"])
        if isinstance(node, Mapping):
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    return _go_json(walk(json.loads(value.text)))


def infer_full_type_name(type_name: str, items: Mapping[str, Any] | None) -> str:
    """InferFullTypeName: array<string>, array<array<integer>>..."""
    if items is not None:
        return f"array<{infer_full_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


def validate_config_value(type_name: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """ValidateConfigValue: strings for string; ints, whole floats or Atoi-able text for integer; ..."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):  # Go's bool is no int
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        if isinstance(value, str):  # strconv.Atoi
            return re.fullmatch(r"[+-]?[0-9]+", value) is not None and int(value) in INT64
        return False
    if type_name == "boolean":
        return value in ("true", "false") if isinstance(value, str) else isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, Mapping)
    if not isinstance(value, list) or items is None:  # "array", and any unknown type name
        return False
    return all(validate_config_value(items.get("type", ""), items.get("items"), item) for item in value)


# --- what the program is handed -------------------------------------------------------------------------------

def program_config(merged: Mapping[str, Value],
                   decrypt: Callable[[str], str] = lambda ciphertext: ciphertext) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) as the language host hands them to the program: plaintext, and Map.SecureKeys."""
    config = {key: plaintext(v, decrypt) for key, v in merged.items()}
    return config, sorted(key for key, v in merged.items() if v.secure)
