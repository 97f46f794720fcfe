"""The TLS boot: the stack with a domain and the product's ACME settings pointed at pebble on the host, real
http-01 through the guest's nginx, the HTTPS checks and a forced renewal; around it, when asked, the apt outage,
the data phases and their rebuild, the benchmark, Lynis, and the negative case on the same host.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from components.config import HostSpec
from components.firstboot import render_first_boot

from . import apt_outage as apt_outage_steps
from . import bench_checks, checks, data_lane, tls
from .apt_cache import AptCache
from .fixtures import HostKeys
from .guest import VMGuest
from .negative import NEGATIVE_FORM, weaken_running_host
from .processes import log
from .same_host import host_files, same_host_alike, shared_files
from .vm import VM

TLS_DOMAIN = "shop.example.com"          # the prod stack's domain
#: The report's phase of a check of the TLS host that is not a TLS check.
PHASES = {"lynis": "audit", "benchmark_run": "benchmark"}


def _guarded(name: str, timings: dict[str, float], check: Callable[[], checks.CheckResult]) -> checks.CheckResult:
    """A check late on the TLS host, timed (`<name>_s`) and logged; its exception (an ssh timeout, a fetch) is its
    failure, so it never costs the checks after it (the negative case)."""
    t = time.monotonic()
    try:
        result = check()
    except Exception as exc:
        result = checks.CheckResult(name, False, f"{type(exc).__name__}: {exc}")
    timings[f"{name.removesuffix('_run')}_s"] = round(time.monotonic() - t, 1)
    log(f"tls: [{PHASES.get(name, 'tls')}] {result.name}: {'ok' if result.ok else 'FAIL'} {json.dumps(result.figures)}")
    return result


def run_tls(spec: HostSpec, key: Path, cache: AptCache | None, host_keys: HostKeys, apt_outage: bool = False,
            negative: bool = False, form: str = "cloud-config",
            same_as: tuple[str, dict[str, str] | None] | None = None, cpus: int = 2,
            data_out: Path | None = None, lynis: bool = False, bench_out: Path | None = None) -> list[dict]:
    """do-dev with a domain (dataclasses.replace) and the product's acmeServer/acmeCaCertificate pointed at pebble
    on the host; real http-01 through the guest's nginx; HTTPS checks from outside; forced renewal.

    apt_outage: `cache` is chosen but not started when the VM boots (the package mirror is unreachable): first
    the host must be locked down and retrying, then the mirror returns and first boot must complete
    (e2e/apt_outage.py); the TLS checks follow on the same host.
    negative: last, the same host is weakened (weaken_running_host) and the checks must catch it: a second
    result, as run_negative's.
    form: the first-boot form this boot uses; with `same_as` (the fully audited form and its host files) it is
    that form's proof too: every file the two stacks render alike must hold the same digest on both hosts, and
    the outage checks (admin login, `sshd -T`, nftables, the pinned host key) and the TLS ones run on it.
    data_out: the stack gets a data volume and PostgreSQL (a blank second disk); after the TLS checks the data
    phases run on this host, and after the negative case the server is rebuilt with the same disk and benchmarked
    (e2e/data_lane.py): a result of their own, its benchmark document in `data_out`.
    bench_out: the product's benchmark runs on this host after its TLS (and data) checks, before Lynis and the
    negative case (its document there; the VM's power-on stands in for the vendor's creation time).
    lynis: the Lynis audit runs on this host once its TLS (and data) checks are done, before the negative case
    weakens it (`all` runs it here: this lane is the shorter one, and its host is the audited form's host plus a
    domain, which the same-host check shows)."""
    admin = spec.admin_user
    host_key = host_keys.private
    res: dict = {"form": f"tls:{form}+domain", "checks": [], "timings": {}}
    work = Path(tempfile.mkdtemp(prefix="e2e-pebble-"))
    peb = tls.Pebble(work)
    tls_spec = dataclasses.replace(spec, domain=TLS_DOMAIN, acme_email="ops@example.com",
                                   acme_server=peb.directory_url, acme_ca_certificate=peb.ca_pem)
    tls_spec = data_lane.data_spec(tls_spec) if data_out else tls_spec
    disk = data_lane.new_disk(work, tls_spec) if data_out else None
    data_res: dict = {"form": f"data:{form}+volume", "checks": [], "timings": {}}
    state: data_lane.DataState | None = None
    rendered = render_first_boot(tls_spec, host_key=host_key)
    user_data = rendered.cloud_config if form == "cloud-config" else rendered.launch_script
    vm = VM(user_data, vendor_data=cache.vendor_data() if cache else None, name="tls", cpus=cpus, data_disk=disk)
    vm.diag_user, vm.diag_key = admin, key
    out: list[checks.CheckResult] = []
    outage: list[tuple[str, checks.CheckResult]] = []
    neg: dict | None = None
    try:
        with vm:
            vm.start()
            peb.start(http_port=vm.ports[80])
            if apt_outage and cache:
                outage, timings = apt_outage_steps.outage_then_recovery(
                    vm, spec, admin, key, " ".join(host_keys.public.split()[:2]), cache)
                res["timings"].update(timings)
                for phase, r in outage:
                    log(f"tls: [{phase}] {r.name}: {'ok' if r.ok else 'FAIL'}")
            res["timings"].update(vm.wait_healthy(80, spec.app_health_path, ok=(200, 301, 308), timeout=900))
            res["timings"]["https_s"] = round(tls.wait_certificate(vm, TLS_DOMAIN, timeout=420), 1)
            vm.wait_ssh(admin, key, timeout=120)
            # recorded for a comparison made later (the lanes of `all`: after both have finished)
            res["host_files"], res["alike_paths"] = host_files(vm, admin, key, tls_spec), sorted(
                shared_files(spec, tls_spec))
            if same_as is not None:
                out.append(same_host_alike(res, same_as[1], same_as[0]))
            out += [tls.tls_protocols(vm, TLS_DOMAIN), tls.https_headers(vm, TLS_DOMAIN, spec.app_health_path),
                    tls.http_redirects(vm, TLS_DOMAIN),
                    tls.renewal_reloads_nginx(vm, admin, key, TLS_DOMAIN)]
            for r in out:
                log(f"tls: {r.name}: {'ok' if r.ok else 'FAIL'} {json.dumps(r.figures) if r.figures else ''}")
            if not all(r.ok for r in out):
                vm.print_diagnostics()
                print(peb.logs(), file=sys.stderr)
            if data_out:
                found, state = data_lane.prove_on_host(vm, tls_spec, key)
                data_res["checks"] += [{"phase": "data", **r.as_dict()} for r in found]
            if bench_out:
                out.append(_guarded("benchmark_run", res["timings"], lambda: bench_checks.benchmark_run(
                    VMGuest(vm, admin, key), tls_spec, bench_out, created_at=vm.power_on_iso())))
            if lynis:
                out.append(_guarded("lynis", res["timings"], lambda: checks.lynis_audit(vm, admin, key)))
            if negative:
                neg = weaken_running_host(vm, admin, key)
            vm.kill()
        if data_out and disk and state and state.uuid:
            t = time.monotonic()
            found = data_lane.rebuild_keeps_data(user_data, tls_spec, key, disk, cache, state, data_res["timings"],
                                                 data_out)
            data_res["checks"] += [{"phase": "rebuild", **r.as_dict()} for r in found]
            data_res["timings"]["rebuild_wall_s"] = round(time.monotonic() - t, 1)
    except Exception as exc:                    # VMError, or a harness bug: never lose the other results
        res["error"] = data_res["error"] = f"{type(exc).__name__}: {exc}"
        log(res["error"])
        print(peb.logs(), file=sys.stderr)
    finally:
        peb.stop()
        vm.remove_workdir()
        shutil.rmtree(work, ignore_errors=True)
    res["checks"] = ([{"phase": phase, **r.as_dict()} for phase, r in outage]
                     + [{"phase": PHASES.get(r.name, "tls"), **r.as_dict()} for r in out])
    res["ok"] = "error" not in res and bool(out) and all(r.ok for r in out) and all(r.ok for _, r in outage)
    data_res["ok"] = "error" not in data_res and len(data_res["checks"]) >= 2 and all(
        c["ok"] for c in data_res["checks"]) and any(c["phase"] == "rebuild" for c in data_res["checks"])
    if not negative:
        return [res, data_res] if data_out else [res]
    return [res, *([data_res] if data_out else []), neg if neg else {
        "form": NEGATIVE_FORM, "checks": [], "caught": False, "ok": False,
        "error": "the TLS host did not get as far as the negative case"}]
