"""The plan of one stack (tools/plan/stack_plan.py): its sections in reading order, the policy section only when
the pack ran, a refusal stated up front, and figures that agree with the run they describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.config import load_stack_file, stack_name_of
from components.cost import monthly_cost
from components.firstboot import render_first_boot
from policy.offline import Violation
from tests.conftest import STACK_FILES
from tools.plan import stack_plan
from tools.plan.cost import usd
from tools.plan.document import Para
from tools.plan.stacks import config_rows

SECTIONS = ["Stack config", "What a config change does to the running server", "Resources", "Policy checks",
            "Outputs", "First boot", "Host configuration", "Monthly cost"]


def _titles(doc: Any) -> list[str]:
    return [s.title.split(" (")[0] for s in doc.sections]


def test_sections_come_in_reading_order_and_the_intro_states_size_and_cost(plans: dict[Path, Any]) -> None:
    path = STACK_FILES[0]
    doc, run = plans[path]
    spec = load_stack_file(path)
    assert doc.title == f"Plan for stack {stack_name_of(path)}"
    assert _titles(doc) == SECTIONS
    lead = doc.intro[0].text
    custom = [r for r in run.resources if r.custom]
    assert f"{spec.size.slug} in {spec.region}" in lead and f"{len(custom)} cloud resources" in lead
    assert f"{usd(monthly_cost(spec).total_usd)} per month" in lead


def test_without_the_pack_there_is_no_policy_section_and_refusals_lead(plans: dict[Path, Any]) -> None:
    path = STACK_FILES[0]
    _, run = plans[path]
    spec = load_stack_file(path)
    args = (stack_name_of(path), spec, render_first_boot(spec), run, config_rows(path))
    assert "Policy checks" not in _titles(stack_plan.plan_document(*args, violations=None))
    refused = [Violation("p", "mandatory", "server", "no"), Violation("q", "advisory", "server", "hmm")]
    doc = stack_plan.plan_document(*args, violations=refused)
    assert "Policy checks" in _titles(doc)
    assert Para("Refused by the policy pack: 1 mandatory policy violation; see Policy checks.") in doc.intro
    clean = stack_plan.plan_document(*args, violations=[])
    assert not any(isinstance(b, Para) and b.text.startswith("Refused") for b in clean.intro)
