"""The components in Pulumi's shape: each output declared on the class with a docstring and registered under its
camelCase name; what a component waits for comes through `opts`, and its children wait for it too."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

import pulumi
import pytest

from components.app import AppRelease
from components.benchmark import HostBenchmark
from components.host import WebHost
from components.hostconfig import HostConfig
from components.options import dependencies
from tests.conftest import full_config
from tests.test_app_release import EXAMPLE, run_recording_options

COMPONENTS = (WebHost, HostConfig, AppRelease, HostBenchmark)


def declared_outputs(cls: type) -> dict[str, str]:
    """{attribute: docstring} of each `name: pulumi.Output[...]` in the class body ("" when undocumented)."""
    (node,) = ast.parse(inspect.getsource(cls)).body
    assert isinstance(node, ast.ClassDef)
    found: dict[str, str] = {}
    for stmt, after in zip(node.body, [*node.body[1:], None], strict=True):
        if isinstance(stmt, ast.AnnAssign) and ast.unparse(stmt.annotation).startswith("pulumi.Output["):
            doc = after.value.value if (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                                        and isinstance(after.value.value, str)) else ""
            found[ast.unparse(stmt.target)] = doc
    return found


def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_every_output_is_declared_with_a_docstring(cls: type) -> None:
    outputs = declared_outputs(cls)
    assert outputs, cls
    assert all(doc.strip() for doc in outputs.values()), outputs


def test_every_declared_output_is_registered_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[tuple[pulumi.ComponentResource, dict[str, Any]]] = []
    original = pulumi.ComponentResource.register_outputs

    def record(self: pulumi.ComponentResource, outputs: Any) -> None:
        registered.append((self, dict(outputs)))
        original(self, outputs)

    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", record)
    run_recording_options(full_config(appSource=str(EXAMPLE), benchmark=True), "outputs")
    for cls in COMPONENTS:
        (component, outputs) = next((c, o) for c, o in registered if isinstance(c, cls))
        declared = declared_outputs(cls)
        assert set(outputs) == {camel(name) for name in declared}, cls
        for name in declared:
            value = getattr(component, name)
            assert isinstance(value, pulumi.Output) and outputs[camel(name)] is value, (cls, name)


def test_dependencies_come_through_the_options() -> None:
    class Thing(pulumi.CustomResource):
        def __init__(self) -> None:  # never registered: only its type matters here
            pass

    one, two = Thing(), Thing()
    assert dependencies(None) == [] and dependencies(pulumi.ResourceOptions()) == []
    assert dependencies(pulumi.ResourceOptions(depends_on=one)) == [one]
    assert dependencies(pulumi.ResourceOptions(depends_on=[one, two])) == [one, two]
    with pytest.raises(TypeError, match="not Outputs"):
        dependencies(pulumi.ResourceOptions(depends_on=pulumi.Output.from_input([one])))
