#!/usr/bin/env python3
"""End-to-end proof on a real (TCG) VM: the project's own rendered first-boot data for a real stack file.

Per first-boot form: boots the VM, runs the outside/inside checks, reboots and checks again, kills the app, writes a
JSON + Markdown report to e2e/out/, exits non-zero when any check fails. `--negative` boots a deliberately
weakened config and exits 0 only when the checks catch it. See e2e/README.md for the order of the checks.

    python -m e2e SCENARIO [options]   (e2e/__main__.py; the options are this runner's)

The stack's SSH key is replaced by a freshly generated test key by building the HostSpec with
dataclasses.replace (the rendered text is never edited); the user-data handed to the VM is exactly what
render_first_boot() returns.
"""
from __future__ import annotations

import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from components.config import HostSpec, parse_ssh_key
from components.firstboot import render_first_boot, upgrade_origins
from components.firstboot.sandbox import sandboxed_units

from . import apt_outage as apt_outage_steps
from . import bootspeed, checks, converge, hostile_release, release, summary
from .apt_cache import AptCache
from .fixtures import Day2Keys, HostKeys, declared_sysctl, expected_ports, harness_keys, test_spec
from .negative import run_negative
from .options import options
from .processes import log
from .reporting import boot_speed_result, markdown, timed_scenario
from .same_host import host_files, same_host
from .tls_run import run_tls
from .vm import VM

# ssh-audit warnings we accept, with the reason (the report lists each one it met).
_PQ_FALLBACK = ("fallback for clients without PQ KEX (Paramiko, older Go x/crypto used by deploy tools, "
                "PuTTY < 0.78); PQ hybrids are offered first")


ACCEPTED_SSH_AUDIT_WARN: dict[str, str] = {
    "kex:curve25519-sha256:": _PQ_FALLBACK,
    "kex:curve25519-sha256@libssh.org:": _PQ_FALLBACK,
}


T = TypeVar("T")


def _inside(vm: VM, spec: HostSpec, admin: str, key: Path) -> list[checks.CheckResult]:
    return checks.run_all_inside(vm, admin, key, app_unit=f"{spec.app_name}.service",
                                 sysctl=declared_sysctl() or None,
                                 sandbox={u.unit: u.bound for u in sandboxed_units(spec, converged=False)},
                                 origins=upgrade_origins(spec), swap_mb=spec.swap_size_mb)


def boot_id(vm: VM, admin: str, key: Path) -> str:
    """The kernel's id of the current boot: a reboot that happened changes it."""
    return vm.ssh(admin, key, "cat /proc/sys/kernel/random/boot_id", timeout=60).stdout.strip()


def rebooted(vm: VM, admin: str, key: Path, spec: HostSpec, timings: dict) -> checks.CheckResult:
    """Reboot, wait for nginx and ssh; the check is that the kernel's boot id changed."""
    before = boot_id(vm, admin, key)
    t = time.monotonic()
    vm.reboot(admin, key, timeout=600)
    vm.wait_http(80, spec.app_health_path, timeout=300)
    timings["reboot_to_healthy_s"] = round(time.monotonic() - t, 1)
    vm.wait_ssh(admin, key, timeout=120)
    after = boot_id(vm, admin, key)
    return checks.CheckResult("rebooted_new_boot_id", bool(before) and bool(after) and before != after,
                              {"before": before, "after": after})


def banned_within(vm: VM, admin: str, key: Path, health_path: str, timeout: float) -> checks.CheckResult:
    """fail2ban acts within a few seconds of the probes: poll its effect (bounded) rather than sleep."""
    deadline = time.monotonic() + timeout
    while True:
        r = checks.fail2ban_banned_harness(vm, admin, key, health_path)
        if r.ok or time.monotonic() > deadline:
            return r
        time.sleep(2)


