"""mypy's view of pulumi_aws: Lightsail is type-checked in full, the other ~250 AWS services are not walked.

The project's mypy settings (pyproject.toml) skip pulumi_aws except its lightsail package, which keeps a cold
`make typecheck` from reading the whole 271 MB SDK. This proves the narrowing keeps what matters: a misspelt
Lightsail argument is still an error, while an AWS service outside Lightsail is Any (not walked).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SNIPPET = """\
from pulumi_aws import ec2, lightsail

lightsail.InstancePublicPortsPortInfoArgs(protocol="tcp", from_port=22, to_port=22, cidr=["0.0.0.0/0"])
lightsail.Instance("web", bundle_idd="nano_3_0", availability_zone="eu-central-1a", blueprint_id="debian_12")
ec2.Instance("not-walked", no_such_argument=1)
"""


def run_mypy_with_project_config(source: Path) -> subprocess.CompletedProcess[str]:
    """mypy on one file with the project's settings and cache (warm after `make typecheck`; ~7 s cold)."""
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                           "--no-error-summary", "--hide-error-context", str(source)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_wrong_lightsail_arguments_fail_type_check_and_other_aws_services_are_not_walked(tmp_path: Path) -> None:
    source = tmp_path / "wrong_lightsail.py"
    source.write_text(SNIPPET)
    result = run_mypy_with_project_config(source)
    assert result.returncode == 1, result.stdout + result.stderr
    errors: dict[int, str] = {}
    for line, message in re.findall(r"^.*?:(\d+): error: (.*)$", result.stdout, re.M):
        errors[int(line)] = errors.get(int(line), "") + message
    assert 'Unexpected keyword argument "cidr" for "InstancePublicPortsPortInfoArgs"' in errors.get(3, ""), errors
    assert '"bundle_idd"' in errors.get(4, ""), errors
    # ec2 is outside the walk: mypy sees Any there, so the same kind of mistake goes unreported.
    assert 5 not in errors, errors
