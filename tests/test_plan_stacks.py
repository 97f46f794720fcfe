"""Stack files in the plan (tools/plan/stacks.py): their config, with secure and credential values masked."""

from __future__ import annotations

import re

import yaml

from tools import plan


def test_secure_and_credential_config_values_are_masked(tmp_path):
    document = yaml.safe_load((plan.STACKS_DIR / "Pulumi.do-dev.yaml").read_text())
    document["config"]["digitalocean:token"] = {"secure": "v1:c2VjdXJlLWNpcGhlcnRleHQ="}
    document["config"]["linode:token"] = "plain-text-token-0123"
    path = tmp_path / "Pulumi.do-dev.yaml"
    path.write_text(yaml.safe_dump(document))
    text = plan.render_text(plan.build_plan(path))
    assert "c2VjdXJl" not in text and "plain-text-token-0123" not in text
    assert re.search(r"^digitalocean:token +\[secret\]$", text, re.MULTILINE)
    assert "linode:token                [secret] (stored in plain text: use `pulumi config set --secret" in text