def run_form(form: str, user_data: str, spec: HostSpec, key: Path, cache: AptCache | None, lynis: bool,
             scan: bool = True, releases: bool = False, host_keys: HostKeys | None = None,
             day2: Day2Keys | None = None, boot_speed: bool = False, hostile: bool = True,
             same_as: tuple[str, dict[str, str] | None] | None = None, cpus: int = 2) -> dict:
    """boot_speed: time power-on -> healthy, locked down and complete (bootspeed.time_first_boot) and keep the
    guest's step timeline, before any audit.
    same_as: (form, its host files) of a form that ran every audit: this form must provision the same host (the
    same manifest and file digests), and then runs only what depends on the form: first boot completing, the
    admin's login, the pinned host key, nginx answering, and a reboot (the launch script must not run again)."""
    admin = spec.admin_user
    res: dict = {"form": form, "stack_admin": admin, "checks": [], "timings": {}}
    vm = VM(user_data, vendor_data=cache.vendor_data() if cache else None, name=form, cpus=cpus)
    vm.diag_user, vm.diag_key = admin, key
    ok = False
    out: list[dict] = []

    def add(phase: str, results: list[checks.CheckResult]) -> None:
        for r in results:
            out.append({"phase": phase, **r.as_dict()})
            log(f"{form}: [{phase}] {r.name}: {'ok' if r.ok else 'FAIL'} {json.dumps(r.figures) if r.figures else ''}")

    def timed(name: str, fn: Callable[[], T]) -> T:
        t = time.monotonic()
        r = fn()
        res["timings"][name] = round(time.monotonic() - t, 1)
        return r

    def finish() -> dict:
        res["checks"] = out
        res["ok"] = ok and "error" not in res
        return res

    want_open, may_close = expected_ports(spec)
    try:
        with vm:
            vm.start()
            if boot_speed:
                res["timings"].update(bootspeed.time_first_boot(vm, admin, key, spec.app_health_path))
                res["boot_timeline"] = bootspeed.guest_timeline(vm, admin, key)
            else:
                res["timings"].update(vm.wait_healthy(80, spec.app_health_path, timeout=900))
            vm.wait_ssh(admin, key, timeout=120)
            rc, text = vm.cloud_init_status(admin, key, timeout=120)
            res["cloud_init"] = {"rc": rc, "status": text.strip().splitlines()[:4]}
            add("first-boot", [checks.CheckResult("cloud_init_status", rc == 0, text.strip().splitlines()[:4])])
            # the audits read the finished host: the install phase (hvps-provision.timer) must have completed
            state = apt_outage_steps.wait_state(vm, admin, key, lambda s: s == "complete" or s.startswith("failed"),
                                                timeout=1200)
            add("first-boot", [checks.CheckResult("first_boot_complete", state == "complete", state)])
            res["host_files"] = host_files(vm, admin, key, spec)
            if same_as is not None:
                add("first-boot", [same_host(res["host_files"], same_as[1], same_as[0]),
                                   checks.ssh_admin_login(vm, admin, key), checks.http_headers(vm, 80)])
                if host_keys:
                    add("first-boot", [checks.ssh_host_key_pinned(vm, admin, key, host_keys.public,
                                                                  host_keys.other_public)])
                add("after-reboot", [rebooted(vm, admin, key, spec, res["timings"])])
                ok = all(c["ok"] for c in out)
                if not ok:
                    vm.print_diagnostics()
                vm.kill()
                return finish()
            # Order matters: fail2ban's sshd jail sees every host connection as 10.0.2.2 (slirp), so the checks
            # that make sshd log failures (root/password refusals, ssh-audit's pre-auth connections) run LAST.
            add("first-boot", _inside(vm, spec, admin, key))
            add("first-boot", [checks.ssh_admin_login(vm, admin, key), checks.sshd_effective_config(vm, admin, key),
                               checks.http_headers(vm, 80), checks.service_banners(vm)])
            if host_keys:                       # the key deploys pin: served, and a different one refused
                add("first-boot", [checks.ssh_host_key_pinned(vm, admin, key, host_keys.public,
                                                              host_keys.other_public)])
            if lynis:
                try:
                    audit = timed("lynis_s", lambda: checks.lynis_audit(vm, admin, key))
                except Exception as exc:        # a fetch or ssh failure must not cost the checks after it
                    audit = checks.CheckResult("lynis", False, f"{type(exc).__name__}: {exc}")
                add("first-boot", [audit])
            # resilience: a reboot, then every inside check again; then the app killed
            add("after-reboot", [rebooted(vm, admin, key, spec, res["timings"])])
            add("after-reboot", _inside(vm, spec, admin, key))
            if scan:        # once per form (~75 s), after the reboot: the ruleset the host keeps
                add("after-reboot", [timed("firewall_scan_s", lambda: checks.firewall_scan(
                    vm, admin, key, want_open, may_close))])
            add("after-reboot", [checks.app_restarts(vm, admin, key, f"{spec.app_name}.service",
                                                     spec.app_health_path)])
            if day2:                            # day 2: the running host converged as HostConfig does it,
                # before the releases as in `pulumi up` (config before app): they run in sandboxed sessions
                try:
                    add("day-2", timed("converge_s", lambda: converge.converge_check(
                        vm, spec, admin, key, day2.removed, (day2.added, parse_ssh_key(day2.public(day2.added))),
                        spec.ssh_keys[0])))
                except Exception as exc:        # a harness bug must not lose the other results
                    add("day-2", [checks.CheckResult("converge", False, f"{type(exc).__name__}: {exc}")])
            if releases:                        # the example app, released 3 times by hvps-release.sh
                try:
                    add("releases", timed("releases_s", lambda: release.releases_check(vm, spec, admin, key)))
                    # then hostile releases are refused (nothing leaks) and env values arrive byte for byte
                    if hostile:
                        add("hostile-releases", timed("hostile_releases_s",
                                                      lambda: hostile_release.hostile_release_check(vm, spec, admin,
                                                                                                    key)))
                except Exception as exc:        # a harness bug must not lose the other results
                    add("releases", [checks.CheckResult("releases", False, f"{type(exc).__name__}: {exc}")])
            if not all(c["ok"] for c in out):
                vm.print_diagnostics()          # while the admin's ssh still works
            # the probes sshd logs as failures, last; then fail2ban must have banned the harness's address
            add("outside", [checks.ssh_password_refused(vm, admin), checks.ssh_root_refused(vm, admin, key),
                            timed("ssh_audit_s", lambda: checks.ssh_audit(vm, ACCEPTED_SSH_AUDIT_WARN))])
            add("outside", [banned_within(vm, admin, key, spec.app_health_path, 30)])
            ok = all(c["ok"] for c in out)
            if not ok:
                print(vm.diagnostics(), file=sys.stderr, flush=True)       # serial tail (ssh is banned now)
            vm.kill()           # ssh is banned: the VM is disposable, power it off by killing qemu
    except Exception as exc:                    # VMError, or a harness bug: keep the results so far
        res["error"] = f"{type(exc).__name__}: {exc}"
        log(res["error"])
    finally:
        vm.remove_workdir()
    return finish()


