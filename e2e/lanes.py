"""`python -m e2e all` as lanes that run side by side: what each lane runs, and how their reports become one.

A lane is a sequence of phases; a phase is one process (`python -m e2e run` with its options, or the container
audit `python -m e2e container`), with its own report file in the lane's directory. Lanes run in parallel
(e2e/parallel.py), so the wall time is about that of the longest lane. Each lane gets what must not be shared: its
own apt cache directory and port range (two apt-cacher-ng must not write one cache; the outage phase stops and
starts its own); the harness keys are shared on purpose (one directory), so that the hosts hold the same files
where the stacks render alike.

The same-host comparison needs the audited host's files and the launch-script host's: each phase records its
own, and `merge` compares them once every lane has finished (a missing side fails the check). Adding a phase
to a lane is one `Phase(...)` line in `ALL`.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from .same_host import same_host_alike

#: where the apt caches' ports are chosen, split between the lanes (apt-cacher-ng binds only below 32768)
PORTS = (20000, 32000)
DEFAULT_CACHE = "acng"


#: what a phase runs (`python -m e2e <this>`): the VM runner, or the container audit (e2e/nspawn_lynis.py: no VM;
#: the lane's apt cache, and only `--stack` of the extra options applies to it)
RUNNER, CONTAINER = "run", "container"


@dataclasses.dataclass(frozen=True)
class Phase:
    """One `python -m e2e <runs>` (the VM runner unless said otherwise): its name (the report's file name) and
    its options."""

    name: str
    options: tuple[str, ...]
    runs: str = RUNNER


@dataclasses.dataclass(frozen=True)
class Lane:
    """Phases run one after the other on one lane; `cpus` is each of its VMs' vCPU count."""

    name: str
    phases: tuple[Phase, ...]
    cpus: int = 2


@dataclasses.dataclass(frozen=True)
class Plan:
    """The lanes, and the same-host comparison: (audited form, the form that must be the same host)."""

    lanes: tuple[Lane, ...]
    same_host: tuple[str, str] | None = None


# Both VMs keep two vCPUs: with one, the launch-script lane's first boot, on a loaded 2-core host beside the
# audited lane, did not complete within the outage phase's 1500 s bound (it stood at 'serving; deferred running').
# Lynis runs in the container, at native speed (about 30 s; the first boot there about a minute): in a TCG VM it
# took 1211 s alone and 1711 s beside the other lane, and every run with it went over CI's budget. The VM Lynis is
# the scenario `python -m e2e lynis`. The same-host check ties the two hosts' files together.
ALL = Plan(
    lanes=(
        Lane("audited", (Phase("cloud-config", ("--forms", "cloud-config", "--skip-lynis")),)),
        Lane("launch-script", (Phase("container", ("--boot-timeout", "420", "--benchmark"), runs=CONTAINER),
                               Phase("tls", ("--forms", "", "--tls", "--tls-form", "script", "--apt-outage",
                                             "--benchmark", "--skip-lynis", "--negative-last")))),
    ),
    same_host=("cloud-config", "tls:script+domain"),
)


def lane_resources(index: int, count: int) -> tuple[str, tuple[int, int]]:
    """(apt cache directory name, its port range) of lane `index` of `count`: the first lane keeps the default
    cache; the ranges do not overlap, so a port the outage phase holds unbound cannot be chosen by another lane."""
    width = (PORTS[1] - PORTS[0] + 1) // count
    low = PORTS[0] + index * width
    return (DEFAULT_CACHE if index == 0 else f"{DEFAULT_CACHE}-{index + 1}"), (low, low + width - 1)


def _stack_option(extra: list[str]) -> list[str]:
    """`--stack NAME` or `--stack=NAME` from the options given after `all`, or nothing."""
    for i, x in enumerate(extra):
        if x.startswith("--stack="):
            return [x]
        if x == "--stack" and i + 1 < len(extra):
            return extra[i:i + 2]
    return []


def phase_command(plan: Plan, lane: Lane, phase: Phase, out: Path, keys: Path, extra: list[str]) -> list[str]:
    """The runner invocation of one phase: the lane's resources, the phase's options, its report in the lane's
    directory, the shared keys; `extra` (options given after `all`) goes to every VM phase, only its `--stack` to
    the container's."""
    index = plan.lanes.index(lane)
    cache, (low, high) = lane_resources(index, len(plan.lanes))
    if phase.runs == CONTAINER:
        return [sys.executable, "-m", "e2e", CONTAINER, *phase.options, *_stack_option(extra), "--apt-cache", cache,
                "--apt-cache-ports", f"{low}-{high}", "--out", str(out / lane.name), "--name", phase.name]
    return [sys.executable, "-m", "e2e", phase.runs, *phase.options, "--cpus", str(lane.cpus), "--apt-cache", cache,
            "--apt-cache-ports", f"{low}-{high}", "--keys", str(keys), *extra,
            "--out", str(out / lane.name), "--name", phase.name]


@dataclasses.dataclass(frozen=True)
class PhaseOutcome:
    """What one phase left: its exit code, wall time and report (None when it wrote none; a list when it was
    cut off mid-run: the runner writes its results so far as a bare list)."""

    lane: str
    phase: str
    rc: int | None
    wall_s: float
    report: dict[str, Any] | list[dict[str, Any]] | None


def _failed(form: str, error: str, wall_s: float | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"form": form, "ok": False, "error": error, "checks": [], "timings": {}}
    if wall_s is not None:
        res["wall_s"] = round(wall_s, 1)
    return res


def phase_results(o: PhaseOutcome) -> list[dict[str, Any]]:
    """The phase's scenario results; a failed stand-in when it has none, exited non-zero or was cut off."""
    where = f"{o.lane}/{o.phase}"
    if o.report is None:
        return [_failed(where, f"no report (exit code {o.rc})", o.wall_s)]
    finished = isinstance(o.report, dict)
    results = list(o.report.get("results", []) if isinstance(o.report, dict) else o.report)
    if not results:
        return [_failed(where, f"a report without results (exit code {o.rc})", o.wall_s)]
    if not finished or (o.rc != 0 and all(r.get("ok") for r in results)):
        results.append(_failed(where, f"cut off (exit code {o.rc}) after {len(results)} result(s)"
                               if not finished else f"exit code {o.rc} although every result passed"))
    return results


def with_same_host(results: list[dict[str, Any]], pair: tuple[str, str]) -> list[dict[str, Any]]:
    """Add the same-host check to the candidate form's result (a failed stand-in when that form never ran):
    the candidate's recorded files against the reference form's, over the files both stacks render alike."""
    reference_form, candidate_form = pair
    reference = next((r for r in results if r.get("form") == reference_form and r.get("host_files")), None)
    candidate = next((r for r in results if r.get("form") == candidate_form), None)
    if candidate is None:
        candidate = _failed(candidate_form, "this form did not run: nothing to compare with the audited host")
        results = [*results, candidate]
    check = same_host_alike(candidate, reference["host_files"] if reference else None, reference_form)
    candidate["checks"] = [*candidate.get("checks", []), {"phase": "same-host", **check.as_dict()}]
    candidate["ok"] = bool(candidate.get("ok")) and check.ok
    return results


def merge(plan: Plan, outcomes: list[PhaseOutcome], total_s: float) -> dict[str, Any]:
    """One report from every lane's phases in plan order: every scenario with its wall time, each lane's wall
    time, the total; ok only when every planned phase reported, exited 0 and passed (with the same-host check)."""
    by = {(o.lane, o.phase): o for o in outcomes}
    results: list[dict[str, Any]] = []
    lanes: list[dict[str, Any]] = []
    for lane in plan.lanes:
        ran = [by.get((lane.name, p.name)) or PhaseOutcome(lane.name, p.name, None, 0.0, None) for p in lane.phases]
        for o in ran:
            results.extend(phase_results(o))
        lanes.append({"name": lane.name, "cpus": lane.cpus, "wall_s": round(sum(o.wall_s for o in ran), 1),
                      "phases": [{"name": o.phase, "rc": o.rc, "wall_s": round(o.wall_s, 1)} for o in ran]})
    if plan.same_host:
        results = with_same_host(results, plan.same_host)
    stacks = [o.report.get("stack") for o in outcomes if isinstance(o.report, dict)]
    return {"stack": stacks[0] if stacks else None, "total_s": round(total_s, 1), "lanes": lanes,
            "ok": bool(results) and all(r.get("ok") for r in results), "results": results}
