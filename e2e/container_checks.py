"""What the container audit (e2e/nspawn_lynis.py) concludes: its Lynis result with the host kernel's artefacts
set apart, the printed summary, and the report in the runner's shape, so that `python -m e2e all` merges it
with the VM lanes' and the README's proof table lists it.

The container shares this machine's kernel: Lynis findings about kernel-wide sysctl keys and the running kernel
reflect the machine, not the first boot. Those points are counted apart (`host_kernel_artefacts`), and the
container's Lynis check passes on the index without them; the VM lanes' `sysctl` check is the witness that every
declared key holds on a real kernel.
"""
from __future__ import annotations

import json
from typing import Any

from e2e import lynis
from e2e.check_result import CheckResult

#: the scenario name of the container audit in a merged report
FORM = "container:cloud-config"
PHASE = "container"


def host_kernel_artefacts(log: str, declared: dict[str, str]) -> list[str]:
    """Points lost only because the container runs on this machine's kernel: KRNL-6000 keys whose expected value
    the first boot declares (a kernel-wide key cannot be set from a container; `net.*` keys can, in the
    container's own network namespace, so they are never excused), and KRNL-5830 (the running kernel is never
    the image's) unless Lynis also found packages that want a reboot (a real finding). One entry per point:
    Lynis gives each sysctl key of its profile one point and KRNL-5830 five."""
    out = [f"KRNL-6000 {key}={expected} declared, host kernel has {real}"
           for key, expected, real in lynis.sysctl_mismatches(log)
           if declared.get(key) == expected and not key.startswith("net.")]
    if ("Performing test ID KRNL-5830" in log and "reboot needed, as there is a difference" in log
            and "reboot is needed, related to" not in log):
        out += ["KRNL-5830 running kernel is the host's"] * 5
    return out


def lynis_result(audit: lynis.Audit, declared: dict[str, str]) -> dict[str, Any]:
    """The container's Lynis run as the report keeps it, with the host kernel's points set apart."""
    out: dict[str, Any] = {"warnings": audit.warnings, "suggestions": audit.suggestions,
                           "missed_points": audit.missed_points(), "log": audit.log,
                           "host_kernel_artefacts": host_kernel_artefacts(audit.log, declared)}
    if audit.points:
        got, most = audit.points
        out["points"], out["points_max"] = got, most
        out["index_without_host_kernel_artefacts"] = (got + len(out["host_kernel_artefacts"])) * 100 // most
    out |= {k: v for k, v in audit.report.items()
            if k in ("hardening_index", "lynis_version", "lynis_tests_done", "os_fullname")}
    if audit.hardening_index is None:
        out["error"] = audit.error or "Lynis wrote no hardening index"
    return out


def same_audit(before: dict[str, Any], after: dict[str, Any], benchmark_ran: bool) -> dict[str, Any]:
    """Two Lynis runs of one host (`lynis_result`s), around a benchmark that ran to its end, agree: the same index,
    warnings and suggestions (without a finished benchmark between them they witness nothing)."""
    fields = ("hardening_index", "warnings", "suggestions")
    changed = {f: {"before": before.get(f), "after": after.get(f)} for f in fields if before.get(f) != after.get(f)}
    return {"ok": benchmark_ran and not changed and "error" not in after, "benchmark_ran": benchmark_ran,
            "changed": changed, "hardening_index": after.get("hardening_index"),
            **({"error": after["error"]} if "error" in after else {})}


