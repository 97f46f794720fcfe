#!/usr/bin/env python3
"""The container audit: the project's real first boot in a systemd-nspawn container, then Lynis, at native speed.

Boots a throw-away copy of the cached e2e image (e2e/build_image.py) with systemd-nspawn, lets cloud-init run
the stack's rendered cloud-config unchanged (only the SSH key is a fresh test key, via dataclasses.replace),
then checks that the host still works (provisioning result, /healthz through nginx, admin SSH with the test
key, `systemd-analyze security` of the app unit) and runs the pinned Lynis (e2e/lynis.py: fetched and verified
here, copied in, unpacked in a temporary directory, nothing installed). Prints the hardening index, warnings and
suggestions. First boot takes about a minute and Lynis about 30 s, against
20-30 minutes in the TCG VM. This is where `python -m e2e all` (and so CI) runs Lynis: the first phase of its
launch-script lane, its report merged with the VM lanes' (e2e/container_checks.py).

    sudo .venv/bin/python -m e2e container [--stack do-dev] [--out DIR] [--json FILE] [--keep DIR] [--apt-cache NAME]

What it does not prove: the container shares the HOST kernel, so Lynis findings about sysctl values, kernel
modules, the boot loader and auditd (the kernel refuses audit outside the initial namespaces) reflect this
machine, not the first boot; the Lynis check passes on the index without the points the host kernel costs
(declared sysctl keys, the running kernel), and the VM lanes witness those keys on a real kernel. Lynis in the
TCG VM is `python -m e2e lynis`.

Isolation and cleanup:
- Networking: a new network namespace (hvps-nspawn-<pid>) holding only lo and a veth pair (eth0 with a private address);
  nothing is added to the host's own namespace, and no addresses are used outside the new one.  apt reaches
  the Debian mirror through a tiny HTTP proxy in this process (e2e/container.py): its listening socket lives on
  the new namespace's loopback (127.0.0.1:3142, handed to cloud-init as vendor-data); it passes each request for
  one of the mirrors named in this machine's apt sources to the apt cache on the host's loopback, and refuses
  any other.
- Every wait is bounded; on exit (or SIGINT/SIGTERM/SIGHUP, the report still written) it stops the container it
  started (poweroff, then SIGKILL of that container's PID 1 and of its own nspawn process, by pid), deletes the
  namespace and the disk copy.
- --keep DIR keeps the disk copy (run.raw) for inspection. Packages come through the VM proof's apt cache
  (e2e/apt_cache.py, `--apt-cache NAME`): one package cache for the VMs and the container.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from components.config import load_stack_file, parse_ssh_key
from components.firstboot import render_first_boot
from components.firstboot.sandbox import exposures, sandboxed_units
from e2e import bench_checks, container_checks, lynis
from e2e.apt_cache import AptCache
from e2e.build_image import image_dir, image_ready, mirrors
from e2e.container import PROXY_PORT, Container, MirrorProxy, loop_mount, netns, run
from e2e.fixtures import declared_sysctl
from e2e.options import port_range

REPO = Path(__file__).resolve().parent.parent

WORK = Path("/var/tmp/hvps-nspawn")
LYNIS_BOUND_S = 300                 # about 30 s at native speed
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GUEST_ADDR = "10.231.0.2"          # on the dummy eth0 inside our own namespace only



def log(msg: str) -> None:
    print(f"[nspawn_lynis {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- checks
def wait_first_boot(c: Container, timeout: float) -> dict:
    """cloud-init's result.json once written (bounded); the provisioning script's log lines on the side."""
    deadline = time.monotonic() + timeout
    result = c.path("/run/cloud-init/result.json")
    while time.monotonic() < deadline:
        if c.proc.poll() is not None:
            raise RuntimeError(f"nspawn exited ({c.proc.returncode}) during first boot")
        with contextlib.suppress(OSError, ValueError):
            return json.loads(result.read_text())
        time.sleep(1)
    raise TimeoutError(f"cloud-init did not finish in {timeout:.0f} s")


def wait_installed(c: Container, timeout: float) -> str:
    """First boot's state once the install phase (hvps-provision.timer, after cloud-init's lockdown) has
    completed or failed (bounded): the audit must read the finished host."""
    deadline = time.monotonic() + timeout
    state = c.path("/var/lib/hvps/first-boot.state")
    text = ""
    while time.monotonic() < deadline:
        if c.proc.poll() is not None:
            raise RuntimeError(f"nspawn exited ({c.proc.returncode}) during the install phase")
        with contextlib.suppress(OSError):
            text = state.read_text().strip()
        if text == "complete" or text.startswith("failed"):
            return text
        time.sleep(2)
    raise TimeoutError(f"the install phase did not finish in {timeout:.0f} s (state: {text or 'none'})")


def parser() -> argparse.ArgumentParser:
    """The container audit's options (`python -m e2e container`, and the container phase of `all`)."""
    ap = argparse.ArgumentParser(prog="python -m e2e container", description=__doc__.split("\n\n")[0])
    ap.add_argument("--stack", default="do-dev", help="stacks/Pulumi.<stack>.yaml (default do-dev)")
    ap.add_argument("--boot-timeout", type=float, default=900, help="first boot, seconds (default 900)")
    ap.add_argument("--no-lynis", action="store_true", help="only boot and check the host")
    ap.add_argument("--benchmark", action="store_true", help="then run the product's benchmark (short steps) and "
                    "Lynis again: the second audit must find what the first did")
    ap.add_argument("--apt-cache", default="acng", help="the apt cache's directory under the e2e cache (a lane of "
                    "`all` passes its own)")
    ap.add_argument("--apt-cache-ports", type=port_range, default=(20000, 32000),
                    help="LOW-HIGH: where the apt cache's port is chosen")
    ap.add_argument("--keep", type=Path, help="keep the disk copy and logs in this directory")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    ap.add_argument("--out", type=Path, help="write the result as a runner report, OUT/NAME.json (what `python -m "
                    "e2e all` merges)")
    ap.add_argument("--name", default="container", help="the report's file name in --out (default: container)")
    ap.add_argument("--run", action="append", default=[], metavar="CMD",
                    help="also run CMD (bash, as root) inside the booted host and print its output; repeatable")
    return ap


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("nspawn_lynis: needs root (netns, nspawn)")
    if not image_ready(image_dir()):
        sys.exit(f"nspawn_lynis: no cached image at {image_dir()}; run: python -m e2e image")

    t0 = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
    res: dict = {"stack": a.stack, "checks": {}, "timings": {}}

    def on_signal(signum: int, _frame: object) -> None:
        for sig in SIGNALS:                                   # a second one must not cut the cleanup short
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    def handle_signals() -> None:
        for sig in SIGNALS:
            signal.signal(sig, on_signal)

    handle_signals()
    try:
        with contextlib.ExitStack() as cleanup:   # unwinds in reverse: container, proxy, mount, netns, cache, files
            cleanup.callback(_discard, tmp, a.keep)
            cache = AptCache(a.apt_cache, a.apt_cache_ports)
            cleanup.callback(cache.stop)
            cache.start()               # registers its stop with e2e.processes, whose handlers replace ours ...
            handle_signals()            # ... so ours again: the report is written whatever the signal
            boot_and_audit(a, tmp, res, cleanup, cache.port)
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); cleaned up")
        res["error"] = f"interrupted ({exc})"
    except Exception as exc:   # report what we have, after cleanup
        log(f"failed: {exc!r}; cleaned up")
        res["error"] = repr(exc)

    container_checks.report(res)
    outcome = container_checks.as_report(res, time.monotonic() - t0, lynis_expected=not a.no_lynis)
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / f"{a.name}.json").write_text(json.dumps(outcome, indent=2) + "\n")
    if a.json:
        res.get("lynis", {}).pop("log", None)
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0 if outcome["ok"] else 1


