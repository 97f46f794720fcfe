"""The runner's pure parts (e2e/run.py, e2e/timings.py): the second form is judged the same host only on equal
digests, and every scenario's wall time reaches CI's closing lines."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, cast

from e2e.same_host import same_host
from e2e.summary import merge, proof_table, summarize
from e2e.timings import failure_lines, scenario_lines
from tests.conftest import ED25519_KEY

AUDITED = {"/etc/hvps/concerns": "a" * 64, "/etc/nftables.conf": "b" * 64}


def test_the_same_files_are_the_same_host() -> None:
    r = same_host(dict(AUDITED), AUDITED, "cloud-config")
    assert r.ok and r.name == "same_host_as_cloud-config" and r.figures == {"files": 2}


def test_one_differing_or_missing_file_is_another_host() -> None:
    assert same_host({**AUDITED, "/etc/nftables.conf": "c" * 64}, AUDITED, "cloud-config").detail == {
        "differing": ["/etc/nftables.conf"]}
    assert not same_host({"/etc/hvps/concerns": "a" * 64}, AUDITED, "cloud-config").ok


def test_without_an_audited_form_nothing_is_proven() -> None:
    assert not same_host(dict(AUDITED), None, "cloud-config").ok
    assert not same_host({}, {}, "cloud-config").ok


def test_each_scenario_wall_time_is_listed_with_the_total() -> None:
    report = {"total_s": 2712.4, "results": [{"form": "cloud-config", "wall_s": 1900.2, "ok": True},
                                             {"form": "script", "wall_s": 512.0, "ok": False},
                                             {"form": "boot-speed", "ok": True}]}
    assert scenario_lines(report) == ["e2e: cloud-config: 1900 s, ok", "e2e: script: 512 s, FAIL",
                                      "e2e: total 2712 s"]


def test_ci_closing_lines_say_why_a_scenario_failed() -> None:
    """CI shows the end of a run's output: each failed scenario's error and failed checks are there, not the
    negative case's (its checks must fail), and a long detail is cut."""
    report = {"results": [
        {"form": "cloud-config", "ok": True, "checks": [{"phase": "x", "name": "fine", "ok": True}]},
        {"form": "tls:script+domain", "ok": False, "error": "VMError: no HTTPS on :443 within 420s", "checks": [
            {"phase": "tls", "name": "https_hsts", "ok": True, "detail": ""},
            {"phase": "benchmark", "name": "benchmark_run", "ok": False, "detail": {"error": "x" * 1000}}]},
        {"form": "negative", "ok": True, "checks": [{"phase": "negative", "name": "ssh_password_refused",
                                                     "ok": False, "detail": "expected"}]}]}
    lines = failure_lines(report)
    assert lines[0] == "e2e: FAIL tls:script+domain: VMError: no HTTPS on :443 within 420s"
    assert lines[1].startswith('e2e: FAIL tls:script+domain [benchmark] benchmark_run: {"error": "xxx')
    assert len(lines) == 2 and len(lines[1]) < 400


def test_the_proof_table_has_a_row_per_check_with_its_figures_and_each_scenario_time() -> None:
    report = {"stack": "do-dev", "ok": False, "total_s": 100.0, "results": [
        {"form": "cloud-config", "ok": False, "wall_s": 90.0, "timings": {"healthy_s": 80.1},
         "checks": [{"phase": "releases", "name": "release_2_zero_downtime", "ok": True, "detail": "bulky",
                     "figures": {"rate_per_s": 9.8, "answers": {"old": 3}}},
                    {"phase": "outside", "name": "ssh_root_refused", "ok": False, "figures": {}}]}]}
    summary = summarize(report)
    assert "detail" not in summary["scenarios"][0]["checks"][0]
    table = proof_table(summary).splitlines()
    assert "NOT every check passed" in table[0]
    assert "| cloud-config | | wall time; timings | FAIL | 90 s; healthy_s: 80.1 |" in table
    assert "| cloud-config | releases | release_2_zero_downtime | pass | rate_per_s: 9.8 |" in table
    assert "| cloud-config | outside | ssh_root_refused | FAIL |  |" in table


def test_the_runs_of_make_e2e_merge_into_one_summary() -> None:
    a = summarize({"stack": "do-dev", "ok": True, "total_s": 10.0, "results": [{"form": "cloud-config", "ok": True}]})
    b = summarize({"stack": "do-dev", "ok": False, "total_s": 5.0, "results": [{"form": "tls", "ok": False}]})
    merged = merge([a, b])
    assert [s["form"] for s in merged["scenarios"]] == ["cloud-config", "tls"]
    assert merged["total_s"] == 15.0 and merged["ok"] is False


