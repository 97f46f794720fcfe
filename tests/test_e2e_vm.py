"""The real-VM proof as tests: `make e2e` runs `pytest -m vm` (the fast suite deselects `vm`).

Each test runs the e2e runner (e2e/run.py) in a subprocess, so the VM, the apt cache and every wait are owned and
bounded by the runner, which kills only what it started. Needs root, qemu, the e2e image (built on first use)
and the Debian packages listed in e2e/README.md. The report lands in e2e/out/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.vm


def _runner(*args: str, timeout: float) -> int:
    return subprocess.run([sys.executable, "-m", "e2e.run", *args], cwd=ROOT, timeout=timeout).returncode


def test_real_stack_both_forms_pass_every_check() -> None:
    """do-dev, cloud-config and launch-script forms: every outside/inside/resilience check, Lynis once."""
    assert _runner("--stack", "do-dev", timeout=50 * 60) == 0, "see e2e/out/report.md"


def test_apt_outage_then_tls_then_weakened_host_is_caught() -> None:
    """One boot. The package mirror is unreachable at first boot: the host must be locked down (admin key only,
    sshd hardened, nftables dropping, pinned host key) and retrying; the mirror returns and first boot must
    complete. Then the domain stack gets its certificate from pebble through acmeServer/acmeCaCertificate (real
    http-01): TLS 1.2/1.3 only, HSTS, HTTP -> HTTPS 308, and a forced renewal reloads nginx. Last, the negative
    case: an sshd drop-in turning password login on is loaded on that host, and the checks must FAIL on it
    (exit 0 only when the weakened host is caught). `make e2e-negative` still boots a weakened first boot."""
    assert _runner("--forms", "", "--tls", "--apt-outage", "--negative-last", timeout=35 * 60) == 0, \
        "see e2e/out/tls.md"
