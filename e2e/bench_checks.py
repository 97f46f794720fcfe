"""The benchmark on a guest: the product's own script (components/benchmark, the text the Pulumi command sends) run
over the admin's SSH login on a finished host (the data scenario's VM; the container audit, where Lynis runs again
after it), its document checked as the report reads it, and the host checked after it for what the benchmark must
not leave behind (its packages, its files, a listener).

Under TCG the figures are not meaningful in absolute terms: the check requires them present, with their units and
plausible (positive), and the document to say it ran emulated; the report rendered from it says so too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from components.benchmark import host_script
from components.benchmark.parse import FIGURES, with_creation
from components.config import HostSpec
from tools.bench.report import build_report
from tools.bench.results import ResultError, parse_result
from tools.plan.document import render_text

from .check_result import CheckResult
from .guest import Guest

#: Shorter steps than a real run's (TCG is slow): the same script and steps, each 5 s.
SECONDS_EACH, CONCURRENCY, DISK_MB = 5, 8, 64
#: Figures that may be 0 (failed requests).
MAY_BE_ZERO = {"web_failed"}
#: The provisioning timeline: a container shares the machine's kernel, its boot time and clock, so there these are
#: not the host's own and may be absent (systemd-analyze has no kernel span); a VM must have every one.
TIMELINE = {"kernel_after_create", "boot_kernel", "boot_userspace", "cloud_init_done", "first_boot_done", "ssh_ready",
            "app_ready"}
_LEFTOVERS = ("for p in sysbench fio; do dpkg-query -W -f='${Status} '\"$p\"'\\n' \"$p\" 2>/dev/null | "
              "grep -q '^install ok installed' && echo \"installed=$p\"; done; "
              "ls -A /var/tmp | grep -i bench | sed 's/^/file=/'; ss -ltnH | awk '{print \"listen=\" $4}' | sort")


def _state(guest: Guest) -> list[str]:
    """The benchmark's packages, files and every listener; a probe that failed, or saw no listener at all (sshd
    always listens), is an error rather than an empty state two failed probes would agree on."""
    probe = guest.root(_LEFTOVERS, timeout=60)
    state = sorted(probe.stdout.split())
    if probe.returncode != 0 or not any(line.startswith("listen=") for line in state):
        raise RuntimeError(f"the leftover probe failed (exit {probe.returncode}): {probe.stderr.strip()[-300:]}")
    return state


def benchmark_run(guest: Guest, spec: HostSpec, out: Path, emulated: bool = True,
                  own_kernel: bool = True, created_at: str | None = None) -> CheckResult:
    """Run the benchmark as `pulumi up` does (its command in the admin's login, the script on stdin) and add the
    creation figure as the program does, from `created_at` (the VM's power-on standing in for the vendor's API
    create); every figure present, with its unit, positive (the timeline only on a host with its own kernel);
    emulation recorded as expected; the report renders; afterwards no benchmark package, no file of it, and the
    same listeners."""
    try:
        before = _state(guest)
        script = host_script(spec, seconds=SECONDS_EACH, concurrency=CONCURRENCY, disk_mb=DISK_MB)
        p = guest.as_admin(script.command, script.text.encode(), timeout=900)
        after = _state(guest)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return CheckResult("benchmark_run", False, {"error": f"{type(exc).__name__}: {exc}"})
    stdout = p.stdout.decode(errors="replace")
    out.write_text(stdout)  # as the host printed it; replaced by the document with the creation figure
    problems: list[str] = []
    try:
        document = with_creation(json.loads(stdout), created_at)
        out.write_text(json.dumps(document, indent=2) + "\n")
        result = parse_result(document, out)
        report = render_text(build_report([result]))
    except (ValueError, ResultError) as exc:
        return CheckResult("benchmark_run", False, {"error": str(exc), "rc": p.returncode,
                                                    "stderr": p.stderr.decode(errors="replace")[-800:]})
    figures = document.get("figures", {})
    for name, (unit, _) in FIGURES.items():
        value = figures.get(name, {}).get("value")
        if name in TIMELINE and not own_kernel and value is None:
            continue
        if figures.get(name, {}).get("unit") != unit:
            problems.append(f"{name}: unit {figures.get(name, {}).get('unit')!r}, expected {unit!r}")
        elif value is None or value < 0 or (value == 0 and name not in MAY_BE_ZERO):
            problems.append(f"{name}: {value!r}")
    if result.emulated != emulated:
        problems.append(f"recorded as emulated={result.emulated}, expected {emulated} "
                        f"(virtualization {result.virtualization!r})")
    if emulated and "emulat" not in report.lower():
        problems.append("the report does not flag the emulated run")
    if after != before:
        problems.append(f"left behind: {sorted(set(after) - set(before))}, gone: {sorted(set(before) - set(after))}")
    ok = p.returncode == 0 and not problems
    return CheckResult("benchmark_run", ok, {"problems": problems, "rc": p.returncode, "state_after": after},
                       figures={name: figures[name]["value"] for name in ("cpu_single", "disk_rand_read", "web_rps",
                                                                           "rss_stack") if name in figures})
