#!/usr/bin/env python3
"""First boot against a bare boot: the same image, the same apt cache, one after the other.

bare: a cloud-config that only makes the admin (key, sudo) and installs nginx, as a vendor's stock boot would:
power-on -> nginx answers `/` through the forward. No audits, the VM is then killed (it costs one short boot).
hardened: the stack's rendered first boot (cloud-config form), timed from power-on to
- `healthy_s`: the health path answers through nginx;
- `locked_down_s`: over SSH, `sshd -T` is hardened and an nftables input chain has policy drop (the same checks
  as the audits; polled only once cloud-init finished, right after the lockdown it runs, so no probe reaches sshd
  before the admin's key is installed: fail2ban would read such failures from the journal later);
- `complete_s`: `hvps-provision --status` says complete (the install phase is over).
Then, from the guest: when each step of the provisioner started (its progress record), each apt command and what it
fetched (apt's history and output), the dpkg triggers that cost time, `systemd-analyze blame` and
`cloud-init analyze blame`. The ratio is (max of healthy and locked down) / bare.

    python -m e2e boot-times [--stack do-dev] [--skip-bare] [--out e2e/out]

`python -m e2e bootspeed` runs the same bare boot and times its cloud-config form the same way, before
its audits, and records the comparison in e2e/out/report.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import re
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from components.firstboot import AS_ROOT, PROVISION_SCRIPT, progress, render_first_boot, wire

from . import checks
from .apt_cache import AptCache
from .processes import VMError, log
from .vm import FINISHED_RE, VM

TARGET_RATIO = 1.5


def bare_cloud_config(admin: str, public_key: str) -> str:
    """The baseline: the admin with its key and passwordless sudo, nginx installed; nothing else."""
    doc = {"ssh_pwauth": False,
           "users": [{"name": admin, "shell": "/bin/bash", "lock_passwd": True, "sudo": "ALL=(ALL) NOPASSWD:ALL",
                      "ssh_authorized_keys": [public_key]}],
           "packages": ["nginx"]}
    return f"{wire.CLOUD_CONFIG_LINE}\n" + yaml.safe_dump(doc, sort_keys=False)


def host_load() -> float:
    """The host's 1-minute load average: TCG guests slow down when other work shares the cores."""
    return round(os.getloadavg()[0], 2)


def time_bare_boot(cache: AptCache | None, admin: str, public_key: str, timeout: float = 900) -> dict:
    """Power-on -> nginx's default page through the forward; the VM is killed right after."""
    vm = VM(bare_cloud_config(admin, public_key), vendor_data=cache.vendor_data() if cache else None, name="bare")
    stored = cache.stored_bytes() if cache else 0
    load = host_load()
    try:
        with vm:
            vm.start()
            healthy = vm.wait_http(80, "/", timeout=timeout)
            log(f"bare: nginx answered {healthy:.0f}s after power-on")
            vm.kill()
    finally:
        vm.remove_workdir()
    return {"healthy_s": round(healthy, 1), "host_load_at_power_on": load, "host_load_at_answer": host_load(),
            "cache_grew_bytes": (cache.stored_bytes() - stored) if cache else None}


def _locked_down(vm: VM, admin: str, key: Path) -> bool:
    return all(r.ok for r in (checks.sshd_effective_config(vm, admin, key), checks.nftables_enforcing(vm, admin, key)))


def _status(vm: VM, admin: str, key: Path) -> str:
    return vm.ssh(admin, key, f"{AS_ROOT} {PROVISION_SCRIPT} --status", timeout=60).stdout.strip()


def time_first_boot(vm: VM, admin: str, key: Path, health_path: str, timeout: float = 1500) -> dict:
    """Poll a started VM from power-on until healthy, locked down and complete (seconds from power-on each).
    Raises VMError when the bound runs out or first boot says failed."""
    deadline = time.monotonic() + timeout
    t: dict[str, float] = {"host_load_at_power_on": host_load()}
    state = ""
    next_status = 0.0

    def mark(name: str) -> None:
        t[name] = round(time.monotonic() - (vm.t_power_on or 0), 1)
        log(f"{vm.name}: {name} {t[name]:.0f}s after power-on")

    while time.monotonic() < deadline:
        serial = vm.serial_text()
        if "cloud_init_finished_s" not in t and FINISHED_RE.search(serial):
            mark("cloud_init_finished_s")
        if "healthy_s" not in t:
            try:
                if vm.http_get(80, health_path, timeout=5)[0] == 200:
                    mark("healthy_s")
            except OSError:
                pass
        if "cloud_init_finished_s" in t and "locked_down_s" not in t and _locked_down(vm, admin, key):
            mark("locked_down_s")
        # SSH + sudo costs the TCG guest CPU: the state is read every 10 s at most (complete_s is that coarse)
        if "locked_down_s" in t and "complete_s" not in t and time.monotonic() >= next_status:
            next_status = time.monotonic() + 10
            state = _status(vm, admin, key)
            if state == "complete":
                mark("complete_s")
            elif state.startswith("failed"):
                raise VMError(f"{vm.name}: first boot {state!r}")
        if {"healthy_s", "locked_down_s", "complete_s"} <= t.keys():
            return t | {"host_load_at_complete": host_load()}
        if not vm.running():
            raise VMError(f"{vm.name}: qemu exited during first boot")
        time.sleep(2)
    raise VMError(f"{vm.name}: first boot not healthy, locked down and complete in {timeout:.0f}s: {t}, {state!r}")


