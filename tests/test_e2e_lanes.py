"""`python -m e2e all` as lanes side by side (e2e/lanes.py, e2e/parallel.py), without a VM: what each lane runs,
what it must not share, how the reports merge (a failed, missing or cut-off phase fails the run), and that the
same-host comparison is made from both lanes' records once both have ended."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from e2e import container_checks, fixtures, lanes, negative, nspawn_lynis, parallel, reporting
from e2e import options as opts
from e2e.lanes import ALL, Lane, Phase, PhaseOutcome, Plan

AUDITED_FILES = {"/etc/hvps/concerns": "a" * 64, "/etc/nftables.conf": "b" * 64, "/etc/hvps/only-plain": "c" * 64}


def _args(plan: Plan, lane: Lane, phase: Phase, tmp: Path) -> Any:
    cmd = lanes.phase_command(plan, lane, phase, tmp, tmp / "keys", ["--stack", "do-dev"])
    assert cmd[:4] == [sys.executable, "-m", "e2e", "run"]
    return opts.options(cmd[4:])


def _vm_phases(plan: Plan) -> list[tuple[Lane, Phase]]:
    return [(lane, p) for lane in plan.lanes for p in lane.phases if p.runs == lanes.RUNNER]


def test_all_plans_the_audited_lane_and_the_launch_script_lane_with_their_options(tmp_path: Path) -> None:
    assert [lane.name for lane in ALL.lanes] == ["audited", "launch-script"]
    (audited,), (container, script) = (lane.phases for lane in ALL.lanes)
    a = _args(ALL, ALL.lanes[0], audited, tmp_path)
    assert a.forms == "cloud-config" and not (a.tls or a.skip_scan or a.skip_releases or a.skip_converge
                                              or a.skip_hostile)
    s = _args(ALL, ALL.lanes[1], script, tmp_path)
    assert s.forms == "" and s.tls and s.tls_form == "script" and s.apt_outage and s.negative_last
    assert s.benchmark and not a.benchmark, "the benchmark on the TLS host (it does not reboot before it)"
    for x, lane in ((a, ALL.lanes[0]), (s, ALL.lanes[1])):
        assert x.out == tmp_path / lane.name and x.keys == tmp_path / "keys" and x.stack == "do-dev"
        assert x.cpus == lane.cpus
    assert ALL.same_host == ("cloud-config", f"tls:{s.tls_form}+domain")
    # the container audit opens the launch-script lane, with the run's stack, its report in the lane's directory
    cmd = lanes.phase_command(ALL, ALL.lanes[1], container, tmp_path, tmp_path / "keys", ["--stack", "do-dev"])
    assert cmd[:4] == [sys.executable, "-m", "e2e", "container"]
    c = nspawn_lynis.parser().parse_args(cmd[4:])
    assert (c.stack, c.out, c.name, c.no_lynis) == ("do-dev", tmp_path / "launch-script", "container", False)
    assert c.benchmark, "Lynis again after the benchmark"


def test_all_runs_lynis_once_in_the_container_and_in_no_vm(tmp_path: Path) -> None:
    """Lynis in a TCG VM took 1211 s alone and 1711 s beside the other lane: every run with it went over CI's
    budget. `all` runs it in the container phase; `python -m e2e lynis` is the VM run."""
    assert [p.name for lane in ALL.lanes for p in lane.phases if p.runs == lanes.CONTAINER] == ["container"]
    [container] = [p for lane in ALL.lanes for p in lane.phases if p.runs == lanes.CONTAINER]
    assert "--benchmark" in container.options, "Lynis again after the benchmark: nothing left behind"
    assert all(_args(ALL, lane, p, tmp_path).skip_lynis for lane, p in _vm_phases(ALL))


@pytest.mark.parametrize("extra, stack", [([], []), (["--stack", "ln-dev", "--skip-scan"], ["--stack", "ln-dev"]),
                                          (["--skip-scan", "--stack=ln-dev"], ["--stack=ln-dev"])])
def test_the_container_phase_gets_only_the_stack_of_the_extra_options(tmp_path: Path, extra: list[str],
                                                                      stack: list[str]) -> None:
    container = ALL.lanes[1].phases[0]
    cmd = lanes.phase_command(ALL, ALL.lanes[1], container, tmp_path, tmp_path / "keys", extra)
    assert cmd[4:4 + len(container.options) + len(stack)] == [*container.options, *stack]
    c = nspawn_lynis.parser().parse_args(cmd[4:])
    assert (c.out, c.name) == (tmp_path / "launch-script", "container")
    # one package cache: the lane's own apt cache and ports, as the lane's VM phase gets them
    vm = _args(ALL, ALL.lanes[1], ALL.lanes[1].phases[1], tmp_path)
    assert (c.apt_cache, c.apt_cache_ports) == (vm.apt_cache, vm.apt_cache_ports)


def test_the_lanes_share_the_keys_but_not_an_apt_cache_or_its_ports(tmp_path: Path) -> None:
    parsed = [_args(ALL, lane, p, tmp_path) for lane, p in _vm_phases(ALL)]
    assert parsed[0].apt_cache == "acng"                            # the warm default cache stays the first's
    assert len({p.apt_cache for p in parsed}) == len(parsed)
    assert len({p.out for p in parsed}) == len(parsed)
    (lo1, hi1), (lo2, hi2) = (p.apt_cache_ports for p in parsed)
    assert lo1 <= hi1 < lo2 <= hi2 < 32768
    three = [lanes.lane_resources(i, 3)[1] for i in range(3)]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(three))


def test_a_phase_is_one_line_of_a_lane() -> None:
    volume = Phase("data-volume", ("--forms", "script"))
    plan = Plan((ALL.lanes[0], Lane("launch-script", (*ALL.lanes[1].phases, volume), cpus=1)), ALL.same_host)
    assert [p.name for p in plan.lanes[1].phases] == ["container", "tls", "data-volume"]


def _report(*results: dict[str, Any]) -> dict[str, Any]:
    return {"stack": "do-dev", "total_s": 1.0, "ok": all(r["ok"] for r in results), "results": list(results)}


def _audited(ok: bool = True, files: dict[str, str] | None = None) -> dict[str, Any]:
    return {"form": "cloud-config", "ok": ok, "wall_s": 2800.0, "timings": {}, "checks": [],
            "host_files": AUDITED_FILES if files is None else files}


def _tls(files: dict[str, str] | None = None) -> dict[str, Any]:
    return {"form": "tls:script+domain", "ok": True, "wall_s": 700.0, "timings": {}, "checks": [],
            "host_files": files or {**AUDITED_FILES, "/etc/hvps/only-plain": "d" * 64},
            "alike_paths": ["/etc/hvps/concerns", "/etc/nftables.conf"]}


def _container(ok: bool = True) -> dict[str, Any]:
    return {"form": container_checks.FORM, "ok": ok, "wall_s": 90.0, "timings": {}, "checks": []}


def _outcomes(audited: Any, tls: Any, rc: tuple[int | None, int | None] = (0, 0),
              container: Any = None) -> list[PhaseOutcome]:
    return [PhaseOutcome("audited", "cloud-config", rc[0], 2801.0, audited),
            PhaseOutcome("launch-script", "container", 0, 91.0, container or _report(_container())),
            PhaseOutcome("launch-script", "tls", rc[1], 702.0, tls)]


def _form(report: dict[str, Any], form: str = "tls:script+domain") -> dict[str, Any]:
    return next(r for r in report["results"] if r["form"] == form)


def test_both_lanes_passing_and_the_same_host_make_a_passing_report_with_every_time() -> None:
    report = lanes.merge(ALL, _outcomes(_report(_audited()), _report(_tls())), 2810.0)
    assert report["ok"] and report["total_s"] == 2810.0 and report["stack"] == "do-dev"
    assert [r["wall_s"] for r in report["results"]] == [2800.0, 90.0, 700.0]
    assert [(lane["name"], lane["wall_s"]) for lane in report["lanes"]] == [("audited", 2801.0),
                                                                            ("launch-script", 793.0)]
    check = _form(report)["checks"][-1]
    assert check["name"] == "same_host_as_cloud-config" and check["ok"] and check["phase"] == "same-host"
    assert check["figures"] == {"files": 2}         # only what both stacks render alike: only-plain differs


def test_a_differing_digest_fails_the_same_host_check_after_both_lanes() -> None:
    tls = _tls({**AUDITED_FILES, "/etc/nftables.conf": "e" * 64})
    report = lanes.merge(ALL, _outcomes(_report(_audited()), _report(tls)), 1.0)
    check = _form(report)["checks"][-1]
    assert not check["ok"] and check["detail"] == {"differing": ["/etc/nftables.conf"]}
    assert not _form(report)["ok"] and not report["ok"]


def test_a_failed_lane_fails_the_run() -> None:
    report = lanes.merge(ALL, _outcomes(_report(_audited(ok=False)), _report(_tls()), rc=(1, 0)), 1.0)
    assert not report["ok"] and _form(report)["ok"]              # the other lane's verdict is kept


def test_a_failed_container_audit_fails_the_run() -> None:
    report = lanes.merge(ALL, _outcomes(_report(_audited()), _report(_tls()),
                                        container=_report(_container(ok=False))), 1.0)
    assert not report["ok"] and not _form(report, container_checks.FORM)["ok"] and _form(report)["ok"]


def test_a_missing_lane_fails_the_run_and_the_same_host_check() -> None:
    report = lanes.merge(ALL, _outcomes(_report(_audited()), None, rc=(0, None))[:2], 1.0)
    assert not report["ok"]
    missing = [r for r in report["results"] if r["form"] == "launch-script/tls"]
    assert missing and "no report" in missing[0]["error"]
    stand_in = next(r for r in report["results"] if r["form"] == "tls:script+domain")
    assert not stand_in["ok"] and not stand_in["checks"][-1]["ok"]
    no_audit = lanes.merge(ALL, _outcomes(None, _report(_tls()), rc=(None, 0)), 1.0)
    assert not no_audit["ok"] and not no_audit["results"][-1]["checks"][-1]["ok"]


def test_a_cut_off_or_nonzero_phase_fails_even_with_passing_results() -> None:
    cut = lanes.merge(ALL, _outcomes([_audited()], _report(_tls()), rc=(-15, 0)), 1.0)
    assert not cut["ok"] and any("cut off" in r.get("error", "") for r in cut["results"])
    nonzero = lanes.merge(ALL, _outcomes(_report(_audited()), _report(_tls()), rc=(0, 1)), 1.0)
    assert not nonzero["ok"] and any("exit code 1" in r.get("error", "") for r in nonzero["results"])


_FAKE_PHASE = """
import json, sys, time
from pathlib import Path
out, name, result = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
Path(out / (name + ".start")).write_text(str(time.time()))
time.sleep(1.5)
Path(out / (name + ".json")).write_text(json.dumps({"stack": "do-dev", "ok": True, "total_s": 1.5,
                                                    "results": [result]}))