def test_the_tls_boot_compares_only_the_files_both_stacks_render_alike() -> None:
    import dataclasses

    from components.config import load_stack_file
    from components.firstboot import describe_first_boot
    from e2e.same_host import shared_files
    from e2e.tls_run import TLS_DOMAIN
    from tests.conftest import STACK_FILES

    spec = load_stack_file(STACK_FILES[0])
    tls_spec = dataclasses.replace(spec, domain=TLS_DOMAIN, acme_email="ops@example.com")
    alike = shared_files(spec, tls_spec)
    assert "/etc/nftables.conf" in alike and "/etc/ssh/sshd_config.d/10-hvps-hardening.conf" in alike
    assert "/etc/hvps/nginx-site-https.conf" not in alike          # only the domain stack has it
    plain = {f.path: f.content for f in describe_first_boot(spec).files}
    assert all(plain[p] == c for p, c in ((f.path, f.content) for f in describe_first_boot(tls_spec).files)
               if p in alike)
    assert len(alike) >= 20


def test_the_readme_proof_table_is_generated_from_the_committed_summary(tmp_path, monkeypatch) -> None:
    """`make generate` writes the table from e2e/last-report.json; another summary gives another README, so
    tests/test_generated.py fails while the committed README and summary disagree."""
    import json

    from e2e import summary
    from tools import docs

    readme = docs.README.read_text()
    block = readme.split("<!-- e2e-proof:begin -->\n", 1)[1].split("<!-- e2e-proof:end -->", 1)[0]
    assert block == summary.committed_table() + "\n"
    other = tmp_path / "last-report.json"
    other.write_text(json.dumps({"stack": "do-dev", "ok": False, "total_s": 1.0, "scenarios": []}))
    monkeypatch.setattr(summary, "LAST_REPORT", other)
    assert docs.rewrite(readme) != readme


class _FakeVM:
    """Stands in for the qemu VM in run_tls: records what the runner asks of the host, in order."""

    last: _FakeVM

    def __init__(self, *_: object, **__: object) -> None:
        self.ports = {80: 8080}
        self.calls: list[str] = []
        _FakeVM.last = self

    def __enter__(self) -> _FakeVM:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def start(self) -> None:
        self.calls.append("start")

    def wait_healthy(self, *_: object, **__: object) -> dict[str, float]:
        return {"healthy_s": 1.0}

    def wait_ssh(self, *_: object, **__: object) -> None:
        return None

    def kill(self) -> None:
        self.calls.append("kill")

    def remove_workdir(self) -> None:
        return None

    def print_diagnostics(self) -> None:
        return None


def _fake_tls_boot(monkeypatch) -> None:
    """run_tls with every VM-side step faked: only the order of Lynis and the weakening is real."""
    from e2e import negative, tls, tls_run
    from e2e.check_result import CheckResult

    monkeypatch.setattr(tls_run, "VM", _FakeVM)
    monkeypatch.setattr(tls, "Pebble", lambda work: type("P", (), {
        "directory_url": "https://127.0.0.1:1/dir", "ca_pem": "-----BEGIN CERTIFICATE-----\n",
        "start": lambda self, **_: None, "stop": lambda self: None, "logs": lambda self: ""})())
    monkeypatch.setattr(tls, "wait_certificate", lambda *_, **__: 1.0)
    for name in ("tls_protocols", "https_headers", "http_redirects", "renewal_reloads_nginx"):
        monkeypatch.setattr(tls, name, lambda *_, n=name, **__: CheckResult(n, True))
    monkeypatch.setattr(tls_run, "host_files", lambda *_: {})
    monkeypatch.setattr(tls_run, "render_first_boot", lambda *_, **__: type("R", (), {"cloud_config": "",
                                                                                 "launch_script": ""})())

    def weaken(vm: _FakeVM, *_: object) -> dict:
        vm.calls.append("weaken")
        return {"form": negative.NEGATIVE_FORM, "checks": [], "caught": True, "ok": True}

    monkeypatch.setattr(tls_run, "weaken_running_host", weaken)


def _tls_keys() -> Any:
    from e2e import fixtures
    return fixtures.test_spec("do-dev", ED25519_KEY), fixtures.HostKeys("private", "ssh-ed25519 AAAA host",
                                                             "ssh-ed25519 BBBB other")


def test_the_tls_boot_audits_with_lynis_before_the_negative_case_weakens_it(monkeypatch, tmp_path) -> None:
    from e2e import checks, tls_run
    from e2e.check_result import CheckResult

    _fake_tls_boot(monkeypatch)

    def audit(vm: _FakeVM, *_: object) -> CheckResult:
        vm.calls.append("lynis")
        return CheckResult("lynis", True, figures={"hardening_index": 88})

    monkeypatch.setattr(checks, "lynis_audit", audit)
    spec, keys = _tls_keys()
    tls_res, neg = tls_run.run_tls(spec, tmp_path / "key", None, keys, negative=True, lynis=True)
    assert _FakeVM.last.calls == ["start", "lynis", "weaken", "kill"]
    assert tls_res["ok"] and neg["ok"] and "lynis_s" in tls_res["timings"]
    lynis_row = next(c for c in tls_res["checks"] if c["name"] == "lynis")
    assert lynis_row["phase"] == "audit" and lynis_row["figures"]["hardening_index"] == 88
    _, neg = tls_run.run_tls(spec, tmp_path / "key", None, keys, negative=True)         # default: no Lynis here
    assert _FakeVM.last.calls == ["start", "weaken", "kill"]


