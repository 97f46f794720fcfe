"""Print each scenario's wall time from an e2e report (e2e/out/*.json), and why each failed scenario failed, for
CI's closing lines (the part of a run's output that is read first).

    python -m e2e timings e2e/out/report.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def scenario_lines(report: dict) -> list[str]:
    """One line per scenario (its wall time, ok or FAIL), one per lane when the run had lanes, then the total."""
    lines = [f"e2e: {r['form']}: {r['wall_s']:.0f} s, {'ok' if r.get('ok') else 'FAIL'}"
             for r in report.get("results", []) if "wall_s" in r]
    lines += [f"e2e: lane {lane['name']}: {lane['wall_s']:.0f} s ({', '.join(p['name'] for p in lane['phases'])})"
              for lane in report.get("lanes", [])]
    if "total_s" in report:
        lines.append(f"e2e: total {report['total_s']:.0f} s")
    return lines


#: How much of a failed check's detail a closing line holds.
DETAIL_CHARS = 300


def failure_lines(report: dict) -> list[str]:
    """For each scenario that failed: its error, and each failed check with the start of its detail. Checks that
    fail in a scenario that passed (the negative case's, which must fail) are not failures."""
    lines = []
    for result in report.get("results", []):
        if result.get("ok"):
            continue
        if result.get("error"):
            lines.append(f"e2e: FAIL {result['form']}: {str(result['error'])[:DETAIL_CHARS]}")
        for check in result.get("checks", []):
            if not check.get("ok"):
                detail = json.dumps(check.get("detail"), sort_keys=True)[:DETAIL_CHARS]
                lines.append(f"e2e: FAIL {result['form']} [{check.get('phase', '')}] {check['name']}: {detail}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m e2e timings", description="Each scenario's wall time from reports.")
    ap.add_argument("reports", nargs="*", type=Path, help="e2e/out/*.json")
    for path in ap.parse_args(argv).reports:
        data = json.loads(path.read_text())
        if isinstance(data, dict):          # a finished run (an interrupted one holds only its results so far)
            print("\n".join([f"e2e: {path}", *scenario_lines(data), *failure_lines(data)]))
    return 0