# ------------------------------------------------------------------------------------------ where time goes
_HISTORY = re.compile(r"^(Start-Date|End-Date|Commandline): (.*)$")
_FETCHED = re.compile(r"^(\d+(?:\.\d+)?) .*Fetched ([0-9.,]+ [kMG]?B) in (\S+)")
_DPKG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+) (.*)$")

# One SSH call: the clock (epoch and uptime, to put wall-clock logs on the boot's time line), the provisioner's
# progress record (already on the boot's clock), then apt's and systemd's own logs.
GUEST_LOGS = ("date +%s.%N; cut -d' ' -f1 /proc/uptime; "
              f"echo '@@progress'; {AS_ROOT} cat {progress.PROGRESS_FILE}; echo '@@journal'; "
              f"{AS_ROOT} journalctl -b -o short-unix --no-pager | grep -E 'Fetched [0-9]'; "
              f"echo '@@history'; {AS_ROOT} cat /var/log/apt/history.log; "
              f"echo '@@dpkg'; {AS_ROOT} cat /var/log/dpkg.log; "
              "echo '@@blame'; systemd-analyze blame --no-pager 2>&1 | head -n 15; "
              f"echo '@@cloud-init'; {AS_ROOT} cloud-init analyze blame 2>&1 | head -n 15")


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"clock": []}
    cur = "clock"
    for line in text.splitlines():
        if line.startswith("@@"):
            cur = line[2:]
            out[cur] = []
        else:
            out[cur].append(line)
    return out


def _epoch(stamp: str) -> float:
    """apt's and dpkg's local times; the e2e image runs in UTC."""
    return datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def durations(starts: list[tuple[float, str]], end: float) -> list[dict]:
    """Each named step lasts until the next one starts (the last one until `end`)."""
    ends = [s for s, _ in starts[1:]] + [end]
    return [{"step": name, "start_s": round(s, 1), "seconds": round(e - s, 1)}
            for (s, name), e in zip(starts, ends, strict=True)]


def timeline(text: str) -> dict:
    """Parse GUEST_LOGS' output: steps and apt commands as seconds since the guest's kernel started."""
    sec = _sections(text)
    now, uptime = (float(x) for x in sec["clock"][:2])
    boot = now - uptime
    events = progress.parse_progress("\n".join(sec.get("progress", [])))
    steps = [(e.at_s, e.text) for e in events if e.kind == "step"]
    states = [{"at_s": round(e.at_s, 1), "state": e.text} for e in events if e.kind == "state"]
    end = next((e.at_s for e in events if e.kind == "state" and e.text == "complete"), uptime)
    apt: list[dict] = []
    entry: dict = {}
    for line in sec.get("history", []):
        m = _HISTORY.match(line)
        if not m:
            continue
        k, v = m.groups()
        if k == "Start-Date":
            entry = {"start_s": round(_epoch(v) - boot, 1)}
        elif k == "Commandline":
            options = ("-o", "Dpkg::", "APT::", "Acquire::")
            entry["command"] = " ".join(w for w in v.split() if not w.startswith(options))
        elif k == "End-Date" and entry:
            entry["seconds"] = round(_epoch(v) - boot - entry["start_s"], 1)
            apt.append(entry)
            entry = {}
    fetched = [{"at_s": round(float(m.group(1)) - boot, 1), "fetched": m.group(2), "in": m.group(3)}
               for line in sec.get("journal", []) if (m := _FETCHED.match(line))]
    return {"steps": durations(steps, end), "states": states, "apt": apt, "fetched": fetched,
            "triggers": trigger_seconds(sec.get("dpkg", [])),
            "systemd_blame": [s.strip() for s in sec.get("blame", []) if s.strip()],
            "cloud_init_blame": [s.strip() for s in sec.get("cloud-init", []) if s.strip()]}


