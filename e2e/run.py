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

import argparse
import dataclasses
import functools
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from components.config import HostSpec, load_stack_file, parse_ssh_key
from components.firstboot import HostFile, describe_first_boot, render_cloud_config, render_first_boot, upgrade_origins
from components.firstboot.concerns import MANIFEST_PATH
from components.firstboot.sandbox import sandboxed_units

from . import apt_outage as apt_outage_steps
from . import bootspeed, checks, converge, data_lane, hostile_release, release, summary, tls
from .vm import VM, AptCache, VMError, log

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# ssh-audit warnings we accept, with the reason (the report lists each one it met).
_PQ_FALLBACK = ("fallback for clients without PQ KEX (Paramiko, older Go x/crypto used by deploy tools, "
                "PuTTY < 0.78); PQ hybrids are offered first")
ACCEPTED_SSH_AUDIT_WARN: dict[str, str] = {
    "kex:curve25519-sha256:": _PQ_FALLBACK,
    "kex:curve25519-sha256@libssh.org:": _PQ_FALLBACK,
}
# Lynis on the plain (stock) image, from an earlier measurement: quoted, not re-measured here.
LYNIS_STOCK_BASELINE = 61

def test_spec(stack: str, *pubs: str) -> HostSpec:
    """The stack with the harness's admin key(s) in place of its own: the first is the harness's, a second
    one (when given) is the key the day-2 converge removes."""
    spec = load_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    return dataclasses.replace(spec, ssh_keys=tuple(parse_ssh_key(p) for p in pubs))


@dataclasses.dataclass(frozen=True)
class Day2Keys:
    """Admin keys for the converge check: first boot installs `removed`; the converged stack has `added`."""

    removed: Path
    added: Path

    @classmethod
    def generate(cls, work: Path) -> Day2Keys:
        for name in ("removed", "added"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"e2e-{name}", "-f",
                            str(work / name)], check=True)
        return cls(work / "removed", work / "added")

    def public(self, which: Path) -> str:
        return which.with_suffix(".pub").read_text().strip()


def declared_sysctl(spec: HostSpec) -> dict[str, str]:
    """The sysctl values the project's first boot declares (its rendered sysctl.d file): what must be applied."""
    out: dict[str, str] = {}
    for f in describe_first_boot(spec).files:
        if f.path.startswith("/etc/sysctl.d/"):
            for line in f.content.splitlines():
                k, sep, v = line.partition("=")
                if sep and not k.lstrip().startswith(("#", ";")):
                    out[k.strip()] = v.strip()
    return out


def expected_ports(spec: HostSpec) -> tuple[set[int], set[int]]:
    """(ports that must answer, ports the firewall may accept with nothing listening): 443 only serves with a
    domain, but the host firewall always accepts it (the nftables template opens 80 and 443)."""
    return ({22, 80, 443}, set()) if spec.domain else ({22, 80}, {443})


def _inside(vm: VM, spec: HostSpec, admin: str, key: Path) -> list[checks.CheckResult]:
    return checks.run_all_inside(vm, admin, key, app_unit=f"{spec.app_name}.service",
                                 sysctl=declared_sysctl(spec) or None,
                                 sandbox={u.unit: u.bound for u in sandboxed_units(spec)},
                                 origins=upgrade_origins(spec))


@dataclasses.dataclass(frozen=True)
class HostKeys:
    """The test host key first boot carries (as the Pulumi program's would), and another one it must not match."""

    private: str
    public: str
    other_public: str

    @classmethod
    def generate(cls, work: Path) -> HostKeys:
        for name in ("host", "other"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(work / name)],
                           check=True)
        return cls((work / "host").read_text(), (work / "host.pub").read_text().strip(),
                   (work / "other.pub").read_text().strip())


def harness_keys(d: Path) -> tuple[Path, Day2Keys, HostKeys]:
    """The admin key, the day-2 keys and the host keys in `d`, made unless all are there: the lanes of `all`
    render from one directory's keys, so their hosts hold the same files where the two stacks render alike."""
    names = ("id_ed25519", "removed", "added", "host", "other")
    if not all((d / n).exists() and (d / f"{n}.pub").exists() for n in names):
        for n in names:                         # ssh-keygen asks before overwriting: start from none
            for f in (d / n, d / f"{n}.pub"):
                f.unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(d / "id_ed25519")],
                       check=True)
        return d / "id_ed25519", Day2Keys.generate(d), HostKeys.generate(d)
    return d / "id_ed25519", Day2Keys(d / "removed", d / "added"), HostKeys(
        (d / "host").read_text(), (d / "host.pub").read_text().strip(), (d / "other.pub").read_text().strip())


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


