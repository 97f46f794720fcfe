"""A run's results as the report holds them: each scenario timed, the boot-speed row, the Markdown table."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

from . import bootspeed
from .processes import log


def boot_speed_result(bare: dict, hardened: dict) -> dict:
    """The report's row for the comparison; failed when the hardened boot was never timed (its run broke)."""
    res: dict = {"form": "boot-speed:bare-vs-cloud-config", "timings": {"bare_healthy_s": bare["healthy_s"]},
                 "bare": bare, "checks": []}
    t = hardened["timings"]
    if not {"healthy_s", "locked_down_s", "complete_s"} <= t.keys():
        res |= {"ok": False, "error": f"the cloud-config form was not timed: {hardened.get('error', t)}"}
        return res
    res["checks"] = [{"phase": "first-boot", **bootspeed.compare(bare, t).as_dict()}]
    res["ok"] = True
    return res


def timed_scenario(run: Callable[[], dict]) -> dict:
    """One scenario's result with its wall time (boot to verdict), printed as it ends."""
    t = time.monotonic()
    res = run()
    res["wall_s"] = round(time.monotonic() - t, 1)
    log(f"scenario {res['form']}: {res['wall_s']:.0f} s, {'ok' if res['ok'] else 'FAIL'}")
    return res


def markdown(results: list[dict], total_s: float | None = None) -> str:
    lines = ["| form | phase | check | ok | figures |", "|---|---|---|---|---|"]
    for r in results:
        if "wall_s" in r:
            lines.append(f"| {r['form']} | | wall time | | {r['wall_s']:.0f} s |")
        lines.append(f"| {r['form']} | | timings (s) | | {json.dumps(r.get('timings', {}))} |")
        if "error" in r:
            lines.append(f"| {r['form']} | | run | FAIL | {r['error']} |")
        if "caught" in r:
            lines.append(f"| {r['form']} | negative | weakened host caught | {'ok' if r['caught'] else 'FAIL'} | |")
        for c in r["checks"]:
            fig = dict(c["figures"] or {})
            if c.get("accepted_warnings"):
                fig["accepted_warnings"] = c["accepted_warnings"]
            lines.append(f"| {r['form']} | {c.get('phase', '')} | {c['name']} | {'ok' if c['ok'] else 'FAIL'} | "
                         f"{json.dumps(fig) if fig else ''} |")
    if total_s is not None:
        lines.append(f"\nTotal run time: {total_s:.0f} s\n")
    return "\n".join(lines) + "\n"