def trigger_seconds(dpkg_log: list[str]) -> dict[str, int]:
    """Seconds each package's triggers took (a trigproc line until dpkg's next line), summed per package."""
    rows = [(_epoch(m.group(1)), m.group(2), m.group(3)) for line in dpkg_log if (m := _DPKG.match(line))]
    out: dict[str, int] = {}
    for (t, kind, rest), (t_next, _k, _r) in itertools.pairwise(rows):
        if kind == "trigproc":
            pkg = rest.split()[0].split(":")[0]
            out[pkg] = out.get(pkg, 0) + int(t_next - t)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def guest_timeline(vm: VM, admin: str, key: Path) -> dict:
    p = vm.ssh(admin, key, GUEST_LOGS, timeout=120)
    if p.returncode != 0:
        return {"error": p.stderr.strip()[-500:]}
    return timeline(p.stdout)


def compare(bare: dict, hardened: dict) -> checks.CheckResult:
    """The comparison as a report row: ok when both boots were timed; the ratio and the target are figures."""
    ready = max(hardened["healthy_s"], hardened["locked_down_s"])
    ratio = round(ready / bare["healthy_s"], 2)
    figures = {"bare_healthy_s": bare["healthy_s"], "hardened_healthy_s": hardened["healthy_s"],
               "hardened_locked_down_s": hardened["locked_down_s"], "hardened_complete_s": hardened["complete_s"],
               "ratio_healthy_and_locked_down": ratio,
               "ratio_complete": round(hardened["complete_s"] / bare["healthy_s"], 2),
               "target_ratio": TARGET_RATIO, "within_target": ratio <= TARGET_RATIO}
    return checks.CheckResult("first_boot_vs_bare_boot", True,
                              f"healthy and locked down after {ready:.0f}s, {ratio}x the bare boot's "
                              f"{bare['healthy_s']:.0f}s (target {TARGET_RATIO}x)", figures)


def markdown(res: dict) -> str:
    tl = res.get("hardened_timeline", {})
    lines = [f"bare {res.get('bare')}", f"hardened {res['hardened']}", "",
             "| step | start (s) | seconds |", "|---|---|---|"]
    lines += [f"| {s['step']} | {s['start_s']} | {s['seconds']} |" for s in tl.get("steps", [])]
    lines += ["", "| apt command | start (s) | seconds |", "|---|---|---|"]
    lines += [f"| {a.get('command', '?')} | {a['start_s']} | {a.get('seconds')} |" for a in tl.get("apt", [])]
    lines += ["", f"fetched: {tl.get('fetched')}", f"triggers (s): {tl.get('triggers')}",
              "systemd-analyze blame:", *tl.get("systemd_blame", []), "cloud-init analyze blame:",
              *tl.get("cloud_init_blame", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from .fixtures import HostKeys, test_spec
    ap = argparse.ArgumentParser(prog="python -m e2e boot-times")
    ap.add_argument("--stack", default="do-dev")
    ap.add_argument("--skip-bare", action="store_true", help="dev: time the hardened boot alone")
    ap.add_argument("--timeout", type=float, default=1500, help="seconds from power-on to complete, at most")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    res: dict = {"form": "boot-speed", "stack": a.stack}
    with tempfile.TemporaryDirectory(prefix="e2e-keys-") as d:
        key = Path(d) / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(key)], check=True)
        pub = (Path(d) / "id_ed25519.pub").read_text().strip()
        spec = test_spec(a.stack, pub)
        host_keys = HostKeys.generate(Path(d))
        cache = AptCache().start()
        try:
            if not a.skip_bare:
                res["bare"] = time_bare_boot(cache, spec.admin_user, pub)
            stored = cache.stored_bytes()
            vm = VM(render_first_boot(spec, host_key=host_keys.private).cloud_config,
                    vendor_data=cache.vendor_data(), name="hardened")
            vm.diag_user, vm.diag_key = spec.admin_user, key
            try:
                with vm:
                    vm.start()
                    try:
                        res["hardened"] = time_first_boot(vm, spec.admin_user, key, spec.app_health_path,
                                                          timeout=a.timeout)
                        res["hardened"]["cache_grew_bytes"] = cache.stored_bytes() - stored
                    finally:            # where the time went, even when the bound ran out
                        res["hardened_timeline"] = guest_timeline(vm, spec.admin_user, key)
                        (a.out / "bootspeed.json").write_text(json.dumps(res, indent=2))
                    vm.kill()
            finally:
                vm.remove_workdir()
        finally:
            cache.stop()
    if "bare" in res:
        res["comparison"] = dataclasses.asdict(compare(res["bare"], res["hardened"]))
    (a.out / "bootspeed.json").write_text(json.dumps(res, indent=2))
    print(markdown(res))
    if "comparison" in res:
        print(res["comparison"]["detail"])
    return 0
