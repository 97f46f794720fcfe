"""Pulumi.yaml and every stack file pass the Pulumi CLI's config handling, and the program gets what the CLI hands it.

Models (see tests/engine/cli_config.py for the Go functions): LoadProjectBytes' JSON-schema check against the
published project schema (pulumi/pulumi sdk/go/common/workspace/project.json, copied to tests/data with a note on
its commit), the shorthand rewrite and Project.Validate (sdk/go/common/workspace/project.go), and mergeConfig with
validateStackConfigValue (pkg/workspace/config.go): project defaults applied as plain values, missing keys
reported together, declared types checked (array items included), secret keys demanding `{secure: ...}` values,
undeclared stack keys left alone. These are the checks `pulumi preview`, `up`, `refresh` and `destroy` run
before the program starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from components.config import PROJECT
from components.testing.mockrun import run_program
from tests.conftest import ED25519_KEY, ROOT
from tests.engine.cli_config import (
    CliConfigError,
    Value,
    load_project,
    load_stack,
    merge_config,
    program_config,
    stack_value,
    validate_config_value,
)

SCHEMA = json.loads((ROOT / "tests" / "data" / "pulumi-project.schema.json").read_text())
#: What `pulumi config set --secret` writes: base64 ciphertext under `secure:` (the model never decrypts it).
CIPHERTEXT = "v1:ZmFrZS1ub25jZQ==:ZmFrZS1jaXBoZXJ0ZXh0"
SECRET_ENV = "SMTP_PASSWORD=correct-horse\nAPI_KEY=k-123"


def project_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    return document


def cli_check(stack_name: str, stack_document: dict[str, Any], project: dict[str, Any] | None = None,
              decrypt: Any = None) -> dict[str, Value]:
    """What the CLI does with Pulumi.yaml and one stack file before it starts the program."""
    loaded = load_project(project if project is not None else project_document())
    stack = load_stack(loaded, stack_document)
    return merge_config(stack_name, loaded, stack, decrypt) if decrypt else merge_config(stack_name, loaded, stack)


def stack_document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    return document


def _unwrapped_strings(node: Any) -> list[str]:
    """Every string in resource inputs that is not inside a wire-format secret."""
    if isinstance(node, dict):
        if node.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return []
        return [s for v in node.values() for s in _unwrapped_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _unwrapped_strings(v)]
    return [node] if isinstance(node, str) else []


# --- Pulumi.yaml ------------------------------------------------------------------------------------------------

def test_project_file_matches_the_published_schema() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(project_document())]
    assert errors == []
    # The validator is live: an attribute the CLI does not know in a config declaration is refused.
    broken = project_document()
    broken["config"]["vendor"]["required"] = True
    assert not validator.is_valid(broken)


def test_project_file_loads_as_the_cli_loads_it() -> None:
    project = load_project(project_document())
    assert project.name == PROJECT
    assert project.config["sshAllowedCidrs"].items == {"type": "string"}


def test_no_secret_key_is_declared_with_a_default_or_as_required() -> None:
    """Either form makes the CLI refuse stacks: a default is applied as a plain value; no default means required."""
    for key, declared in load_project(project_document()).config.items():
        assert not declared.secret, f"{key}: secret keys cannot be declared in Pulumi.yaml (see the README)"


# --- every stack file found in stacks/ at test time ---------------------------------------------------------

def test_stack_file_passes_the_cli_config_check(stack_file: Path) -> None:
    from components.config import stack_name_of

    merged = cli_check(stack_name_of(stack_file), stack_document(stack_file))
    # Every declared key reaches the program: from the stack file or as the project's default.
    assert {f"{PROJECT}:{key}" for key in project_document()["config"]} <= set(merged)


def test_a_users_copy_with_their_own_key_passes(tmp_path: Path) -> None:
    document = stack_document(ROOT / "stacks" / "Pulumi.linode-dev.yaml")
    document["config"][f"{PROJECT}:sshPublicKeys"] = [ED25519_KEY]
    document["config"][f"{PROJECT}:region"] = "us-east"
    merged = cli_check("mine", document)
    assert json.loads(merged[f"{PROJECT}:sshPublicKeys"].text) == [ED25519_KEY]


def test_a_stack_with_secrets_set_by_the_cli_passes_and_the_program_reads_them_as_secrets() -> None:
    """`pulumi config set --secret hardened-vps:appSecrets ...` on a copy of prod: the CLI check passes, the
    program is handed the key as secret and the release gets the names (never the values) of the secrets."""
    document = stack_document(ROOT / "stacks" / "Pulumi.prod.yaml")
    document["config"][f"{PROJECT}:appSecrets"] = {"secure": CIPHERTEXT}
    document["config"][f"{PROJECT}:deployPrivateKey"] = {"secure": CIPHERTEXT + "k"}
    plaintexts = {CIPHERTEXT: SECRET_ENV, CIPHERTEXT + "k": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n"}
    merged = cli_check("shop", document, decrypt=plaintexts.__getitem__)
    assert merged[f"{PROJECT}:appSecrets"].secure
    config, secret_keys = program_config(merged, plaintexts.__getitem__)
    assert secret_keys == [f"{PROJECT}:appSecrets", f"{PROJECT}:deployPrivateKey"]
    run = run_program(config, stack="shop", secret_keys=secret_keys)
    assert "correct-horse" not in json.dumps(run.outputs) and "appRelease" in run.outputs
    assert all("correct-horse" not in text for r in run.resources for text in _unwrapped_strings(r.inputs))
    assert any("correct-horse" in json.dumps(r.inputs, default=str) for r in run.resources)  # sent, as a secret


@pytest.mark.parametrize("key", ["appSecrets", "deployPrivateKey"])
def test_a_plain_secret_passes_the_cli_but_the_program_refuses_it(key: str) -> None:
    document = stack_document(ROOT / "stacks" / "Pulumi.prod.yaml")
    document["config"][f"{PROJECT}:{key}"] = "API_KEY=k-123" if key == "appSecrets" else "-----BEGIN x"
    config, secret_keys = program_config(cli_check("shop", document))  # undeclared: the CLI lets it through
    assert secret_keys == []
    with pytest.raises(pulumi.RunError) as err:
        run_program(config, stack="shop", secret_keys=secret_keys)
    text = str(err.value)
    assert f"{PROJECT}:{key}: stored in plain text" in text
    assert f"pulumi config set --secret {PROJECT}:{key}" in text
    assert "k-123" not in text and "BEGIN" not in text


# --- the model follows the Go source --------------------------------------------------------------------------

def test_model_refuses_a_secret_keys_default_as_the_cli_does() -> None:
    """The defect this project once shipped: `secret: true` with `default: ''` fails every stack."""
    project = {"name": "p", "config": {"token": {"type": "string", "secret": True, "default": ""}}}
    with pytest.raises(CliConfigError, match=r"^Stack 'dev' with configuration key 'token' must be encrypted as "
                                             r"it's secret$"):
        cli_check("dev", {"config": {}}, project)
    merged = cli_check("dev", {"config": {"p:token": {"secure": CIPHERTEXT}}}, project)
    assert merged["p:token"] == Value(CIPHERTEXT, secure=True)


def test_model_reports_every_missing_key_in_one_error() -> None:
    project = {"name": "p", "config": {"b": {"type": "string"}, "a": {"type": "string", "secret": True},
                                       "c": {"type": "string"}, "other:thing": {"value": "x"}}}
    with pytest.raises(CliConfigError, match=r"^Stack 'dev' is missing configuration values 'a', 'b' and 'c'$"):
        cli_check("dev", {"config": {}}, project)
    with pytest.raises(CliConfigError, match=r"^Stack 'dev' is missing configuration value 'c'$"):
        cli_check("dev", {"config": {"a": {"secure": "x"}, "p:b": "y"}}, project)


def test_model_type_checks_declared_keys_and_array_items() -> None:
    project = {"name": "p", "config": {"keys": {"type": "array", "items": {"type": "string"}},
                                       "n": {"type": "integer", "default": 1}, "on": {"type": "boolean",
                                                                                      "default": False}}}
    ok = cli_check("dev", {"config": {"p:keys": ["a"], "p:n": "42", "p:on": True, "p:undeclared": [1, {"x": 2}]}},
                   project)
    assert ok["p:on"] == Value("true") and ok["p:undeclared"].object
    bad = {"p:keys": [1]}, {"p:keys": "a"}, {"p:keys": ["a"], "p:n": "4.5"}, {"p:keys": ["a"], "p:on": "yes"}
    expected = "array<string>", "array<string>", "integer", "boolean"
    for values, type_name in zip(bad, expected, strict=True):
        with pytest.raises(CliConfigError, match=rf"must be of type '{type_name}'$"):
            cli_check("dev", {"config": values}, project)


def test_model_applies_defaults_as_plain_values_the_program_reads() -> None:
    project = {"name": "p", "config": {"list": {"type": "array", "items": {"type": "string"}, "default": []},
                                       "n": {"type": "integer", "default": 1024}, "flag": True}}
    merged = cli_check("dev", {"config": {}}, project)
    assert merged == {"p:list": Value("[]", object=True), "p:n": Value("1024"), "p:flag": Value("true")}


def test_model_validates_the_project_as_the_cli_does() -> None:
    cases = [
        ({"keys": {"type": "array"}}, "declares an array but does not specify the underlying type"),
        ({"n": {"type": "integer", "default": "many"}}, "is not of the expected type 'integer'"),
        ({"aws:region": {"type": "string", "value": "x"}}, "should not define a type"),
        ({"aws:region": {"default": "x"}}, "should not define a default value"),
        ({"a": {"default": 1, "value": 2}}, "cannot have both a 'default' and 'value' attribute"),
    ]
    for config, needle in cases:
        with pytest.raises(CliConfigError, match=needle):
            load_project({"name": "p", "config": config})


def test_stack_values_take_the_cli_wire_form() -> None:
    assert stack_value({"secure": "abc"}) == Value("abc", secure=True)
    assert stack_value(["a", {"secure": "c"}]) == Value('["a",{"secure":"c"}]', secure=True, object=True)
    assert stack_value(1024) == Value("1024") and stack_value(False) == Value("false")
    assert validate_config_value("integer", None, 3.0) and not validate_config_value("integer", None, True)
