"""Recorded values in the plan (tools/plan/values.py): no mock stand-in shows, secrets are masked."""

from __future__ import annotations

import re

from pulumi.runtime import rpc

from components.config import load_stack_file
from components.firstboot import (
    render_first_boot,
)
from components.testing import mockrun
from tests.conftest import STACK_FILES
from tests.plan_support import markdown_section
from tools import plan


def test_plan_prints_no_mock_value(stack_file, plans):
    """Mock ids and the mocks' stand-in addresses/fingerprints never show: they would mislead and churn."""
    doc, run = plans[stack_file]
    text = plan.render_markdown(doc)
    stand_ins = [str(v) for attrs in mockrun.COMPUTED.values() for value in attrs.values()
                 for v in (value if isinstance(value, list) else [value])]
    for value in stand_ins:
        assert value.split("/")[0] not in text
    for r in run.resources:
        if r.type in mockrun.ID_FROM_INPUT:  # not a mock value: the provider's id is one of the inputs (a name)
            continue
        assert not re.search(rf"(?<![\w,.]){r.id}(?![\w,])", markdown_section(text, "Resources"))
    outputs = markdown_section(text, "Outputs")
    assert re.search(r"\| ipv4 \| `<[a-z0-9-]+\.(ipAddress|ipv4s\[0\]|subnet)>` \|", outputs)
    assert "sshCommand | `ssh deploy@<" in outputs


def test_secret_inputs_and_outputs_are_masked():
    """Anything Pulumi marks secret (wire-format secret inputs, secret exports) prints as [secret]."""
    path = STACK_FILES[0]
    spec = load_stack_file(path)
    run = mockrun.run_stack_file(path)
    server = next(r for r in run.resources if r.custom)
    wrapped = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2-input"}
    server.inputs["adminPassword"] = wrapped
    server.inputs["nested"] = [{"password": wrapped}]
    run.outputs["rootPassword"] = "hunter2-output"
    run.secret_outputs.add("rootPassword")
    doc = plan.plan_document("do-dev", spec, render_first_boot(spec), run, plan.config_rows(path))
    text = plan.render_markdown(doc)
    assert "hunter2" not in text
    assert "adminPassword: [secret]" in text and "- password: [secret]" in text
    assert "| rootPassword | `[secret]` |" in text
