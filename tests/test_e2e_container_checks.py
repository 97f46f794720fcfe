"""The container audit's conclusions (e2e/container_checks.py), without a container: which Lynis points the
host kernel costs, when the Lynis check passes, and the runner-shaped report `python -m e2e all` merges."""

from __future__ import annotations

from typing import Any

from e2e import container_checks, lynis, summary

_SYSCTL_LINE = ("sysctl key {key} has a different value than expected in scan profile. "
                "Expected={want}, Real={real}")


def _log(*lines: str) -> str:
    return "\n".join(lines)


def test_only_declared_kernel_keys_and_the_running_kernel_count_as_the_host_kernels() -> None:
    log = _log(_SYSCTL_LINE.format(key="kernel.kptr_restrict", want="2", real="0"),
               _SYSCTL_LINE.format(key="kernel.sysrq", want="0", real="176"),       # not declared: a real finding
               _SYSCTL_LINE.format(key="fs.suid_dumpable", want="0", real="2"),     # declared otherwise
               "Performing test ID KRNL-5830", "reboot needed, as there is a difference")
    found = container_checks.host_kernel_artefacts(log, {"kernel.kptr_restrict": "2", "fs.suid_dumpable": "1"})
    assert found == ["KRNL-6000 kernel.kptr_restrict=2 declared, host kernel has 0",
                     *["KRNL-5830 running kernel is the host's"] * 5]
    assert container_checks.host_kernel_artefacts("Performing test ID KRNL-5830", {}) == []


def test_namespaced_keys_and_a_pending_reboot_are_never_the_host_kernels() -> None:
    """net.* keys are the container's own (its network namespace): a difference there is the first boot's."""
    log = _log(_SYSCTL_LINE.format(key="net.ipv4.conf.all.rp_filter", want="1", real="0"),
               "Performing test ID KRNL-5830", "reboot needed, as there is a difference",
               "Result: reboot is needed, related to 3 packages")
    assert container_checks.host_kernel_artefacts(log, {"net.ipv4.conf.all.rp_filter": "1"}) == []


def _res(index_without: int | None, **extra: Any) -> dict[str, Any]:
    lyn = {"warnings": ["MAIL-8818|banner|-|-|"], "suggestions": ["SSH-7408|x|-|-|"],
           "missed_points": [("USB-3000", 0, 8)], "host_kernel_artefacts": ["KRNL-5830 running kernel is the host's"],
           "hardening_index": "82", "lynis_version": "3.1", "lynis_tests_done": "258"}
    if index_without is not None:
        lyn["index_without_host_kernel_artefacts"] = index_without
    return {"stack": "do-dev", "timings": {"first_boot_s": 4.3, "lynis_s": 29.2},
            "checks": {"healthz": {"ok": True, "out": "ok"}, "admin_ssh": {"ok": True, "err": ""}},
            "lynis": lyn, **extra}


def _lynis_check(report: dict[str, Any]) -> dict[str, Any]:
    (result,) = report["results"]
    return next(c for c in result["checks"] if c["name"] == "lynis_in_container")


def test_lynis_passes_on_the_index_without_the_host_kernels_points() -> None:
    report = container_checks.as_report(_res(lynis.MIN_INDEX), 91.04)
    check = _lynis_check(report)
    assert report["ok"] and check["ok"] and check["phase"] == "container"
    assert check["figures"]["index_without_host_kernel_artefacts"] == lynis.MIN_INDEX
    assert check["figures"]["hardening_index_as_measured"] == 82 and check["figures"]["host_kernel_points"] == 1
    assert check["figures"]["tests_done"] == 258
    assert check["detail"]["warnings"] == ["MAIL-8818"] and check["detail"]["points_missed"] == ["USB-3000 0/8"]
    (result,) = report["results"]
    assert result["form"] == container_checks.FORM and result["wall_s"] == 91.0 and report["total_s"] == 91.0
    assert [c["name"] for c in result["checks"]] == ["healthz", "admin_ssh", "lynis_in_container"]


