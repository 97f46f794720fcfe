"""Integrity and audit checks of the e2e VM: hvps-integrity in its sandbox against AIDE and debsums as root;
Lynis."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from components.firstboot import AS_ROOT

from . import lynis
from .check_result import CheckResult, _sh
from .guest import VMGuest
from .vm import VM

INTEGRITY_SCRIPT = r"""
set -u
systemctl start hvps-integrity.service >/dev/null 2>&1
echo "status=$(systemctl show -p ExecMainStatus --value hvps-integrity.service)"
journalctl -o cat _SYSTEMD_INVOCATION_ID="$(systemctl show -p InvocationID --value hvps-integrity.service)"
echo @@PLAIN@@
rc=0; aide -c /etc/aide/aide.conf --check 2>&1 || rc=1; debsums -s 2>&1 || rc=1; echo "status=$rc"
"""
# The same two commands in the unit's sandbox and as plain root: a sandbox that hid a path would differ.



def integrity_findings(text: str) -> set[str]:
    """AIDE's entry lines ("<flags>: /path") and debsums' complaints, without timestamps or hashes."""
    return {line.strip() for line in text.splitlines()
            if line.startswith("debsums:") or re.match(r"^[a-zA-Z=+.-][^:]*: /", line)}



def integrity_sandboxed(vm: VM, admin: str, key: Path) -> CheckResult:
    """hvps-integrity.service under its sandbox ends as AIDE and debsums do as plain root, with exactly their
    findings: a read-only view with one capability must not hide a path (ProtectKernelModules hid the kernel's
    modules from debsums: every one reported missing)."""
    p = _sh(vm, admin, key, f"{AS_ROOT} bash -c " + shlex.quote(INTEGRITY_SCRIPT), timeout=900)
    unit, _, plain = p.stdout.partition("@@PLAIN@@")
    in_unit, as_root = integrity_findings(unit), integrity_findings(plain)
    status = [re.findall(r"^status=(\d+)$", part, re.M) for part in (unit, plain)]
    ok = status[0] == status[1] and len(status[0]) == 1 and in_unit == as_root
    return CheckResult("integrity_sandboxed", ok, {"exit_status_unit_vs_root": status,
                                                   "only_as_root": sorted(as_root - in_unit)[:20],
                                                   "only_in_unit": sorted(in_unit - as_root)[:20]},
                       figures={"findings": len(as_root)})



#: Lynis may take this long in the guest (815-1211 s alone under TCG, 1543-2426 s beside the other lane on a
#: loaded machine):
#: a bound against a hang, not a speed check.
LYNIS_BOUND_S = 2700
#: Lynis on the plain (stock) image, from an earlier measurement: quoted beside the index for scale, not re-measured.
LYNIS_STOCK_BASELINE = 61


def lynis_audit(vm: VM, admin: str, key: Path, min_index: int = lynis.VM_MIN_INDEX) -> CheckResult:
    """Lynis hardening index inside the VM (once per run; ~13 min under TCG), with the pinned release
    (e2e/lynis.py) copied in. Returns the index plus the warnings and suggestions (test ids) so the report
    can list them."""
    audit = lynis.run(VMGuest(vm, admin, key), LYNIS_BOUND_S)
    idx = audit.hardening_index
    return CheckResult("lynis", idx is not None and idx >= min_index,
                       {"warnings": [w.split("|")[0] for w in audit.warnings],
                        "suggestions": [s.split("|")[0] for s in audit.suggestions],
                        "lynis_version": audit.report.get("lynis_version"),
                        "points_missed": [f"{test} {got}/{most}" for test, got, most in audit.missed_points()],
                        "sysctl_differences": audit.sysctl_differences(),
                        "slowest_tests_s": dict(audit.slowest_tests()),
                        **({"error": audit.error} if audit.error else {})},
                       figures={"hardening_index": idx, "target": min_index,
                                "tests_done": audit.report.get("lynis_tests_done"),
                                **({"points": audit.points[0], "points_max": audit.points[1]} if audit.points else {}),
                                "stock_image_baseline": LYNIS_STOCK_BASELINE,
                                "baseline_source": "quoted from an earlier measurement of the stock image (not "
                                                   "re-measured)"})