def host_files(vm: VM, admin: str, key: Path, spec: HostSpec) -> dict[str, str]:
    """sha256 of the concerns manifest and of every file first boot writes, as the host holds them: two forms
    that provisioned the same host give the same map."""
    paths = sorted({MANIFEST_PATH, *(f.path for f in describe_first_boot(spec).files)})
    p = vm.ssh(admin, key, "sudo sha256sum -- " + " ".join(shlex.quote(x) for x in paths) + " 2>&1", timeout=120)
    out: dict[str, str] = {}
    for line in p.stdout.splitlines():
        digest, _, path = line.partition("  ")      # "sha256sum: PATH: No such file..." has no two spaces
        out[path or line] = digest if path else "unreadable"
    return out


def same_host(files: dict[str, str], reference: dict[str, str] | None, reference_form: str) -> checks.CheckResult:
    """This form's host files against the fully audited form's, read at the same point (first boot complete)."""
    differ = sorted(p for p in set(files) | set(reference or {}) if files.get(p) != (reference or {}).get(p))
    return checks.CheckResult(f"same_host_as_{reference_form}", bool(reference) and bool(files) and not differ,
                              {"differing": differ[:20]}, figures={"files": len(files)})


def lynis_audit(vm: VM, admin: str, key: Path) -> checks.CheckResult:
    """The Lynis check, with the stock image's index beside it for scale."""
    r = checks.lynis_audit(vm, admin, key)
    r.figures["stock_image_baseline"] = LYNIS_STOCK_BASELINE
    r.figures["baseline_source"] = "quoted from an earlier measurement of the stock image (not re-measured)"
    return r


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
                add("first-boot", [timed("lynis_s", lambda: lynis_audit(vm, admin, key))])
            # resilience: a reboot, then every inside check again; then the app killed
            add("after-reboot", [rebooted(vm, admin, key, spec, res["timings"])])
            add("after-reboot", _inside(vm, spec, admin, key))
            if scan:        # once per form (~75 s), after the reboot: the ruleset the host keeps
                add("after-reboot", [timed("firewall_scan_s", lambda: checks.firewall_scan(
                    vm, admin, key, want_open, may_close))])
            add("after-reboot", [checks.app_restarts(vm, admin, key, f"{spec.app_name}.service",
                                                     spec.app_health_path)])
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
            if day2:                            # day 2: the running host converged as HostConfig does it
                try:
                    add("day-2", timed("converge_s", lambda: converge.converge_check(
                        vm, spec, admin, key, day2.removed, (day2.added, parse_ssh_key(day2.public(day2.added))),
                        spec.ssh_keys[0])))
                except Exception as exc:        # a harness bug must not lose the other results
                    add("day-2", [checks.CheckResult("converge", False, f"{type(exc).__name__}: {exc}")])
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


# ------------------------------------------------------------------------------------------ TLS (pebble)
TLS_DOMAIN = "shop.example.com"          # the prod stack's domain


def shared_files(a: HostSpec, b: HostSpec) -> set[str]:
    """The first-boot files two stacks render alike: on two hosts of those stacks they must be equal."""
    left = {f.path: f.content for f in describe_first_boot(a).files}
    return {f.path for f in describe_first_boot(b).files if left.get(f.path) == f.content}


def same_host_alike(tls_res: dict, reference: dict[str, str] | None, reference_form: str) -> checks.CheckResult:
    """The TLS host's files against the audited host's, over the files the two stacks render alike only (the
    paths the TLS run recorded); without the TLS host's record or the reference, nothing is proven."""
    alike = set(tls_res.get("alike_paths") or ())
    files = {p: d for p, d in (tls_res.get("host_files") or {}).items() if p in alike}
    return same_host(files, {p: d for p, d in (reference or {}).items() if p in alike} or None, reference_form)