def _discard(tmp: Path, keep: Path | None) -> None:
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for f in tmp.iterdir():
            if f.is_file() and not f.name.startswith("id_"):
                shutil.move(str(f), keep / f.name)
    if os.path.ismount(tmp / "root"):
        log(f"{tmp / 'root'} is still mounted: leaving {tmp} in place")
        return
    shutil.rmtree(tmp, ignore_errors=True)


def boot_and_audit(a: argparse.Namespace, tmp: Path, res: dict, cleanup: contextlib.ExitStack,
                   cache_port: int) -> None:
    # The project's real first boot for the stack, with a fresh test key.
    key = tmp / "id_ed25519"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nspawn-lynis", "-f", str(key)])
    spec = load_stack_file(REPO / "stacks" / f"Pulumi.{a.stack}.yaml")
    spec = dataclasses.replace(spec, ssh_keys=(parse_ssh_key(key.with_suffix(".pub").read_text()),))
    host_key = tmp / "id_host_ed25519"  # a real host key, as the Pulumi program makes (first boot refuses none)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(host_key)])
    rendered = render_first_boot(spec, host_key=host_key.read_text())
    res["sizes"] = rendered.sizes
    seed = tmp / "seed"
    seed.mkdir()
    (seed / "user-data").write_text(rendered.cloud_config)
    (seed / "meta-data").write_text(f"instance-id: nspawn-{os.getpid()}\nlocal-hostname: {spec.host_name}\n")
    (seed / "network-config").write_text(f"version: 2\nethernets:\n  eth0:\n    addresses: [{GUEST_ADDR}/24]\n")
    (seed / "vendor-data").write_text(f"#cloud-config\napt:\n  http_proxy: http://127.0.0.1:{PROXY_PORT}\n")

    disk = tmp / "run.raw"
    run(["cp", "--sparse=always", str(image_dir() / "base.raw"), str(disk)])

    ns = cleanup.enter_context(netns(f"hvps-nspawn-{os.getpid()}"))
    root = cleanup.enter_context(loop_mount(disk, tmp / "root"))
    proxy = MirrorProxy(ns, {urlsplit(u).hostname or "" for u in mirrors()}, cache_port)
    cleanup.callback(proxy.close)
    t0 = time.monotonic()
    c = Container(root, ns, seed, tmp / "console.log")
    cleanup.callback(c.stop)
    c.find_leader()
    # net.* sysctls are per network namespace: lift nspawn's read-only /proc/sys/net (ours alone) so the first
    # boot's own `sysctl --system` applies them as on a VM. Kernel-wide keys stay the host's (artefacts).
    lift = c.exec("mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net")
    if lift.returncode != 0:
        raise RuntimeError(f"cannot make /proc/sys/net writable in the container: {lift.stderr.strip()[-300:]}")
    log(f"container init pid {c.leader}; waiting for first boot (<= {a.boot_timeout:.0f} s)")
    result = wait_first_boot(c, a.boot_timeout)
    res["timings"]["first_boot_s"] = round(time.monotonic() - t0, 1)
    errors = result.get("v1", {}).get("errors", [])
    res["checks"]["cloud_init"] = {"ok": not errors, "errors": errors}
    state = wait_installed(c, a.boot_timeout)
    res["timings"]["installed_s"] = round(time.monotonic() - t0, 1)
    res["checks"]["first_boot_complete"] = {"ok": state == "complete", "state": state}
    res["provision_log"] = c.exec("grep -h 'hvps-provision' /var/log/cloud-init-output.log; "
                                  "journalctl -q -o cat -u hvps-provision").stdout.splitlines()

    health = c.exec(f"curl -fsS -m 5 -H 'Host: {spec.domain or 'localhost'}' http://127.0.0.1{spec.app_health_path}")
    res["checks"]["healthz"] = {"ok": health.returncode == 0, "out": health.stdout.strip()[-200:]}
    bounds = {u.unit: u.bound for u in sandboxed_units(spec, converged=False)}
    sec = c.exec("; ".join(f"systemd-analyze security --no-pager {shlex.quote(u)} 2>&1 | tail -n 1" for u in bounds))
    got = exposures(sec.stdout)
    over = {u: got.get(u) for u, b in bounds.items() if got.get(u) is None or got[u] > b}
    res["checks"]["sandbox_exposure"] = {"ok": not over, "over_bound": over, "exposure": got}
    # The admin's login as `pulumi up` makes it: the host key first boot installed is the only one accepted.
    known_hosts = tmp / "known_hosts"
    known_hosts.write_text(f"{GUEST_ADDR} {host_key.with_suffix('.pub').read_text()}")
    c.login = ["nsenter", f"--net={ns}", "ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
               "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
               f"{spec.admin_user}@{GUEST_ADDR}"]
    ssh = c.as_admin("sudo -n true && echo admin-ok", b"", timeout=30)
    ssh_out, ssh_err = ssh.stdout.decode(errors="replace"), ssh.stderr.decode(errors="replace")
    res["checks"]["admin_ssh"] = {"ok": "admin-ok" in ssh_out, "err": ssh_err.strip()[-300:]}
    # RSS summed over the container's processes (its own pid namespace; `free` would show the host's memory).
    fig = c.exec("ps -eo rss= | awk '{s+=$1} END {print int(s/1024)}'; "
                 "systemctl list-units --type=service --state=running --no-legend | wc -l; "
                 "df -m --output=used / | tail -n 1")
    res["figures"] = dict(zip(("rss_total_mb", "running_services", "disk_used_mb"), fig.stdout.split(),
                              strict=False))

    for cmd in a.run:
        out = c.exec(cmd, timeout=300)
        res.setdefault("run", []).append({"cmd": cmd, "rc": out.returncode, "out": out.stdout + out.stderr})
    if not a.no_lynis:
        t1 = time.monotonic()
        audit = lynis.run(c, LYNIS_BOUND_S)
        res["timings"]["lynis_s"] = round(time.monotonic() - t1, 1)
        res["lynis"] = container_checks.lynis_result(audit, declared_sysctl())
        if a.keep:
            a.keep.mkdir(parents=True, exist_ok=True)
            (a.keep / "lynis.log").write_text(res["lynis"]["log"])
    if a.benchmark:
        # The product's benchmark, then Lynis again: what the benchmark leaves behind would change the audit.
        t1 = time.monotonic()
        bench_doc = (a.out or a.keep or tmp) / f"{a.name}-benchmark.json"
        bench_doc.parent.mkdir(parents=True, exist_ok=True)
        bench = bench_checks.benchmark_run(c, spec, bench_doc, emulated=False, own_kernel=False)
        res["timings"]["benchmark_s"] = round(time.monotonic() - t1, 1)
        res["checks"]["benchmark_run"] = {"ok": bench.ok, **bench.detail, "figures": bench.figures}
        if "lynis" in res:
            after = lynis.run(c, LYNIS_BOUND_S)
            if a.keep:
                (a.keep / "lynis-after-benchmark.log").write_text(after.log)
            res["checks"]["lynis_after_benchmark"] = container_checks.same_audit(
                res["lynis"], container_checks.lynis_result(after, declared_sysctl()), benchmark_ran=bench.ok)
