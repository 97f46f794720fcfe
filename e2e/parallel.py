"""Run the lanes of `python -m e2e all` side by side (the plan and the merge are e2e/lanes.py).

Before the lanes start: the image is built (once; each lane only reads it), each lane's apt cache directory is
seeded from the default one when it has none (a copy, so the two apt-cacher-ng never write one cache), and the
harness keys are made in one directory the lanes share. Each phase is a subprocess (`python -m e2e run`, or the
container audit) with its own cleanup handlers and pid files; it gets SIGTERM when this process dies, and this
process passes SIGTERM/SIGINT/SIGHUP on to every running phase, so each stops only the VMs and daemons it started.
A lane's output goes to its log file in the lane's directory and, line by line with the lane's name, to stderr.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from . import build_image, summary
from .fixtures import REPO, harness_keys
from .lanes import ALL, Lane, PhaseOutcome, Plan, lane_resources, merge, phase_command
from .processes import log
from .reporting import markdown

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)       # loaded before any fork: the child only calls into it


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (even by SIGKILL), so no phase outlives the run."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def seed_lane_caches(plan: Plan) -> None:
    """A lane without an apt cache of its own starts from a copy of the default one (warm, never shared)."""
    root = build_image.cache_root()
    for index in range(1, len(plan.lanes)):
        name, _ports = lane_resources(index, len(plan.lanes))
        src, dst = root / lane_resources(0, len(plan.lanes))[0] / "cache", root / name / "cache"
        if src.is_dir() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-a", "--reflink=auto", str(src), str(dst)], check=True, timeout=600)


def _pump(stream: IO[str], prefix: str, log_file: IO[str]) -> None:
    for line in stream:
        log_file.write(line)
        log_file.flush()
        sys.stderr.write(f"[{prefix}] {line}")
        sys.stderr.flush()


class LaneRunner:
    """One lane's phases, one after the other; `step` starts the next phase once the current one has ended."""

    def __init__(self, plan: Plan, lane: Lane, out: Path, keys: Path, extra: list[str]) -> None:
        self.plan, self.lane, self.out, self.keys, self.extra = plan, lane, out, keys, extra
        self.todo = list(lane.phases)
        self.outcomes: list[PhaseOutcome] = []
        self.proc: subprocess.Popen[str] | None = None
        self._started = 0.0
        self._pump: threading.Thread | None = None
        self._log: IO[str] | None = None

    def done(self) -> bool:
        return self.proc is None and not self.todo

    def step(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                return
            self._finish_phase()
        if self.todo:
            self._start(self.todo[0])

    def _report_path(self) -> Path:
        return self.out / self.lane.name / f"{self.todo[0].name}.json"

    def _start(self, phase: Any) -> None:
        (self.out / self.lane.name).mkdir(parents=True, exist_ok=True)
        self._report_path().unlink(missing_ok=True)        # a stale report must not pass for this run's
        cmd = phase_command(self.plan, self.lane, phase, self.out, self.keys, self.extra)
        log(f"lane {self.lane.name}: phase {phase.name}: {' '.join(cmd[1:])}")
        self._log = (self.out / self.lane.name / f"{phase.name}.log").open("w")
        self._started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8",
                                     errors="replace", stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        assert self.proc.stdout is not None
        self._pump = threading.Thread(target=_pump, args=(self.proc.stdout, f"{self.lane.name}", self._log),
                                      daemon=True)
        self._pump.start()

    def _finish_phase(self) -> None:
        assert self.proc is not None and self._pump is not None and self._log is not None
        self._pump.join(timeout=30)
        self._log.close()
        phase, wall = self.todo.pop(0), time.monotonic() - self._started
        path = self.out / self.lane.name / f"{phase.name}.json"
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            report = None
        self.outcomes.append(PhaseOutcome(self.lane.name, phase.name, self.proc.returncode, wall, report))
        log(f"lane {self.lane.name}: phase {phase.name} ended: exit code {self.proc.returncode}, {wall:.0f} s")
        self.proc = None

    def terminate(self) -> None:
        """SIGTERM to the running phase (it stops its own VMs), bounded, and its outcome kept; no further phase
        starts (the merge reports the phases that never ran as failed)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=30)
            self._finish_phase()
        self.todo = []


def run_plan(plan: Plan, out: Path, extra: list[str]) -> dict[str, Any]:
    """Every lane at once; returns the merged report once all have ended (or were stopped by a signal)."""
    t0 = time.monotonic()
    build_image.ensure_image()
    seed_lane_caches(plan)
    with tempfile.TemporaryDirectory(prefix="e2e-keys-") as d:
        harness_keys(Path(d))
        runners = [LaneRunner(plan, lane, out, Path(d), extra) for lane in plan.lanes]

        def stop(signum: int, _frame: object) -> None:
            log(f"signal {signum}: stopping every lane")   # the report follows, with what never ran as failed
            for r in runners:
                r.terminate()

        before = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            while not all(r.done() for r in runners):
                for r in runners:
                    r.step()
                time.sleep(0.5)
        finally:
            for r in runners:
                r.terminate()
            for sig, handler in before.items():
                signal.signal(sig, handler)
    outcomes = [o for r in runners for o in r.outcomes]
    for lane in plan.lanes:
        walls = [o.wall_s for o in outcomes if o.lane == lane.name]
        log(f"lane {lane.name}: {sum(walls):.0f} s")
    return merge(plan, outcomes, time.monotonic() - t0)


def main(argv: list[str] | None = None, plan: Plan = ALL) -> int:
    """`python -m e2e all [runner options]`: --out is this run's directory; other options go to every phase."""
    ap = argparse.ArgumentParser(prog="python -m e2e all")
    ap.add_argument("--out", type=Path, default=REPO / "e2e" / "out")
    a, extra = ap.parse_known_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    report = run_plan(plan, a.out, extra)
    (a.out / "report.json").write_text(json.dumps(report, indent=2))
    (a.out / "report.summary.json").write_text(json.dumps(summary.summarize(report), indent=1) + "\n")
    lanes = "".join(f"Lane {lane['name']}: {lane['wall_s']:.0f} s\n" for lane in report["lanes"])
    md = markdown(report["results"], report["total_s"]) + "\n" + lanes
    (a.out / "report.md").write_text(md)
    print(md)
    log(f"all: {report['total_s']:.0f} s, {'ok' if report['ok'] else 'FAIL'}")
    return 0 if report["ok"] else 1