def run_tls(spec: HostSpec, key: Path, cache: AptCache | None, host_keys: HostKeys, apt_outage: bool = False,
            negative: bool = False, form: str = "cloud-config",
            same_as: tuple[str, dict[str, str] | None] | None = None, cpus: int = 2,
            data_out: Path | None = None, lynis: bool = False) -> list[dict]:
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
            if lynis:
                t = time.monotonic()
                try:
                    audit = lynis_audit(vm, admin, key)
                except Exception as exc:        # a fetch or ssh failure must not cost the negative case
                    audit = checks.CheckResult("lynis", False, f"{type(exc).__name__}: {exc}")
                res["timings"]["lynis_s"] = round(time.monotonic() - t, 1)
                log(f"tls: [audit] {audit.name}: {'ok' if audit.ok else 'FAIL'} {json.dumps(audit.figures)}")
                out.append(audit)
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
                     + [{"phase": "audit" if r.name == "lynis" else "tls", **r.as_dict()} for r in out])
    res["ok"] = "error" not in res and bool(out) and all(r.ok for r in out) and all(r.ok for _, r in outage)
    data_res["ok"] = "error" not in data_res and len(data_res["checks"]) >= 2 and all(
        c["ok"] for c in data_res["checks"]) and any(c["phase"] == "rebuild" for c in data_res["checks"])
    if not negative:
        return [res, data_res] if data_out else [res]
    return [res, *([data_res] if data_out else []), neg if neg else {
        "form": NEGATIVE_FORM, "checks": [], "caught": False, "ok": False,
        "error": "the TLS host did not get as far as the negative case"}]


# ------------------------------------------------------------------------------------------ negative case
WEAK_SSHD = ("# e2e NEGATIVE CASE: deliberately weakened (sorts before 10-hvps-hardening.conf; sshd keeps the\n"
             "# first value it reads). AuthenticationMethods too: with the product's 'publickey' alone, sshd would\n"
             "# still not offer passwords (seen in the VM), so the weakening would not be real.\n"
             "PasswordAuthentication yes\nKbdInteractiveAuthentication yes\nAuthenticationMethods any\n")


def weakened_user_data(spec: HostSpec, host_key: str) -> str:
    """The real first boot for the spec, plus ONE test-only weakening: an sshd drop-in that turns password login
    back on. Rendered by the project's own renderer (render_cloud_config) from a transformed FirstBoot."""
    fb = describe_first_boot(spec, host_key)
    weak = dataclasses.replace(fb, files=(HostFile("/etc/ssh/sshd_config.d/05-e2e-weakened.conf", WEAK_SSHD,
                                                   "0600"), *fb.files))
    return render_cloud_config(weak)


NEGATIVE_FORM = "negative:running-host+PasswordAuthentication-yes"


def _caught(res: dict) -> dict:
    """caught = the harness still works (admin login ok) AND the weakening is flagged by both ssh checks."""
    by = {c["name"]: c["ok"] for c in res["checks"]}
    res["caught"] = bool(by.get("ssh_admin_login")) and by.get("sshd_effective_config") is False \
        and by.get("ssh_password_refused") is False
    res["ok"] = res["caught"]
    return res


def weaken_running_host(vm: VM, admin: str, key: Path) -> dict:
    """The negative case on a host that passed every check (no boot of its own): the same sshd drop-in as
    weakened_user_data, written and loaded over SSH; the checks must catch it. The VM is discarded after."""
    res: dict = {"form": NEGATIVE_FORM, "checks": [], "timings": {}}
    path = "/etc/ssh/sshd_config.d/05-e2e-weakened.conf"
    vm.ssh(admin, key, f"printf %s {shlex.quote(WEAK_SSHD)} | sudo tee {path} >/dev/null && sudo chmod 0600 {path}"
                       " && sudo sshd -t && sudo systemctl reload ssh", timeout=60, check=True)
    time.sleep(2)
    results = [checks.ssh_admin_login(vm, admin, key), checks.sshd_effective_config(vm, admin, key),
               checks.ssh_password_refused(vm, admin)]
    for r in results:
        log(f"negative: {r.name}: {'ok' if r.ok else 'FAIL (expected)'}")
    res["checks"] = [{"phase": "negative", **r.as_dict()} for r in results]
    return _caught(res)


def run_negative(spec: HostSpec, key: Path, cache: AptCache | None, host_key: str) -> dict:
    """Boot the weakened config; the checks must catch it (password offered, sshd -T says yes)."""
    admin = spec.admin_user
    res: dict = {"form": "negative:cloud-config+PasswordAuthentication-yes", "checks": [], "timings": {}}
    vm = VM(weakened_user_data(spec, host_key), vendor_data=cache.vendor_data() if cache else None, name="negative")
    vm.diag_user, vm.diag_key = admin, key
    try:
        with vm:
            vm.start()
            res["timings"].update(vm.wait_healthy(80, spec.app_health_path, timeout=900))
            vm.wait_ssh(admin, key, timeout=120)
            results = [checks.ssh_admin_login(vm, admin, key), checks.sshd_effective_config(vm, admin, key),
                       checks.ssh_password_refused(vm, admin)]
            res["checks"] = [{"phase": "negative", **r.as_dict()} for r in results]
            vm.kill()
    except VMError as exc:
        res["error"] = str(exc)
        log(str(exc))
    finally:
        vm.remove_workdir()
    return _caught(res)


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


