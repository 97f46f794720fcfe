"""The e2e run's summary (what README.md's proof table is generated from) and that table.

A run writes `<out>/<name>.summary.json`; the maintainer merges a run's summaries into `e2e/last-report.json`
(`python -m e2e summary e2e/out/*.summary.json`) and runs `make generate`, which rewrites the README's
`e2e-proof` block with `proof_table`. tests/test_generated.py fails while the README table and the committed
summary disagree.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

LAST_REPORT = Path(__file__).resolve().parent / "last-report.json"


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The run's report without the bulky evidence: per scenario its verdict, wall time and timings, per check
    its phase, name, verdict and figures; each lane's wall time when the run had lanes."""
    lanes = [{"name": x["name"], "wall_s": x["wall_s"]} for x in report.get("lanes", [])]
    return {"stack": report.get("stack"), "ok": report.get("ok"), "total_s": report.get("total_s"),
            **({"lanes": lanes} if lanes else {}),
            "scenarios": [{"form": r["form"], "ok": r.get("ok"), "wall_s": r.get("wall_s"),
                           "timings": r.get("timings", {}), **({"error": r["error"]} if "error" in r else {}),
                           "checks": [{"phase": c.get("phase", ""), "name": c["name"], "ok": c["ok"],
                                       "figures": c.get("figures") or {}} for c in r.get("checks", [])]}
                          for r in report.get("results", [])]}


def merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' summaries (e.g. a `forms` run and a `tls` run) as one: every scenario, the summed time. One
    summary is kept as it is (an `all` run's lane times included)."""
    if len(summaries) == 1:
        return summaries[0]
    return {"stack": summaries[0].get("stack") if summaries else None,
            "ok": bool(summaries) and all(s.get("ok") for s in summaries),
            "total_s": round(sum(s.get("total_s") or 0 for s in summaries), 1),
            "scenarios": [x for s in summaries for x in s.get("scenarios", [])]}


def _figures(figures: dict[str, Any]) -> str:
    text = ", ".join(f"{k}: {json.dumps(v)}" for k, v in figures.items() if not isinstance(v, (dict, list)))
    return text.replace("|", "\\|")


def proof_table(summary: dict[str, Any]) -> str:
    """The README's proof table: one row per check of every scenario, with its figures, after a row with the
    scenario's wall time."""
    lines = [f"Last committed run (`e2e/last-report.json`): stack {summary.get('stack')}, "
             f"{'every check passed' if summary.get('ok') else 'NOT every check passed'}, "
             f"total {summary.get('total_s', 0):.0f} s"
             + "".join(f"; lane {x['name']} {x['wall_s']:.0f} s" for x in summary.get("lanes", [])) + ".", "",
             "| scenario | phase | check | result | figures |", "|---|---|---|---|---|"]
    for s in summary.get("scenarios", []):
        wall = f"{s['wall_s']:.0f} s" if s.get("wall_s") is not None else "?"
        lines.append(f"| {s['form']} | | wall time; timings | {'pass' if s.get('ok') else 'FAIL'} | {wall}; "
                     f"{_figures(s.get('timings', {}))} |")
        if s.get("error"):
            lines.append(f"| {s['form']} | | run | FAIL | {str(s['error']).replace('|', '/')[:200]} |")
        for c in s.get("checks", []):
            lines.append(f"| {s['form']} | {c['phase']} | {c['name']} | {'pass' if c['ok'] else 'FAIL'} | "
                         f"{_figures(c['figures'])} |")
    return "\n".join(lines)


def committed_table() -> str:
    """The proof table of the committed summary."""
    return proof_table(json.loads(LAST_REPORT.read_text()))


def main(argv: list[str] | None = None) -> int:
    """Merge the given summaries into e2e/last-report.json (then `make generate` updates the README)."""
    ap = argparse.ArgumentParser(prog="python -m e2e summary", description=main.__doc__)
    ap.add_argument("summaries", nargs="+", type=Path, help="OUT/*.summary.json")
    paths = ap.parse_args(argv).summaries
    LAST_REPORT.write_text(json.dumps(merge([json.loads(p.read_text()) for p in paths]), indent=1) + "\n")
    print(f"wrote {LAST_REPORT.name}; now run: make generate")
    return 0