def test_a_lynis_that_cannot_run_fails_its_check_and_the_negative_case_still_runs(monkeypatch, tmp_path) -> None:
    from e2e import checks, lynis, tls_run

    _fake_tls_boot(monkeypatch)

    def unreachable(*_: object) -> None:
        raise lynis.LynisFetchError("lynis: cannot fetch the pinned package")

    monkeypatch.setattr(checks, "lynis_audit", unreachable)
    spec, keys = _tls_keys()
    tls_res, neg = tls_run.run_tls(spec, tmp_path / "key", None, keys, negative=True, lynis=True)
    assert _FakeVM.last.calls == ["start", "weaken", "kill"] and neg["ok"]
    row = next(c for c in tls_res["checks"] if c["name"] == "lynis")
    assert not row["ok"] and not tls_res["ok"] and "error" not in tls_res and "lynis_s" in tls_res["timings"]


def test_one_run_summary_is_committed_with_its_lane_times() -> None:
    one = {"stack": "do-dev", "ok": True, "total_s": 2500.0, "lanes": [{"name": "audited", "wall_s": 2400.0}],
           "scenarios": []}
    assert merge([one]) == one and "lane audited 2400 s" in proof_table(merge([one]))


def test_the_vm_lynis_check_runs_the_one_runner_on_the_vm_and_quotes_the_stock_baseline(monkeypatch) -> None:
    from e2e import integrity_checks, lynis

    seen: list[tuple[object, int]] = []

    def run(guest: object, bound_s: int) -> lynis.Audit:
        seen.append((guest, bound_s))
        return lynis.parse("hardening_index=85\nlynis_tests_done=262\n")

    monkeypatch.setattr(lynis, "run", run)
    r = integrity_checks.lynis_audit(cast(Any, "vm"), "admin", Path("key"))
    ((guest, bound_s),) = seen
    assert guest == integrity_checks.VMGuest(cast(Any, "vm"), "admin", Path("key"))
    assert bound_s == integrity_checks.LYNIS_BOUND_S
    assert not r.ok and r.figures["hardening_index"] == 85 and r.figures["target"] == lynis.VM_MIN_INDEX == 90
    assert r.figures["stock_image_baseline"] == integrity_checks.LYNIS_STOCK_BASELINE


def test_the_tls_host_is_benchmarked_before_lynis_and_a_failed_run_costs_neither(monkeypatch, tmp_path) -> None:
    from e2e import bench_checks, checks, tls_run
    from e2e.check_result import CheckResult

    _fake_tls_boot(monkeypatch)
    monkeypatch.setattr(_FakeVM, "power_on_iso", lambda self: "2026-12-07T04:00:00+00:00", raising=False)
    seen: list[str | None] = []

    def bench(guest: Any, spec: Any, out: Any, created_at: str | None = None, **_: object) -> CheckResult:
        guest.vm.calls.append("benchmark")
        seen.append(created_at)
        return CheckResult("benchmark_run", True, figures={"web_rps": 37.0})

    def audit(vm: _FakeVM, *_: object) -> CheckResult:
        vm.calls.append("lynis")
        return CheckResult("lynis", True)

    monkeypatch.setattr(bench_checks, "benchmark_run", bench)
    monkeypatch.setattr(checks, "lynis_audit", audit)
    spec, keys = _tls_keys()
    tls_res, neg = tls_run.run_tls(spec, tmp_path / "key", None, keys, negative=True, lynis=True,
                                   bench_out=tmp_path / "bench.json")
    assert _FakeVM.last.calls == ["start", "benchmark", "lynis", "weaken", "kill"]
    assert seen == ["2026-12-07T04:00:00+00:00"], "the VM's power-on stands for the API's create"
    row = next(c for c in tls_res["checks"] if c["name"] == "benchmark_run")
    assert row["ok"] and row["phase"] == "benchmark" and "benchmark_s" in tls_res["timings"] and tls_res["ok"]

    def times_out(*_: object, **__: object) -> CheckResult:
        raise subprocess.TimeoutExpired("ssh", 900)

    monkeypatch.setattr(bench_checks, "benchmark_run", times_out)
    tls_res, neg = tls_run.run_tls(spec, tmp_path / "key", None, keys, negative=True, lynis=True,
                                   bench_out=tmp_path / "bench.json")
    assert _FakeVM.last.calls == ["start", "lynis", "weaken", "kill"] and neg["ok"]
    row = next(c for c in tls_res["checks"] if c["name"] == "benchmark_run")
    assert not row["ok"] and "TimeoutExpired" in row["detail"] and not tls_res["ok"] and "error" not in tls_res