def report(res: dict) -> None:
    p = print
    p(f"stack {res['stack']}: first boot {res['timings'].get('first_boot_s')} s, sizes {res.get('sizes')}")
    for name, c in res["checks"].items():
        p(f"  {'ok  ' if c.get('ok') else 'FAIL'} {name}: {json.dumps({k: v for k, v in c.items() if k != 'ok'})}")
    if res.get("figures"):
        p(f"  figures: {res['figures']}")
    if not all(c.get("ok") for c in res["checks"].values()):
        p("  provisioning log (tail):\n    " + "\n    ".join(res.get("provision_log", [])[-15:]))
    for r in res.get("run", []):
        p(f"$ {r['cmd']}  (exit {r['rc']})\n{r['out'].rstrip()}")
    lyn = res.get("lynis")
    if lyn:
        p(f"Lynis {lyn.get('lynis_version')} ({res['timings'].get('lynis_s')} s, {lyn.get('lynis_tests_done')} "
          f"tests): hardening index {lyn.get('hardening_index')}")
        for kind in ("warnings", "suggestions"):
            p(f"  {kind} ({len(lyn[kind])}):")
            for item in lyn[kind]:
                fields: list[str] = [*item.split("|"), "", ""]
                test, msg, rest = fields[0], fields[1], fields[2:]
                detail = rest[0] if rest and rest[0] not in ("-", "") else ""
                p(f"    {test:<10} {msg}" + (f" [{detail}]" if detail else ""))
        art = lyn["host_kernel_artefacts"]
        p(f"  without host-kernel artefacts ({len(art)} points: {sorted(set(a.split()[0] for a in art))}): "
          f"index {lyn.get('index_without_host_kernel_artefacts')} ({lyn.get('points')}/{lyn.get('points_max')} "
          f"points as measured)")
        for item in sorted(set(art)):
            p(f"    {item}")
        missed = lyn["missed_points"]
        p(f"  points missed ({sum(m - g for _, g, m in missed)} of the index's denominator), by test:")
        for test, got, most in missed:
            p(f"    {test:<10} {got}/{most}")
        if lyn.get("error"):
            p(f"  lynis error: {lyn['error']}")


def _number(value: Any) -> Any:
    """Lynis' report holds every value as text; a count is a number in our report."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _check(name: str, ok: bool, detail: Any, figures: dict[str, Any] | None = None) -> dict[str, Any]:
    """One check as every report row is: the runner's CheckResult, in the container's phase."""
    return {"phase": PHASE, **CheckResult(name, ok, detail, figures or {}).as_dict()}


def _lynis_check(lyn: dict[str, Any]) -> dict[str, Any]:
    index = lyn.get("index_without_host_kernel_artefacts")
    ok = "error" not in lyn and index is not None and index >= lynis.MIN_INDEX
    return _check("lynis_in_container", ok,
                  {"warnings": [w.split("|")[0] for w in lyn.get("warnings", [])],
                       "suggestions": [s.split("|")[0] for s in lyn.get("suggestions", [])],
                       "host_kernel_artefacts": sorted(set(lyn.get("host_kernel_artefacts", []))),
                   "points_missed": [f"{t} {got}/{most}" for t, got, most in lyn.get("missed_points", [])],
                   **({"error": lyn["error"]} if "error" in lyn else {})},
                  {"index_without_host_kernel_artefacts": index, "target": lynis.MIN_INDEX,
                   "hardening_index_as_measured": _number(lyn.get("hardening_index")),
                   "host_kernel_points": len(lyn.get("host_kernel_artefacts", [])),
                   "tests_done": _number(lyn.get("lynis_tests_done")), "lynis_version": lyn.get("lynis_version")})


def as_report(res: dict[str, Any], wall_s: float, lynis_expected: bool = True) -> dict[str, Any]:
    """The container run (`res`, as main builds it) as a runner report with one scenario: every check of the
    booted host, then Lynis; a run error, or a Lynis that was expected and did not report, fails it."""
    checks = [_check(name, bool(c.get("ok")), {k: v for k, v in c.items() if k != "ok"})
              for name, c in res.get("checks", {}).items()]
    if "lynis" in res:
        checks.append(_lynis_check(res["lynis"]))
    elif lynis_expected:
        checks.append(_check("lynis_in_container", False, "Lynis did not run"))
    if "error" in res:
        checks.append(_check("container_run", False, res["error"]))
    result = {"form": FORM, "ok": bool(checks) and all(c["ok"] for c in checks), "wall_s": round(wall_s, 1),
              "timings": res.get("timings", {}), "figures": res.get("figures", {}), "checks": checks}
    return {"stack": res.get("stack"), "total_s": round(wall_s, 1), "ok": result["ok"], "results": [result]}
