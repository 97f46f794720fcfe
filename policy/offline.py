"""The policy pack run offline: a stack's registrations presented to the policies the way the engine presents them.

`pulumi preview --policy-pack policy` needs the CLI; the offline plan (tools/plan/) and the tests do not have it.
They run the program under the mocks (components.testing.mockrun), capture what each RegisterResource request carried
(URN, parent, protect, ignoreChanges, dependencies, property dependencies) and hand it to the same policy objects
the pack serves. Nothing here starts a gRPC server.

What is modelled, read from the sources (not copied):
- pulumi_policy `policy.py`, `_PolicyAnalyzerServicer.Analyze`: every resource policy sees each resource's inputs,
  deserialized (`deserialize.py`: wire-format secrets unwrapped) behind `proxy.unknown_checking_proxy`, its
  options, and its own entry of the policy pack config (None when unset). The level is the pack config's, else
  the policy's, else the pack's; `disabled` skips the policy, `remediate` reports as mandatory; an
  UnknownValueError becomes an advisory "can't run policy ... during preview".
- `AnalyzeStack`: the stack policies see every resource's outputs, with parent, dependencies and property
  dependencies linked to the other resources by URN.
- `_configure_runtime_settings`: the stack's config reaches the pack as PULUMI_CONFIG and is loaded into
  `pulumi.Config` before each analysis, and PULUMI_PROJECT/PULUMI_STACK become the runtime's project and stack
  (`analysing` sets the same config and names; pulumi/pulumi `analyzer_plugin.go` sets those variables).
- pulumi/pulumi `pkg/resource/deploy/step_generator.go`: a mandatory diagnostic fails the preview and stops an
  update; an advisory one is only printed. `pkg/backend/display/progress.go`: a violation without a URN is shown
  on the stack.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from components.config import PROJECT
from components.testing.mockrun import StackRun, run_program, stack_file_config
from policy import hardening_policies as hp

#: The level policy/__main__.py gives the pack: what a policy without its own level gets.
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
STACK_TYPE = "pulumi:pulumi:Stack"

Policy = ResourceValidationPolicy | StackValidationPolicy


# --- what the program registers, as the engine hands it to a policy pack ------------------------------------------
@dataclass
class Registered:
    urn: str
    type: str
    name: str
    parent: str
    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class StackCase:
    stack: str
    config: dict[str, str]  # the stack's config, as the CLI hands it to the pack (PULUMI_CONFIG)
    resources: list[Registered]

    def one(self, type_: str) -> Registered:
        (found,) = [r for r in self.resources if r.type == type_]
        return found

    def without(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type != type_]


@contextmanager
def capturing() -> Iterator[list[Registered]]:
    """Record what every RegisterResource request to the mock monitor carries (the mocks' `new_resource` sees
    neither the URN nor the options nor the dependencies)."""
    captured: list[Registered] = []
    original = pulumi_mocks.MockMonitor.RegisterResource

    def register(monitor: pulumi_mocks.MockMonitor, request: Any) -> Any:
        response = original(monitor, request)
        state = monitor.resources.get(response.urn)
        captured.append(Registered(
            urn=response.urn, type=request.type, name=request.name, parent=request.parent,
            protect=request.protect if request.HasField("protect") else False,
            ignore_changes=list(request.ignoreChanges), delete_before_replace=request.deleteBeforeReplace,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            # Bridged providers keep the id among the outputs.
            outputs={**(state.state if state else {}), **({"id": state.id} if state and request.custom else {})}))
        return response

    setattr(pulumi_mocks.MockMonitor, "RegisterResource", register)  # noqa: B010  (a method, patched for the run)
    try:
        yield captured
    finally:
        setattr(pulumi_mocks.MockMonitor, "RegisterResource", original)  # noqa: B010


def run_case(config: Mapping[str, str], stack: str = "test",
             secret_keys: list[str] | None = None) -> tuple[StackRun, StackCase]:
    """Run the program once: what it recorded (for the plan) and its registrations as the pack sees them."""
    with capturing() as captured:
        run = run_program(config, stack=stack, secret_keys=secret_keys)
    pulumi.runtime.set_all_config({})  # the run leaves the stack's config behind
    by_key = {(r.type, r.name): r for r in run.resources}
    regs = [replace(reg, inputs=dict(by_key[(reg.type, reg.name)].inputs)) if (reg.type, reg.name) in by_key
            else reg for reg in captured]
    return run, StackCase(stack, dict(config), regs)


def run_stack_file_case(path: str | Path) -> tuple[StackRun, StackCase]:
    stack, config, secrets = stack_file_config(path)
    return run_case(config, stack=stack, secret_keys=secrets)


@contextmanager
def analysing(case: StackCase) -> Iterator[None]:
    """The stack's config and name visible to the policies, as pulumi_policy sets them from PULUMI_CONFIG,
    PULUMI_PROJECT and PULUMI_STACK (the previous runtime settings come back afterwards)."""
    settings = pulumi.runtime.settings.SETTINGS
    saved = (settings.project, settings.stack)
    pulumi.runtime.set_all_config(dict(case.config))
    settings.project, settings.stack = PROJECT, case.stack
    try:
        yield
    finally:
        pulumi.runtime.set_all_config({})
        settings.project, settings.stack = saved


# --- calling the policies as the analyzer does ----------------------------------------------------------------------
def options(reg: Registered, protect: bool | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=reg.protect if protect is None else protect, ignore_changes=reg.ignore_changes,
        delete_before_replace=reg.delete_before_replace, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[], parent=reg.parent or None)


def _presented(props: Mapping[str, Any]) -> Any:
    """Properties as a policy receives them: deserialized (secrets unwrapped), unknowns guarded."""
    return unknown_checking_proxy(deserialize_properties(copy.deepcopy(dict(props))))


def _synchronous(policy: Policy, result: Any) -> None:
    if result is not None:  # the pack's policies are synchronous; an awaitable here would be silently dropped
        raise TypeError(f"policy {policy.name}: validate returned {result!r}, expected None")


def check_resource(policy: ResourceValidationPolicy, reg: Registered, props: Mapping[str, Any] | None = None,
                   protect: bool | None = None, config: Mapping[str, Any] | None = None) -> list[str]:
    """The messages one resource policy reports for one resource (`props`/`protect` override what it registered)."""
    messages: list[str] = []
    args = ResourceValidationArgs(reg.type, _presented(props or reg.inputs), reg.urn, reg.name,
                                  options(reg, protect), None, config)

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    _synchronous(policy, policy.validate(args, report))
    return messages


def check_stack(resources: list[Registered], config: Mapping[str, Any] | None = None,
                policies: Sequence[StackValidationPolicy] = hp.STACK_POLICIES) -> list[tuple[str, str | None]]:
    """Run the stack policies over these registrations, wired like the analyzer wires them: (message, urn)."""
    made = {r.urn: PolicyResource(r.type, _presented(r.outputs), r.urn, r.name, options(r), None, None, [], {})
            for r in resources}
    for r in resources:
        made[r.urn].parent = made.get(r.parent)
        made[r.urn].dependencies = [made[d] for d in r.dependencies if d in made]
        made[r.urn].property_dependencies = {k: [made[d] for d in v if d in made]
                                             for k, v in r.property_dependencies.items()}
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    for policy in policies:
        _synchronous(policy, policy.validate(StackValidationArgs(list(made.values()), config), report))
    return found


# --- the verdict -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """One diagnostic as the CLI shows it under "Policies": policy, level, the resource it is on, the message."""

    policy: str
    level: str  # EnforcementLevel value: "mandatory" or "advisory"
    resource: str  # "<type>  <name>", as the plan's resource tree shows it
    message: str
    urn: str = ""

    @property
    def mandatory(self) -> bool:
        return self.level == EnforcementLevel.MANDATORY.value


def enforcement_level(policy: Policy) -> EnforcementLevel:
    """The level the analyzer reports a policy's violations at: the policy's own, else the pack's; a remediation
    that still finds a violation is reported as mandatory."""
    level = policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
    return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level


def evaluate(case: StackCase, policies: Sequence[Policy] = hp.POLICIES) -> list[Violation]:
    """Every violation `pulumi preview --policy-pack policy` would report for this stack (no policy pack config),
    in pack order, then by URN (the engine registers independent resources concurrently, in no fixed order)."""
    by_urn = {r.urn: r for r in case.resources}
    stack_urn = next((r.urn for r in case.resources if r.type == STACK_TYPE), "")
    found: list[Violation] = []

    def add(policy: Policy, level: EnforcementLevel, message: str, urn: str) -> None:
        reg = by_urn.get(urn)
        resource = f"{reg.type}  {reg.name}" if reg else f"{STACK_TYPE}  {case.stack}"
        found.append(Violation(policy.name, level.value, resource, message, urn))

    def unknown(policy: Policy, err: UnknownValueError) -> None:
        add(policy, EnforcementLevel.ADVISORY,
            f"can't run policy '{policy.name}' from policy pack '{hp.PACK_NAME}' during preview: {err}", "")

    with analysing(case):
        for policy in policies:
            level = enforcement_level(policy)
            if level == EnforcementLevel.DISABLED:
                continue
            if isinstance(policy, ResourceValidationPolicy):
                for reg in sorted(case.resources, key=lambda r: r.urn):  # one Analyze call per resource
                    try:
                        messages = check_resource(policy, reg)
                    except UnknownValueError as err:
                        unknown(policy, err)
                        continue
                    for message in messages:
                        add(policy, level, message, reg.urn)
            else:
                try:
                    reported = check_stack(case.resources, None, (policy,))
                except UnknownValueError as err:
                    unknown(policy, err)
                    continue
                for message, urn in reported:
                    add(policy, level, message, urn or stack_urn)
    return found


def evaluate_stack_file(path: str | Path) -> list[Violation]:
    return evaluate(run_stack_file_case(path)[1])
