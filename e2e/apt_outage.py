#!/usr/bin/env python3
"""Real-VM proof that first boot fails closed: boot with the package mirror unreachable, then restore it.

1. The guest's apt goes through apt-cacher-ng on the host (vendor-data proxy, see apt_cache.AptCache). Blocked = the
   proxy port is chosen but nothing listens on it yet: every apt call is refused at once.
2. Boot the stack's own rendered first boot (a real ed25519 host key, as the Pulumi program sends it). Wait
   until `hvps-provision --status` reports a failed install attempt (the host is then locked down and waiting
   for its next attempt), and check: admin key login and sudo, `sshd -T` hardened (root and password login
   off), nftables policy drop, the served host key is the pinned one, the attempt is in the progress record.
3. Unblock (start apt-cacher-ng on that very port), wait for `complete` (the timer's next attempt, at most
   the backoff of the attempts so far, 1 then 2 minutes) and for the health path through nginx.

    python -m e2e apt-outage [--stack do-dev] [--form cloud-config|script] [--out e2e/out]

Costs one VM boot: about 10 minutes under TCG (1-2 min to lockdown, about a minute of checks, up to 2 min
of backoff, then the install of about 4-5 min measured for the normal first boot). Every wait is bounded.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from components.config import HostSpec, load_stack_file, parse_ssh_key
from components.firstboot import AS_ROOT, PROVISION_SCRIPT, progress, render_first_boot

from . import checks
from .apt_cache import AptCache
from .processes import VMError, log
from .vm import VM

REPO = Path(__file__).resolve().parent.parent
STATUS = f"{AS_ROOT} {PROVISION_SCRIPT} --status"


#: From the mirror's return to first boot complete, at most (512 s alone; over 1500 s beside the other lane on a
#: loaded machine): a bound against a hang, not a speed check.
OUTAGE_BOUND_S = 2700


def _status(vm: VM, admin: str, key: Path) -> str:
    return vm.ssh(admin, key, STATUS, timeout=60).stdout.strip()


def wait_state(vm: VM, admin: str, key: Path, done: Callable[[str], bool], timeout: float) -> str:
    """Poll the first-boot state until done(state) or `timeout` seconds; the last state either way."""
    deadline, state = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        state = _status(vm, admin, key)
        if done(state):
            return state
        if not vm.running():
            raise VMError(f"{vm.name}: qemu exited; first-boot state {state!r}")
        time.sleep(5)
    raise VMError(f"{vm.name}: first-boot state still {state!r} after {timeout:.0f}s")


def served_host_key(vm: VM) -> str:
    p = subprocess.run(["ssh-keyscan", "-t", "ed25519", "-p", str(vm.ports[22]), "127.0.0.1"], capture_output=True,
                       text=True, timeout=30)
    return " ".join(p.stdout.split()[1:3])


def outage_then_recovery(vm: VM, spec: HostSpec, admin: str, key: Path, pinned: str, cache: AptCache,
                         timeout: float = OUTAGE_BOUND_S) -> tuple[list[tuple[str, checks.CheckResult]], dict]:
    """Steps 2 and 3 above on a VM started with `cache` chosen but not started: (phase, check) pairs and
    timings. Raises VMError when a bounded wait runs out."""
    out: list[tuple[str, checks.CheckResult]] = []
    timings: dict = {}
    t0 = time.monotonic()
    vm.wait_ssh(admin, key, timeout=600)
    state = wait_state(vm, admin, key, lambda s: s.startswith("installing attempt") and "failed" in s, timeout=600)
    timings["power_on_to_failed_attempt_s"] = round(time.monotonic() - t0, 1)
    record = vm.ssh(admin, key, f"{AS_ROOT} cat {progress.PROGRESS_FILE}", timeout=60).stdout
    recorded = progress.states(progress.parse_progress(record))
    out += [("apt-blocked", r) for r in (
        # the state names the failed step: an apt command (`apt-get`, or provision.sh's "${APT[@]}" array)
        checks.CheckResult("state_says_why", "failed" in state and "apt" in state.lower(), state),
        checks.CheckResult("attempt_recorded", "installing attempt 1" in recorded
                           and any(st.startswith("installing attempt 1 failed") for st in recorded), recorded[-3:]),
        checks.CheckResult("pinned_host_key_served", served_host_key(vm) == pinned, pinned),
        # `sshd -T` witnesses root and password login off. No refused-login probe here: fail2ban, installed
        # once the mirror returns, reads the recent journal and would ban the harness (seen in the VM).
        checks.ssh_admin_login(vm, admin, key), checks.sshd_effective_config(vm, admin, key),
        checks.nftables_enforcing(vm, admin, key))]
    cache.start()                            # the mirror is back, on the port the guest's apt was given
    t1 = time.monotonic()
    state = wait_state(vm, admin, key, lambda s: s == "complete" or s.startswith("failed"), timeout=timeout)
    timings["unblocked_to_complete_s"] = round(time.monotonic() - t1, 1)
    out.append(("apt-restored", checks.CheckResult("first_boot_complete", state == "complete", state)))
    return out, timings


def run_apt_outage(spec: HostSpec, key: Path, form: str = "cloud-config", timeout: float = OUTAGE_BOUND_S) -> dict:
    """The scenario above on a VM of its own; `spec` carries the test key. Returns checks and timings (never
    raises). `make e2e` runs the same steps inside the TLS boot instead (`python -m e2e all`)."""
    admin = spec.admin_user
    res: dict = {"scenario": "apt-outage", "form": form, "checks": [], "timings": {}}
    with tempfile.TemporaryDirectory(prefix="e2e-hostkey-") as d:  # made like the program's tls.PrivateKey
        host_key = Path(d) / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(host_key)], check=True)
        pinned = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
        rendered = render_first_boot(spec, host_key=host_key.read_text())
    user_data = rendered.cloud_config if form == "cloud-config" else rendered.launch_script
    cache = AptCache()                       # a port is chosen; apt-cacher-ng is NOT started: apt is blocked
    vm = VM(user_data, vendor_data=cache.vendor_data(), name=f"apt-outage-{form}")
    vm.diag_user, vm.diag_key = admin, key
    out: list[tuple[str, checks.CheckResult]] = []
    t0 = time.monotonic()
    try:
        with vm:
            vm.start()
            out, timings = outage_then_recovery(vm, spec, admin, key, pinned, cache, timeout)
            res["timings"].update(timings)
            vm.wait_http(80, spec.app_health_path, timeout=120)
            out += [("apt-restored", checks.CheckResult("healthy_through_nginx", True, spec.app_health_path)),
                    ("apt-restored", checks.nftables_enforcing(vm, admin, key))]
            for phase, r in out:
                log(f"apt-outage: [{phase}] {r.name}: {'ok' if r.ok else 'FAIL'}")
            if not all(r.ok for _, r in out):
                vm.print_diagnostics()
    except Exception as exc:                 # VMError, or a harness bug: keep the results so far
        res["error"] = f"{type(exc).__name__}: {exc}"
        log(res["error"])
    finally:
        cache.stop()
        vm.remove_workdir()
    res["timings"]["total_s"] = round(time.monotonic() - t0, 1)
    res["checks"] = [{"phase": phase, **r.as_dict()} for phase, r in out]
    res["ok"] = "error" not in res and bool(out) and all(r.ok for _, r in out)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m e2e apt-outage", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--stack", default="do-dev")
    ap.add_argument("--form", choices=("cloud-config", "script"), default="cloud-config")
    ap.add_argument("--out", type=Path, default=REPO / "e2e" / "out")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="e2e-keys-") as d:
        key = Path(d) / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(key)], check=True)
        spec = load_stack_file(REPO / "stacks" / f"Pulumi.{a.stack}.yaml")
        spec = dataclasses.replace(spec, ssh_keys=(parse_ssh_key(key.with_suffix(".pub").read_text().strip()),))
        result = run_apt_outage(spec, key, a.form)
    (a.out / "apt-outage.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in ("ok", "timings")}, indent=2))
    return 0 if result["ok"] else 1
