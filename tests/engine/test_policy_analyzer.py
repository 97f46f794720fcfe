"""The offline plan reports what `pulumi preview --policy-pack policy` would: the pack's own analyzer, fed like the
engine feeds it, finds the same violations as the plan on every shipped stack and on a refused one.

Models, read from the sources:
- pulumi/pulumi `pkg/resource/deploy/step_generator.go` and `analyzeResource` in `pkg/resource/deploy`: the engine
  calls the analyzer's Analyze once per registered resource, with its inputs and options (protect, ignoreChanges,
  parent), and shows every diagnostic on that resource's URN; after the program, AnalyzeStack gets every resource
  with its outputs, parent, dependencies and property dependencies, each diagnostic on the URN it names. A
  mandatory diagnostic fails the preview.
- `pkg/resource/plugin/analyzer_plugin.go`: the stack config reaches the pack process as PULUMI_CONFIG, its project
  and stack as PULUMI_PROJECT and PULUMI_STACK; pulumi_policy `_configure_runtime_settings` makes them the runtime's
  config, project and stack. The pack rebuilds the stack's first boot from them, so without them it fails closed.
- pulumi_policy `policy.py`: the pack side is pulumi_policy's own `_PolicyAnalyzerServicer`, the object
  `PolicyPack` serves over gRPC (policy/__main__.py), called here without the server. Its diagnostics carry the
  policy description, a newline, then the reported message.

The requests are built from a run of their own (not the plan's), from what each RegisterResource request carried,
with values in wire form (secrets and assets as the engine marshals them), so a plan that lost an option, an
input or the config on its way to the policies would disagree.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy.deserialize import SPECIAL_ASSET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

from components.config import PROJECT
from policy.hardening_policies.pack import PACK_NAME, POLICIES, remote_commands
from policy.hardening_policies.resources import REMOTE_COMMAND
from policy.offline import STACK_TYPE, Registered, StackCase, run_stack_file_case
from tests.conftest import STACK_FILES
from tests.policy_support import DROPLET
from tools import plan


def _wire(value: Any) -> Any:
    """A recorded value as the engine marshals it into a Struct (assets by signature; numbers are doubles)."""
    if isinstance(value, pulumi.FileAsset):
        return {SPECIAL_SIG_KEY: SPECIAL_ASSET_SIG, "path": str(value.path)}
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if value is None or isinstance(value, (str, bool, float, int)):
        return value
    raise TypeError(f"no wire form for {type(value).__name__}")


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(_wire(props), struct_pb2.Struct())


def _options(reg: Registered) -> Any:
    return proto.AnalyzerResourceOptions(
        protect=reg.protect, ignoreChanges=reg.ignore_changes, deleteBeforeReplace=reg.delete_before_replace,
        deleteBeforeReplaceDefined=True, parent=reg.parent)


def _level(diagnostic: Any) -> str:
    return str(proto.EnforcementLevel.Name(diagnostic.enforcementLevel)).lower()


def _message(diagnostic: Any) -> str:
    prefix = diagnostic.description + "\n"
    assert diagnostic.message.startswith(prefix)
    return str(diagnostic.message[len(prefix):])


def pack_verdict(case: StackCase, monkeypatch: pytest.MonkeyPatch,
                 names: bool = True) -> list[tuple[str, str, str, str]]:
    """(policy, level, urn, message) for every diagnostic the pack's analyzer returns, as the engine shows them.
    The pack process starts with the SDK's default project and stack; the engine's environment names them
    (`names`: PULUMI_PROJECT, PULUMI_STACK, PULUMI_DRY_RUN, as `analyzer_plugin.go` sets them)."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.MANDATORY)
    monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "project", "project")  # what a fresh process has
    monkeypatch.setattr(pulumi.runtime.settings.SETTINGS, "stack", "stack")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(case.config))
    if names:
        monkeypatch.setenv("PULUMI_PROJECT", PROJECT)
        monkeypatch.setenv("PULUMI_STACK", case.stack)
        monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    stack_urn = next(r.urn for r in case.resources if r.type == STACK_TYPE)
    found = []
    try:
        for reg in case.resources:
            response = servicer.Analyze(proto.AnalyzeRequest(
                type=reg.type, properties=_struct(reg.inputs), urn=reg.urn, name=reg.name, options=_options(reg)),
                None)
            found += [(d.policyName, _level(d), reg.urn, _message(d)) for d in response.diagnostics]
        response = servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=[
            proto.AnalyzerResource(
                type=r.type, properties=_struct(r.outputs), urn=r.urn, name=r.name, options=_options(r),
                parent=r.parent, dependencies=r.dependencies,
                propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v)
                                      for k, v in r.property_dependencies.items()})
            for r in case.resources]), None)
        found += [(d.policyName, _level(d), d.urn or stack_urn, _message(d)) for d in response.diagnostics]
    finally:
        pulumi.runtime.set_all_config({})  # the servicer loads PULUMI_CONFIG into the process-wide config
    return found