print("phase", name, "done")
"""


def test_the_lanes_run_side_by_side_and_the_comparison_waits_for_both(tmp_path: Path, monkeypatch) -> None:
    """Each phase here is a stand-in process writing a report as the runner does; the lanes start together
    (their phases overlap in time) and the same-host check is made from both reports."""
    results = {"cloud-config": _audited(), "container": _container(), "tls": _tls()}

    def fake_command(plan: Plan, lane: Lane, phase: Phase, out: Path, keys: Path, extra: list[str]) -> list[str]:
        assert keys.is_dir() and (keys / "host").exists()             # made once, before the lanes start
        return [sys.executable, "-c", _FAKE_PHASE, str(out / lane.name), phase.name,
                json.dumps(results[phase.name])]

    monkeypatch.setattr(parallel, "phase_command", fake_command)
    monkeypatch.setattr(parallel.build_image, "ensure_image", lambda: tmp_path)
    monkeypatch.setattr(parallel, "seed_lane_caches", lambda plan: None)
    (tmp_path / "audited").mkdir()
    (tmp_path / "audited" / "cloud-config.json").write_text(json.dumps(_report(_audited(ok=True))))  # stale
    t = time.monotonic()
    assert parallel.main(["--out", str(tmp_path)]) == 0
    assert time.monotonic() - t < 3 * 1.5 + 2                     # the lanes not one after the other
    starts = [float((tmp_path / lane / f"{p}.start").read_text())
              for lane, p in (("audited", "cloud-config"), ("launch-script", "container"), ("launch-script", "tls"))]
    assert abs(starts[0] - starts[1]) < 1.0 and starts[2] - starts[1] >= 1.5     # a lane's phases in turn
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] and _form(report)["checks"][-1]["name"] == "same_host_as_cloud-config"
    assert "phase tls done" in (tmp_path / "launch-script" / "tls.log").read_text()
    assert (tmp_path / "report.summary.json").exists() and "Lane audited" in (tmp_path / "report.md").read_text()


def test_a_phase_that_writes_no_report_fails_all(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(parallel, "phase_command", lambda *a: [sys.executable, "-c", "raise SystemExit(3)"])
    monkeypatch.setattr(parallel.build_image, "ensure_image", lambda: tmp_path)
    monkeypatch.setattr(parallel, "seed_lane_caches", lambda plan: None)
    assert parallel.main(["--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert [lane["phases"][0]["rc"] for lane in report["lanes"]] == [3, 3]


@pytest.mark.parametrize("name", ["id_ed25519", "host"])
def test_the_lanes_render_from_the_same_keys(tmp_path: Path, name: str) -> None:
    first = fixtures.harness_keys(tmp_path)
    assert fixtures.harness_keys(tmp_path) == first                     # read again, not made again
    (tmp_path / name).unlink()
    assert fixtures.harness_keys(tmp_path)[2] != first[2]               # a partial set is made anew, whole


def test_ci_lists_each_lane_time_after_the_scenarios() -> None:
    from e2e.timings import scenario_lines

    report = lanes.merge(ALL, _outcomes(_report(_audited()), _report(_tls())), 2810.0)
    assert scenario_lines(report) == ["e2e: cloud-config: 2800 s, ok", "e2e: container:cloud-config: 90 s, ok",
                                      "e2e: tls:script+domain: 700 s, ok",
                                      "e2e: lane audited: 2801 s (cloud-config)",
                                      "e2e: lane launch-script: 793 s (container, tls)", "e2e: total 2810 s"]


def test_the_summary_and_its_proof_table_keep_each_lane_time() -> None:
    from e2e.summary import proof_table, summarize

    summary = summarize(lanes.merge(ALL, _outcomes(_report(_audited()), _report(_tls())), 2810.0))
    assert summary["lanes"] == [{"name": "audited", "wall_s": 2801.0}, {"name": "launch-script", "wall_s": 793.0}]
    assert "total 2810 s; lane audited 2801 s; lane launch-script 793 s." in proof_table(summary).splitlines()[0]


def test_the_runner_tables_a_result_that_has_no_timings() -> None:
    """The negative case's stand-in (the TLS host never got that far) has none; the report must still be written."""
    table = reporting.markdown([{"form": negative.NEGATIVE_FORM, "checks": [], "caught": False, "ok": False,
                                 "error": "x"}])
    assert f"| {negative.NEGATIVE_FORM} | | run | FAIL | x |" in table