def port_range(text: str) -> tuple[int, int]:
    """`LOW-HIGH` as two ports, LOW <= HIGH (apt-cacher-ng binds only below 32768)."""
    low, _, high = text.partition("-")
    if not (low.isdigit() and high.isdigit() and 1024 <= int(low) <= int(high) < 32768):
        raise argparse.ArgumentTypeError(f"{text!r}: want LOW-HIGH, 1024 <= LOW <= HIGH < 32768")
    return int(low), int(high)


def parser() -> argparse.ArgumentParser:
    """The runner's options (each scenario of `python -m e2e` is a set of them)."""
    ap = argparse.ArgumentParser(prog="python -m e2e SCENARIO")
    ap.add_argument("--stack", default="do-dev")
    ap.add_argument("--forms", default="cloud-config,script")
    ap.add_argument("--lynis-form", default="cloud-config",
                    help="the form Lynis runs on, or `tls` for the TLS boot (once per run, 815-1211 s alone under TCG)")
    ap.add_argument("--skip-lynis", action="store_true", help="no Lynis in this run")
    ap.add_argument("--skip-scan", action="store_true", help="dev: no in-guest nmap scan")
    ap.add_argument("--releases-form", default="cloud-config",
                    help="the form the app releases run on, once per run")
    ap.add_argument("--skip-releases", action="store_true", help="dev: no app releases")
    ap.add_argument("--skip-hostile", action="store_true", help="dev: releases without the hostile ones")
    ap.add_argument("--skip-converge", action="store_true", help="dev: no day-2 converge (on the releases form)")
    ap.add_argument("--negative", action="store_true",
                    help="boot a deliberately weakened config; exit 0 only when the checks catch it")
    ap.add_argument("--tls", action="store_true",
                    help="add the TLS run with pebble (a third boot, ~7 min: do-dev with a domain)")
    ap.add_argument("--negative-last", action="store_true",
                    help="with --tls: end the TLS run by weakening that host; the checks must catch it (the "
                         "negative case without a boot of its own)")
    ap.add_argument("--data", action="store_true",
                    help="with --tls: a data volume and PostgreSQL on that host, their checks, then a rebuild of the "
                         "server with the same disk, benchmarked (e2e/data_lane.py)")
    ap.add_argument("--tls-form", choices=("cloud-config", "script"), default="cloud-config",
                    help="the first-boot form of the TLS boot; when it is not among --forms, that boot is its form's "
                         "proof too (the same files as the audited form's host, the outage and TLS checks)")
    ap.add_argument("--apt-outage", action="store_true",
                    help="with --tls: boot it with the package mirror unreachable, check the locked-down host, "
                         "then restore the mirror and require first boot to complete")
    ap.add_argument("--boot-speed", action="store_true",
                    help="first a bare boot (admin + nginx) on the same image and cache, then time the cloud-config "
                         "form's first boot against it (e2e/bootspeed.py); the ratio goes into the report")
    ap.add_argument("--full-forms", action="store_true",
                    help="every audit on every form (default: the first form runs them all, the others prove they "
                         "provisioned the same host and run only what depends on the form)")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO / "e2e" / "out")
    ap.add_argument("--name", help="the report's file name in --out (default: report, tls or negative)")
    ap.add_argument("--keys", type=Path, help="a directory of harness keys to reuse (made there when missing)")
    ap.add_argument("--apt-cache", default="acng", help="the apt cache's directory under the e2e cache: a lane "
                    "of `all` has its own, as two apt-cacher-ng must not write one cache")
    ap.add_argument("--apt-cache-ports", type=port_range, default=(20000, 32000),
                    help="LOW-HIGH: where the apt cache's port is chosen (each lane of `all` has its own range)")
    ap.add_argument("--cpus", type=int, default=2, help="vCPUs of each VM")
    return ap


def options(argv: list[str] | None = None) -> argparse.Namespace:
    """The runner's options, refused (argparse's exit 2 with the reason) when they contradict each other."""
    ap = parser()
    a = ap.parse_args(argv)
    if a.boot_speed and ("cloud-config" not in a.forms.split(",") or a.negative):
        ap.error("--boot-speed times the cloud-config form: keep it in --forms, without --negative")
    if not a.skip_lynis and not a.negative and not (a.lynis_form in a.forms.split(",")
                                                    or (a.lynis_form == "tls" and a.tls)):
        ap.error(f"--lynis-form {a.lynis_form}: Lynis would run nowhere; name one of --forms, or `tls` with --tls "
                 "(or --skip-lynis)")
    return a


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