def _production_without_safety(tmp_path: Path) -> Path:
    document = yaml.safe_load((plan.STACKS_DIR / "Pulumi.prod.yaml").read_text())
    document["config"]["hardened-vps:backups"] = False
    document["config"]["hardened-vps:protect"] = False
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize("which", [*(p.stem.removeprefix("Pulumi.") for p in STACK_FILES), "prod-unsafe"])
def test_plan_and_pack_report_the_same_violations(which: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = _production_without_safety(tmp_path) if which == "prod-unsafe" else plan.STACKS_DIR / f"Pulumi.{which}.yaml"
    _, violations = plan.plan_and_violations(path)
    _, case = run_stack_file_case(path)
    pack = pack_verdict(case, monkeypatch)
    assert sorted(pack) == sorted((v.policy, v.level, v.urn, v.message) for v in violations)
    mandatory = {v.policy for v in violations if v.mandatory}
    if which == "prod-unsafe":  # the plan refuses what the pack refuses
        assert mandatory == {"production-backups-and-protection"} and len(pack) == 2
    else:
        assert mandatory == set()


def test_without_the_stack_name_the_pack_refuses_the_first_boot(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first boot depends on the stack (the default host name follows it): a pack that is not told which
    stack it analyses cannot check it and refuses it, rather than judging it against another stack."""
    _, case = run_stack_file_case(plan.STACKS_DIR / "Pulumi.do-dev.yaml")
    refused = [v for v in pack_verdict(case, monkeypatch, names=False)
               if v[1] == "mandatory" and v[0] != "remote-commands-are-the-products"]  # that one fails closed too
    ((policy, _, urn, message),) = refused
    assert policy == "server-first-boot-data" and urn == case.one(DROPLET).urn and "PULUMI_STACK" in message


def test_a_tampered_deploy_command_is_refused_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """pulumi/pulumi `pkg/resource/deploy/deployment_executor.go` runs the stack policies (AnalyzeStack, via
    `stepGen.AnalyzeResources`) only after the step executor has completed, i.e. after every command ran; the
    per-resource Analyze happens as each step is generated (`step_generator.go`), before it executes. So the check
    on remote commands is a resource policy: the pack's Analyze refuses the tampered deploy on its own inputs."""
    assert isinstance(remote_commands, ResourceValidationPolicy)
    _, case = run_stack_file_case(plan.STACKS_DIR / "Pulumi.prod.yaml")
    (deploy,) = [r for r in case.resources if r.type == REMOTE_COMMAND and r.name.endswith("-deploy")]
    tampered = replace(deploy, inputs={**deploy.inputs, "create": "sudo nft flush ruleset; " + deploy.inputs["create"]})
    case = replace(case, resources=[tampered if r is deploy else r for r in case.resources])
    mandatory = [v for v in pack_verdict(case, monkeypatch) if v[1] == "mandatory"]
    assert [(policy, urn) for policy, _, urn, _ in mandatory] == [("remote-commands-are-the-products", deploy.urn)]
