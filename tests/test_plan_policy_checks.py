"""Policy checks in the plan (tools/plan/policy_checks.py): the plan runs the policy pack on the run it made."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config import load_stack_file
from policy.hardening_policies.pack import POLICIES
from policy.hardening_policies.resources import FIREWALL_TYPES
from tests.conftest import STACK_FILES
from tests.plan_support import markdown_section, text_section
from tools import plan


def _prod_without_safety(stacks: Path) -> Path:
    """The prod stack as shipped, but with backups and protection off (still declared production)."""
    document = yaml.safe_load((plan.STACKS_DIR / "Pulumi.prod.yaml").read_text())
    assert document["config"]["hardened-vps:production"] is True
    document["config"]["hardened-vps:backups"] = False
    document["config"]["hardened-vps:protect"] = False
    stacks.mkdir(exist_ok=True)
    path = stacks / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_production_without_backups_or_protection_fails_the_plan(tmp_path, capsys):
    path = _prod_without_safety(tmp_path / "stacks")
    assert plan.main([str(path)]) != 0
    out, err = capsys.readouterr()
    checks = text_section(out, "Policy checks")
    server = "digitalocean:index/droplet:Droplet  host-server"
    lines = [line for line in checks.splitlines() if "production-backups-and-protection" in line]
    assert len(lines) == 2 and all("mandatory" in line and server in line for line in lines), checks
    assert any("has no automatic backups. Fix: set hardened-vps:backups: true" in line for line in lines)
    assert any("is not protected from deletion. Fix: set hardened-vps:protect: true" in line for line in lines)
    assert "Refused: `pulumi preview --policy-pack policy` would fail on this stack" in checks
    assert "2 mandatory policy violations" in err
    assert "all 9 policies pass" not in out.lower()

    # The same stack with only backups restored still fails, on protection alone.
    path.write_text(path.read_text().replace("hardened-vps:backups: false", "hardened-vps:backups: true"))
    assert plan.main([str(path), "--format", "markdown"]) != 0
    checks = markdown_section(capsys.readouterr().out, "Policy checks")
    assert "not protected from deletion" in checks and "no automatic backups" not in checks


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_shipped_stacks_pass_the_policy_checks(path, plans, capsys):
    doc, _ = plans[path]
    checks = markdown_section(plan.render_markdown(doc), "Policy checks")
    total = len(POLICIES)
    if load_stack_file(path).production:
        assert f"All {total} policies pass" in checks
    else:  # dev stacks keep SSH open to anyone: a warning that does not stop the preview
        assert f"{total - 1} of {total} policies pass" in checks
        # one warning per resource holding the SSH rule: the firewall, or each rule where rules are resources
        warnings = [line for line in checks.splitlines() if line.startswith("- ")]
        assert warnings and len(warnings) <= 2
        for warning in warnings:
            assert "advisory" in warning and "ssh-open-to-internet" in warning
            assert any(f"on {firewall}  " in warning for firewall in FIREWALL_TYPES), warning
    assert "mandatory" not in checks.replace("no mandatory", "")
    assert plan.main([str(path)]) == 0
    assert capsys.readouterr().err == ""
