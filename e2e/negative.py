"""The negative case: a host weakened on purpose (password login turned on through an sshd drop-in), at first
boot or on a running host that passed every check; the run passes only when the checks catch it.
"""
from __future__ import annotations

import dataclasses
import shlex
import time
from pathlib import Path

from components.config import HostSpec
from components.firstboot import AS_ROOT, HostFile, describe_first_boot, render_cloud_config

from . import checks
from .apt_cache import AptCache
from .processes import VMError, log
from .vm import VM

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
    vm.ssh(admin, key, f"printf %s {shlex.quote(WEAK_SSHD)} | {AS_ROOT} tee {path} >/dev/null"
                       f" && {AS_ROOT} chmod 0600 {path}"
                       f" && {AS_ROOT} sshd -t && {AS_ROOT} systemctl reload ssh", timeout=60, check=True)
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
