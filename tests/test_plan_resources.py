"""The plan's resource tree (tools/plan/resources.py): every resource with its inputs and options."""

from __future__ import annotations

import re

from components.config import load_stack_file, stack_name_of
from tests.plan_support import markdown_section
from tools import plan


def test_plan_shows_every_resource_with_its_key_inputs(stack_file, plans):
    doc, run = plans[stack_file]
    spec = load_stack_file(stack_file)
    text = plan.render_text(doc)
    tree = markdown_section(plan.render_markdown(doc), "Resources")
    assert doc.title == f"Plan for stack {stack_name_of(stack_file)}"
    for r in run.resources:
        assert f"{r.type}  {r.name}" in tree
    assert f"Resources ({sum(r.custom for r in run.resources)})" in text
    for value in (spec.size.slug, spec.region, spec.image_slug):
        assert re.search(rf": {re.escape(value)}$", tree, re.MULTILINE), value
    for port in ("22", "80", "443"):
        assert re.search(rf"(portRange|ports|fromPort|port): [0-9,]*\b{port}\b", tree), port
    assert "(options) protect: " + ("true" if spec.protect else "false") in tree
