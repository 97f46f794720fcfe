"""A stack imports only the SDK of the vendor it uses (pulumi_digitalocean alone costs about a second)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SDKS = {"digitalocean": "pulumi_digitalocean", "linode": "pulumi_linode", "lightsail": "pulumi_aws",
        "vultr": "ediri_vultr", "hetzner": "pulumi_hcloud"}
PROBE = """
import json, sys
sys.path.insert(0, {root!r})
from components.testing.mockrun import run_stack_file
run = run_stack_file({stack!r})
print(json.dumps({{"loaded": sorted(m for m in sys.modules if m.split(".")[0] in {sdks!r}),
                  "resources": len(run.resources)}}))
"""


@pytest.mark.parametrize(("stack", "vendor"), [("do-dev", "digitalocean"), ("linode-dev", "linode"),
                                               ("lightsail-dev", "lightsail"), ("vultr-dev", "vultr"),
                                               ("hetzner-dev", "hetzner")])
def test_stack_imports_only_its_vendor_sdk(stack: str, vendor: str) -> None:
    code = PROBE.format(root=str(ROOT), stack=str(ROOT / "stacks" / f"Pulumi.{stack}.yaml"), sdks=list(SDKS.values()))
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    roots = {m.split(".")[0] for m in report["loaded"]}
    assert roots == {SDKS[vendor]}
    assert report["resources"] >= 3  # component, server, firewall at least