def main(argv: list[str] | None = None) -> int:
    a = options(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    results: list[dict] = []
    forms = [f for f in a.forms.split(",") if f]
    name = a.name or ("negative" if a.negative else "report" if forms else "tls")
    with tempfile.TemporaryDirectory(prefix="e2e-keys-") as d:
        # A real ed25519 host key in place of the one the Pulumi program makes (the renderer's default is a
        # size-only stand-in that first boot refuses).
        key, day2, host_keys = harness_keys(a.keys or Path(d))
        pub = key.with_suffix(".pub").read_text().strip()
        spec = test_spec(a.stack, pub, day2.public(day2.removed))
        rendered = render_first_boot(spec, host_key=host_keys.private)
        data = {"cloud-config": rendered.cloud_config, "script": rendered.launch_script}
        new_cache = functools.partial(AptCache, a.apt_cache, a.apt_cache_ports)
        cache = None if a.no_cache else new_cache()
        outage_only = a.apt_outage and a.tls and not forms and not a.negative
        if cache and not outage_only:
            cache.start()                       # --apt-outage: the TLS run starts it once the host is locked down
        try:
            if a.negative:
                results.append(timed_scenario(lambda: run_negative(spec, key, cache, host_keys.private)))
            else:
                t = time.monotonic()
                bare = bootspeed.time_bare_boot(cache, spec.admin_user, pub) if a.boot_speed else None
                bare_s = time.monotonic() - t
                audited: tuple[str, dict[str, str] | None] | None = None
                for form in forms:
                    results.append(timed_scenario(functools.partial(
                        run_form, form, data[form], spec, key, cache,
                        lynis=not a.skip_lynis and form == a.lynis_form, scan=not a.skip_scan,
                        releases=not a.skip_releases and form == a.releases_form, host_keys=host_keys,
                        day2=day2 if not a.skip_converge and form == a.releases_form else None,
                        boot_speed=bare is not None and form == "cloud-config", hostile=not a.skip_hostile,
                        same_as=None if a.full_forms else audited, cpus=a.cpus)))
                    if audited is None:         # the first form runs every audit; the others prove the same host
                        audited = (form, results[-1].get("host_files"))
                    (a.out / f"{name}.json").write_text(json.dumps(results, indent=2))
                if bare is not None:
                    results.append(boot_speed_result(bare, next(r for r in results if r["form"] == "cloud-config")))
                    results[-1]["wall_s"] = round(bare_s, 1)
                if a.tls:
                    t = time.monotonic()
                    if a.apt_outage and cache and not outage_only:
                        cache.stop()            # the outage: a new port that nothing listens on yet
                        cache = new_cache()
                    tls_results = run_tls(spec, key, cache, host_keys, apt_outage=a.apt_outage,
                                          negative=a.negative_last, form=a.tls_form,
                                          same_as=audited if a.tls_form not in forms else None, cpus=a.cpus,
                                          data_out=a.out / f"{name}-benchmark.json" if a.data else None,
                                          bench_out=a.out / f"{name}-tls-benchmark.json" if a.benchmark else None,
                                          lynis=not a.skip_lynis and a.lynis_form == "tls")
                    tls_results[0]["wall_s"] = round(time.monotonic() - t, 1)
                    results.extend(tls_results)
        finally:
            if cache:
                cache.stop()
    total = time.monotonic() - t0
    report = {"stack": a.stack, "total_s": round(total, 1),
              "ok": bool(results) and all(r["ok"] for r in results), "results": results}
    (a.out / f"{name}.json").write_text(json.dumps(report, indent=2))
    (a.out / f"{name}.summary.json").write_text(json.dumps(summary.summarize(report), indent=1) + "\n")
    md = markdown(results, total)
    (a.out / f"{name}.md").write_text(md)
    print(md)
    return 0 if results and all(r["ok"] for r in results) else 1
