"""The command line of the offline plan (tools/plan/cli.py)."""

from __future__ import annotations

import pytest

from tools import plan


def test_cli_plan_and_compare(capsys):
    assert plan.main(["lightsail-dev"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Plan for stack lightsail-dev\n====") and "aws:lightsail/instance:Instance" in out
    assert plan.main([str(plan.STACKS_DIR / "Pulumi.prod.yaml"), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## Plan for stack prod\n")
    assert plan.main(["--compare", "--tier", "large", "--near", "tokyo", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## Vendor comparison: tier large, near Tokyo\n")
    assert plan.main(["linode-dev", "--compare"]) == 0
    assert "tier small, near fr-par (stack linode-dev)" in capsys.readouterr().out


def test_cli_errors(capsys, tmp_path):
    assert plan.main(["no-such-stack"]) == 2
    assert "no stack 'no-such-stack'" in capsys.readouterr().err
    assert plan.main(["--compare", "--near", "atlantis"]) == 2
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  hardened-vps:vendor: digitalocean\n  hardened-vps:size: huge\n")
    assert plan.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "invalid stack configuration" in err and "sshPublicKeys" in err
    for argv in (["do-dev", "--tier", "small"], []):
        with pytest.raises(SystemExit):
            plan.main(argv)
