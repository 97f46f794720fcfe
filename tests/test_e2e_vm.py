"""The real-VM proof as a test: `make e2e` runs `pytest -m vm` (the fast suite deselects `vm`).

The test runs the e2e entry point (`python -m e2e all`, e2e/__main__.py) in a subprocess, so the VM, the apt
cache and every wait are owned and bounded by the runner, which kills only what it started. Needs root, qemu,
the e2e image (built on first use) and the Debian packages listed in e2e/README.md. The report lands in e2e/out/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.vm


def test_every_scenario_passes() -> None:
    """`python -m e2e all`, two lanes side by side: the do-dev stack as cloud-config (every outside/inside/resilience
    check, the releases and the converge around the zero-downtime witness); and first the container audit (do-dev's
    first boot in systemd-nspawn, then Lynis), then the domain stack as the launch script (once both have ended:
    the files both stacks render alike hold the same digests), whose package mirror is unreachable at first (the
    host must be locked down and retrying, then complete once the mirror returns), that gets TLS from pebble (real
    http-01) and ends weakened: an sshd drop-in turning password login on, which the checks must catch.
    Exit 0 only when every scenario passed."""
    result = subprocess.run([sys.executable, "-m", "e2e", "all"], cwd=ROOT, timeout=80 * 60)
    assert result.returncode == 0, "see e2e/out/report.md"
