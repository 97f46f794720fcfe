"""The benchmark in the VM: the product's own script (components/benchmark, the text the Pulumi command sends) run
over SSH on a finished host, its document checked as the report reads it, and the host checked after it for what
the benchmark must not leave behind (its packages, its files, a listener).

Under TCG the figures are not meaningful in absolute terms: the check requires them present, with their units and
plausible (positive), and the document to say it ran emulated; the report rendered from it says so too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from components.benchmark import host_script
from components.benchmark.parse import FIGURES
from components.config import HostSpec
from tools.bench.report import build_report
from tools.bench.results import ResultError, parse_result
from tools.plan.document import render_text

from .check_result import CheckResult, _sh
from .vm import VM

#: Shorter steps than a real run's (TCG is slow): the same script and steps, each 5 s.
SECONDS_EACH, CONCURRENCY, DISK_MB = 5, 8, 64
#: Figures that may be 0 (failed requests) or absent on a host that rebooted after first boot (none here).
MAY_BE_ZERO = {"web_failed"}
_LEFTOVERS = ("for p in sysbench fio; do dpkg-query -W -f='${Status} '\"$p\"'\\n' \"$p\" 2>/dev/null | "
              "grep -q '^install ok installed' && echo \"installed=$p\"; done; "
              "ls -A /var/tmp | grep -i bench | sed 's/^/file=/'; sudo ss -ltnH | awk '{print \"listen=\" $4}' | sort")


def _state(vm: VM, admin: str, key: Path) -> list[str]:
    return sorted(_sh(vm, admin, key, _LEFTOVERS, timeout=60).stdout.split())


def benchmark_run(vm: VM, admin: str, key: Path, spec: HostSpec, out: Path) -> CheckResult:
    """Run the benchmark; every figure present, with its unit, positive; emulation recorded; the report renders;
    afterwards no benchmark package, no file of it, and the same listeners as before."""
    before = _state(vm, admin, key)
    script = host_script(spec, seconds=SECONDS_EACH, concurrency=CONCURRENCY, disk_mb=DISK_MB)
    p = subprocess.run([*vm.ssh_base(admin, key), script.command], input=script.text.encode(), capture_output=True,
                       timeout=900)
    after = _state(vm, admin, key)
    stdout = p.stdout.decode(errors="replace")
    out.write_text(stdout)
    problems: list[str] = []
    try:
        document = json.loads(stdout)
        result = parse_result(document, out)
        report = render_text(build_report([result]))
    except (ValueError, ResultError) as exc:
        return CheckResult("benchmark_run", False, {"error": str(exc), "rc": p.returncode,
                                                    "stderr": p.stderr.decode(errors="replace")[-800:]})
    figures = document.get("figures", {})
    for name, (unit, _) in FIGURES.items():
        value = figures.get(name, {}).get("value")
        if figures.get(name, {}).get("unit") != unit:
            problems.append(f"{name}: unit {figures.get(name, {}).get('unit')!r}, expected {unit!r}")
        elif value is None or value < 0 or (value == 0 and name not in MAY_BE_ZERO):
            problems.append(f"{name}: {value!r}")
    if not result.emulated:
        problems.append(f"not recorded as emulated under TCG (virtualization {result.virtualization!r})")
    if "emulat" not in report.lower():
        problems.append("the report does not flag the emulated run")
    if after != before:
        problems.append(f"left behind: {sorted(set(after) - set(before))}, gone: {sorted(set(before) - set(after))}")
    ok = p.returncode == 0 and not problems
    return CheckResult("benchmark_run", ok, {"problems": problems, "rc": p.returncode, "state_after": after},
                       figures={name: figures[name]["value"] for name in ("cpu_single", "disk_rand_read", "web_rps",
                                                                           "rss_stack") if name in figures})
