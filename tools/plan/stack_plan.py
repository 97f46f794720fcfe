"""The plan of one stack: one run of the program under mocks, described section by section."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from components.config import HostSpec, load_stack_file, stack_name_of
from components.cost import monthly_cost
from components.firstboot import RenderedFirstBoot, converge_files, describe_first_boot, render_first_boot
from components.hostconfig import converge_stdin
from components.regions import find_place
from components.testing import mockrun
from policy import offline
from tools.plan.config_changes import change_blocks
from tools.plan.cost import cost_table, usd
from tools.plan.document import Block, Document, Para, Pre, Section, Table
from tools.plan.firstboot import first_boot_blocks, first_boot_forms, host_config_blocks, sent_forms
from tools.plan.policy_checks import policy_blocks, violation_count
from tools.plan.resources import output_rows, resource_tree
from tools.plan.stacks import config_rows
from tools.plan.values import Shown, computed_refs


def build_plan(path: Path) -> Document:
    """Run the stack under mocks and describe what it would create and cost, and what the policy pack says."""
    return plan_and_violations(path)[0]


def plan_and_violations(path: Path) -> tuple[Document, list[offline.Violation]]:
    """The plan, and the policy pack's violations: both from one run of the program."""
    spec = load_stack_file(path)  # ConfigError here: nicer than the program's RunError, and nothing ran yet
    rendered = render_first_boot(spec)
    run, case = offline.run_stack_file_case(path)
    violations = offline.evaluate(case)
    return plan_document(stack_name_of(path), spec, rendered, run, config_rows(path), violations), violations


def plan_document(stack: str, spec: HostSpec, rendered: RenderedFirstBoot, run: mockrun.StackRun,
                  config: list[list[str]], violations: Sequence[offline.Violation] | None = None) -> Document:
    """The plan document; `violations` None leaves out the policy checks (the caller did not run the pack)."""
    first_boot = describe_first_boot(spec)
    forms = first_boot_forms(rendered)
    sent = sent_forms(run.resources, forms)
    converge = converge_stdin(spec)
    shown = Shown(
        first_boot={**{data: f"[first boot: {form} form, {len(data.encode())} bytes, digest {rendered.digest[:12]}; "
                             "see First boot]" for form, data in forms.items()},
                    converge: f"[converge bundle, base64: {len(converge_files(spec).files)} files, "
                              f"{len(converge.encode())} bytes; see Host configuration]"},
        computed=computed_refs(run.resources),
        ids={r.id: f"<{r.name}.id>" for r in run.resources},
        config_ids=frozenset({spec.image_slug}),
    )
    vendor = spec.vendor_info
    cost = monthly_cost(spec)
    place = find_place(spec.region)[1]
    custom = [r for r in run.resources if r.custom]

    intro: list[Block] = [
        Para(f"{vendor.title} {spec.size.slug} in {spec.region} ({place.label}), {spec.image}: "
             f"{len(custom)} cloud resources, {usd(cost.total_usd)} per month."),
        Para("Offline: `__main__.py` ran under Pulumi mocks (no CLI, plugin or credential). "
             "`<resource.attribute>` marks a value the vendor assigns at deploy time; `[secret]` a masked value."),
    ]
    refused = sum(v.mandatory for v in violations or ())
    if refused:
        intro.append(Para(f"Refused by the policy pack: {violation_count(refused, 'mandatory')}; see Policy checks."))
    sections = [
        Section("Stack config", [Table(["Key", "Value"], config, code=frozenset({1}))]),
        Section("What a config change does to the running server", change_blocks(spec)),
        Section(f"Resources ({len(custom)})", [Pre(resource_tree(stack, spec, run, shown, set(sent.values())))]),
        *([Section("Policy checks", policy_blocks(violations))] if violations is not None else []),
        Section("Outputs", [Table(["Output", "Value"], output_rows(run, shown), code=frozenset({1}))]),
        Section("First boot", first_boot_blocks(spec, first_boot, rendered, sent, run)),
        Section("Host configuration", host_config_blocks(spec, run)),
        Section("Monthly cost", [cost_table(spec), Para(
            "List prices in USD from components/catalog.py; taxes and region surcharges excluded. Compare "
            f"vendors: python -m tools.plan {stack} --compare")]),
    ]
    return Document(f"Plan for stack {stack}", sections, intro)