def test_lynis_below_the_target_or_without_an_index_fails_the_run() -> None:
    assert not _lynis_check(container_checks.as_report(_res(lynis.MIN_INDEX - 1), 1.0))["ok"]
    failed = container_checks.as_report(_res(None), 1.0)
    assert not failed["ok"] and not _lynis_check(failed)["ok"]


def test_a_missing_lynis_fails_only_when_it_was_expected() -> None:
    res = _res(90)
    del res["lynis"]
    assert not container_checks.as_report(res, 1.0)["ok"]
    assert not _lynis_check(container_checks.as_report(res, 1.0))["ok"]
    assert container_checks.as_report(res, 1.0, lynis_expected=False)["ok"]


def test_a_failed_host_check_or_a_run_error_fails_the_report() -> None:
    res = _res(90)
    res["checks"]["healthz"]["ok"] = False
    assert not container_checks.as_report(res, 1.0)["ok"]
    errored = container_checks.as_report(_res(90, error="TimeoutError('cloud-init did not finish')"), 1.0)
    (result,) = errored["results"]
    assert not errored["ok"] and result["checks"][-1]["name"] == "container_run"


def test_the_proof_table_lists_the_container_audit() -> None:
    table = summary.proof_table(summary.summarize(container_checks.as_report(_res(88), 90.0)))
    row = next(line for line in table.splitlines() if "lynis_in_container" in line)
    assert row.startswith(f"| {container_checks.FORM} | container | lynis_in_container | pass |")
    assert "index_without_host_kernel_artefacts: 88" in row and f"target: {lynis.MIN_INDEX}" in row


def test_the_lynis_result_adds_back_only_the_host_kernels_points() -> None:
    log = _log("2026-12-07 00:13:00 Performing test ID KRNL-6000 (Check sysctl key pairs in scan profile)",
               _SYSCTL_LINE.format(key="kernel.kptr_restrict", want="2", real="0"),
               _SYSCTL_LINE.format(key="kernel.sysrq", want="0", real="176"),
               "2026-12-07 00:13:40 Currently having 249 points (out of 303)")
    audit = lynis.parse(f"hardening_index=82\nlynis_tests_done=258\n{lynis.LOG_MARKER}\n{log}")
    got = container_checks.lynis_result(audit, {"kernel.kptr_restrict": "2", "kernel.sysrq": "1"})
    assert got["host_kernel_artefacts"] == ["KRNL-6000 kernel.kptr_restrict=2 declared, host kernel has 0"]
    assert got["index_without_host_kernel_artefacts"] == 250 * 100 // 303 and "error" not in got


def test_a_lynis_result_without_an_index_says_why() -> None:
    audit = lynis.parse("")
    audit.error = "exit code 124: timeout after 600s"
    assert container_checks.lynis_result(audit, {})["error"] == "exit code 124: timeout after 600s"
    assert not container_checks.as_report(_res(90) | {"lynis": container_checks.lynis_result(audit, {})}, 1.0)["ok"]


_AUDIT = {"hardening_index": "87", "warnings": [], "suggestions": ["SSH-7408|Consider hardening SSH|-|-|"]}


def test_the_audit_after_the_benchmark_must_find_what_the_first_did() -> None:
    assert container_checks.same_audit(_AUDIT, dict(_AUDIT), benchmark_ran=True)["ok"]
    fewer = container_checks.same_audit(_AUDIT, {**_AUDIT, "hardening_index": "86"}, benchmark_ran=True)
    assert not fewer["ok"] and fewer["changed"] == {"hardening_index": {"before": "87", "after": "86"}}
    warned = container_checks.same_audit(_AUDIT, {**_AUDIT, "warnings": ["NETW-3015|Promiscuous interface|-|-|"]},
                                         benchmark_ran=True)
    assert not warned["ok"] and set(warned["changed"]) == {"warnings"}
    assert not container_checks.same_audit(_AUDIT, {**_AUDIT, "error": "Lynis wrote no hardening index"},
                                           benchmark_ran=True)["ok"]
    assert not container_checks.same_audit(_AUDIT, dict(_AUDIT), benchmark_ran=False)["ok"], "nothing in between"
