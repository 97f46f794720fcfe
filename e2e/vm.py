#!/usr/bin/env python3
"""Boot one throw-away VM from the cached e2e image and talk to it; longer than 300 lines because one qemu
guest's life (start, the bounded waits, ssh and scp, http through the forwards, reboot, poweroff, diagnostics)
is one class that every check holds.

- qcow2 overlay on the cached base.raw (the base is never written),
- NoCloud seed ISO (cloud-localds) holding the caller's user-data UNMODIFIED (a `#cloud-config` or a
  `#!/bin/bash` script; cloud-init runs both) plus optional vendor-data (used for the apt cache proxy),
- qemu TCG (`/dev/kvm` does not work here), user-mode networking, host forwards on 127.0.0.1 ONLY to free
  ports chosen at run time, serial console to a log file, -daemonize + pidfile,
- bounded waits everywhere; the VM is killed (by its own pidfile only) on exit, signal or exception.

Library:  with VM(user_data=..., workdir=...) as vm: vm.start(); vm.wait_first_boot(); vm.ssh(...)
CLI:      python -m e2e boot (e2e/boot_tool.py)
"""
from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from components.firstboot import AS_ROOT

from . import build_image
from .processes import VMError, forget, free_port, kill_pidfile, log, pid_alive, pid_cmdline, stop_at_exit

#: One host thread runs all of a guest's vCPUs. With multi-threaded TCG, a reboot in a clean-clone CI run died in
#: the guest kernel ("Oops: int3" in sched_clock_cpu, "Kernel panic - not syncing: Fatal exception in interrupt"):
#: one vCPU ran a stale translation of code another vCPU was patching with int3 (the kernel's text_poke_bp).
#: Single-threaded TCG keeps code patching coherent between vCPUs; with two lanes on two cores, each guest had
#: about one core anyway.
TCG = "tcg,thread=single"
#: The root disk's serial: /dev/disk/by-id/virtio-<this> on the guest.
ROOT_SERIAL = "e2e-root"
FINISHED_RE = re.compile(r"Cloud-init v\. \S+ finished at .*Up ([0-9.]+) seconds")
FATAL_RE = re.compile(r"Kernel panic|end Kernel panic|Unable to mount root fs|Give root password for maintenance"
                      r"|You are in emergency mode")



# ------------------------------------------------------------------------------------------- the VM
class DataDisk:
    """A second disk standing in for the vendor's block-storage volume: a file that outlives the VM, attached as a
    SCSI disk whose vendor, product and serial make udev name it as the vendor's volume is named (the test
    stack's vendor: /dev/disk/by-id/scsi-0DO_Volume_<name>)."""

    def __init__(self, path: Path, serial: str, size: str = "2G", vendor: str = "DO", product: str = "Volume"):
        self.path, self.serial, self.size, self.vendor, self.product = path, serial, size, vendor, product

    def create(self) -> DataDisk:
        """A blank disk (no filesystem, no partition table), as a new vendor volume is."""
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(self.path), self.size], check=True, timeout=60)
        return self

    def qemu_args(self) -> tuple[str, ...]:
        return ("-device", "virtio-scsi-pci,id=scsi0",
                "-drive", f"file={self.path},if=none,id=data0,format=qcow2,discard=unmap",
                "-device", f"scsi-hd,drive=data0,bus=scsi0.0,vendor={self.vendor},product={self.product},"
                           f"serial={self.serial}")


class VM:
    def __init__(self, user_data: str | Path, *, workdir: Path | None = None, vendor_data: str | None = None,
                 release: str = build_image.DEFAULT_RELEASE, memory_mb: int = 2048, cpus: int = 2,
                 disk_size: str = "10G", guest_ports: tuple[int, ...] = (22, 80, 443), hostname: str = "e2e-vm",
                 name: str = "vm", data_disk: DataDisk | None = None):
        self.data_disk = data_disk
        self.user_data = Path(user_data).read_text() if isinstance(user_data, Path) else user_data
        self.vendor_data = vendor_data
        self.release = release
        self.memory_mb, self.cpus, self.disk_size = memory_mb, cpus, disk_size
        self.guest_ports = guest_ports
        self.hostname = hostname
        self.name = name
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"e2e-{name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.serial_log = self.workdir / "serial.log"
        self.pidfile = self.workdir / "qemu.pid"
        self.ports: dict[int, int] = {}          # guest port -> host port on 127.0.0.1
        self.t_power_on: float | None = None
        self.diag_user: str | None = None           # who print_diagnostics logs in as (once first boot made them)
        self.diag_key: Path | str | None = None
        self.timings: dict[str, float] = {}
        self._serial_offset = 0                  # where the current boot's serial output starts

    # -- context manager: never leave a VM running
    def __enter__(self) -> VM:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is not None:
            with contextlib.suppress(Exception):
                self.print_diagnostics()
        self.kill()

    # -- lifecycle
    def start(self) -> VM:
        stop_at_exit(self, self.kill)       # before qemu daemonizes: a signal from here on kills it (by pidfile)
        img = build_image.ensure_image(self.release)
        overlay = self.workdir / "disk.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(img / "base.raw"),
                        str(overlay), self.disk_size], check=True, timeout=60)
        seed_dir = self.workdir / "seed"
        seed_dir.mkdir(exist_ok=True)
        (seed_dir / "user-data").write_text(self.user_data)
        (seed_dir / "meta-data").write_text(f"instance-id: iid-{self.name}-{os.getpid()}-{int(time.time())}\n"
                                            f"local-hostname: {self.hostname}\n")
        seed = self.workdir / "seed.iso"
        cmd = ["cloud-localds"]
        if self.vendor_data:
            (seed_dir / "vendor-data").write_text(self.vendor_data)
            cmd += ["-V", str(seed_dir / "vendor-data")]
        subprocess.run([*cmd, str(seed), str(seed_dir / "user-data"), str(seed_dir / "meta-data")],
                       check=True, timeout=60)
        for attempt in range(3):                 # a chosen port can be taken between bind-test and qemu
            self.ports = {g: free_port() for g in self.guest_ports}
            fwd = ",".join(f"hostfwd=tcp:127.0.0.1:{h}-:{g}" for g, h in self.ports.items())
            qemu = ["qemu-system-x86_64", "-name", f"e2e-{self.name}", "-accel", TCG, "-cpu", "max",
                    "-m", str(self.memory_mb), "-smp", str(self.cpus), "-machine", "q35",
                    "-display", "none", "-monitor", "none", "-serial", f"file:{self.serial_log}",
                    "-kernel", str(img / "vmlinuz"), "-initrd", str(img / "initrd.img"),
                    "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0",
                    # The root disk has a serial, as vendors' disks often do, so it has a /dev/disk/by-id link
                    # (the data checks prove the volume lookup by prefix never takes it); root first, then seed.
                    "-drive", f"file={overlay},if=none,id=root0,format=qcow2,discard=unmap",
                    "-device", f"virtio-blk-pci,drive=root0,serial={ROOT_SERIAL}",
                    "-drive", f"file={seed},if=none,id=seed0,format=raw,readonly=on",
                    "-device", "virtio-blk-pci,drive=seed0",
                    *(self.data_disk.qemu_args() if self.data_disk else ()),
                    "-netdev", f"user,id=n0,{fwd}", "-device", "virtio-net-pci,netdev=n0",
                    "-device", "virtio-rng-pci", "-daemonize", "-pidfile", str(self.pidfile)]
            self.t_power_on = time.monotonic()
            p = subprocess.run(qemu, capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                log(f"{self.name}: qemu pid {self.pid()} ports {self.ports} workdir {self.workdir}")
                return self
            log(f"{self.name}: qemu failed to start (attempt {attempt + 1}): {p.stderr.strip()}")
        raise VMError("qemu did not start")

    def powered_on(self) -> float:
        """When qemu was (re)started, monotonic seconds; a VM never started has no such time."""
        if self.t_power_on is None:
            raise VMError(f"{self.name}: not started")
        return self.t_power_on

    def since_power_on(self) -> float:
        return time.monotonic() - self.powered_on()

    def power_on_iso(self) -> str:
        """When qemu was (re)started on the wall clock (ISO 8601, UTC), less 2 s: what stands for the vendor's
        creation time of a server (the benchmark's `kernel_after_create`). The guest's clock starts from the RTC in
        whole seconds and its kernel start (btime) is whole seconds too, so it may read up to 2 s early."""
        started = time.time() - self.since_power_on() - 2
        return datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat()

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        return bool(pid and pid_alive(pid) and str(self.workdir) in pid_cmdline(pid))

    def kill(self) -> None:
        """Kill only our qemu (by its pidfile, checked against its command line)."""
        if self.pidfile.exists():
            kill_pidfile(self.pidfile, str(self.workdir))
        forget(self)

    def remove_workdir(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- serial log
    def serial_text(self, since_boot: bool = True) -> str:
        try:
            data = self.serial_log.read_bytes()
        except OSError:
            return ""
        return data[self._serial_offset if since_boot else 0:].decode(errors="replace")

    def wait_first_boot(self, timeout: float = 900) -> float:
        """Wait for cloud-init's 'finished' line of the current boot. Returns seconds since power-on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.serial_text()
            m = FINISHED_RE.search(text)
            if m:
                secs = self.since_power_on()
                self.timings.setdefault("cloud_init_finished_s", round(secs, 1))
                log(f"{self.name}: cloud-init finished, {secs:.0f}s after power-on (guest uptime {m.group(1)}s)")
                return secs
            if FATAL_RE.search(text):
                raise VMError(f"{self.name}: fatal boot error on the serial console")
            if not self.running():
                raise VMError(f"{self.name}: qemu exited during boot")
            time.sleep(2)
        raise VMError(f"{self.name}: cloud-init did not finish within {timeout:.0f}s")

    def wait_healthy(self, guest_port: int = 80, path: str = "/", ok: tuple[int, ...] = (200,), timeout: float = 900,
                     host_header: str | None = None, after_finish: float = 720) -> dict[str, float]:
        """Poll the serial log AND the health URL from power-on: returns seconds from power-on to cloud-init's
        'finished' line and to the first healthy answer through the forward (bounded by timeout, and by
        after_finish seconds once cloud-init has finished). cloud-init finishes once the host is locked down;
        the install phase (apt, nginx, the app) follows under hvps-provision.timer, hence the long after_finish."""
        deadline = time.monotonic() + timeout
        finished = healthy = None
        last: object = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            if finished is None:
                m = FINISHED_RE.search(self.serial_text())
                if m:
                    finished = now - self.powered_on()
                    deadline = min(deadline, now + after_finish)
                    log(f"{self.name}: cloud-init finished {finished:.0f}s after power-on")
                elif FATAL_RE.search(self.serial_text()):
                    raise VMError(f"{self.name}: fatal boot error on the serial console")
            if healthy is None:
                try:
                    status = self.http_get(guest_port, path, timeout=5, host_header=host_header)[0]
                    if status in ok:
                        healthy = self.since_power_on()
                        log(f"{self.name}: healthy (:{guest_port}{path} -> {status}) {healthy:.0f}s after power-on")
                    last = status
                except (OSError, urllib.error.URLError) as exc:
                    last = exc
            if finished is not None and healthy is not None:
                self.timings.update(cloud_init_finished_s=round(finished, 1), healthy_s=round(healthy, 1))
                return {"cloud_init_finished_s": round(finished, 1), "healthy_s": round(healthy, 1)}
            if not self.running():
                raise VMError(f"{self.name}: qemu exited during boot")
            time.sleep(2)
        raise VMError(f"{self.name}: not healthy in time (cloud-init finished: {finished}, "
                      f"last :{guest_port}{path} answer: {last})")

    # -- ssh
    def ssh_base(self, user: str, key: Path | str, port: int | None = None,
                 extra: list[str] | None = None) -> list[str]:
        return ["ssh", "-p", str(port or self.ports[22]), "-i", str(key),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15",
                "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR",
                *(extra or []), f"{user}@127.0.0.1"]

    def ssh(self, user: str, key: Path | str, command: str, timeout: float = 120, check: bool = False,
            extra: list[str] | None = None) -> subprocess.CompletedProcess:
        try:
            p = subprocess.run([*self.ssh_base(user, key, extra=extra), command], capture_output=True,
                               text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            p = subprocess.CompletedProcess(exc.cmd, 124, out, f"timeout after {timeout}s")
        if check and p.returncode != 0:
            raise VMError(f"ssh {command!r} -> {p.returncode}: {p.stderr.strip()[-2000:]}")
        return p

    def scp_to(self, user: str, key: Path | str, local: Path, remote: str, timeout: float = 120) -> None:
        """Copy one file into the guest as `user` (same options as ssh_base)."""
        opts = self.ssh_base(user, key)[3:-1]          # [ssh, -p, PORT, -i, KEY, -o ..., user@host]
        cmd = ["scp", "-q", "-P", str(self.ports[22]), *opts, str(local), f"{user}@127.0.0.1:{remote}"]
        subprocess.run(cmd, check=True, timeout=timeout, capture_output=True, stdin=subprocess.DEVNULL)

    def wait_ssh(self, user: str, key: Path | str, timeout: float = 300) -> float:
        """Seconds from power-on until `user` logs in with `key`. No probe goes out before cloud-init's 'finished'
        line: until first boot's lockdown has installed the admin's key every login fails, and fail2ban, installed
        later, reads those failures from the journal and bans the harness (seen in the VM)."""
        deadline = time.monotonic() + timeout
        last = None
        while not FINISHED_RE.search(self.serial_text()):
            if time.monotonic() >= deadline:
                raise VMError(f"{self.name}: cloud-init did not finish within {timeout:.0f}s, so no ssh probe went out")
            if not self.running():
                raise VMError(f"{self.name}: qemu exited while waiting for ssh")
            time.sleep(2)
        while time.monotonic() < deadline:
            last = self.ssh(user, key, "true", timeout=30)
            if last.returncode == 0:
                return self.since_power_on()
            if not self.running():
                raise VMError(f"{self.name}: qemu exited while waiting for ssh")
            time.sleep(3)
        raise VMError(f"{self.name}: no ssh as {user} within {timeout:.0f}s: {last.stderr.strip() if last else ''}")

    def cloud_init_status(self, user: str, key: Path | str, timeout: float = 600) -> tuple[int, str]:
        """`cloud-init status --wait --long` in the guest (bounded). rc 0 done, 1 error, 2 recoverable/degraded."""
        # timeout inside: hvps-root (systemd-run --pipe) does not pass a signal on to the command it runs
        p = self.ssh(user, key, f"{AS_ROOT} timeout {int(timeout)} cloud-init status --wait --long",
                     timeout=timeout + 30)
        return p.returncode, p.stdout + p.stderr

    # -- http through the forward
    def http_get(self, guest_port: int = 80, path: str = "/", timeout: float = 10,
                 host_header: str | None = None) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports[guest_port]}{path}")
        if host_header:
            req.add_header("Host", host_header)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a: object, **k: object) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as r:
                return r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def wait_http(self, guest_port: int = 80, path: str = "/", ok: tuple[int, ...] = (200,), timeout: float = 300,
                  host_header: str | None = None) -> float:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                status, _h, _b = self.http_get(guest_port, path, host_header=host_header)
                if status in ok:
                    return self.since_power_on()
                last = status
            except (OSError, urllib.error.URLError) as exc:
                last = exc
            if not self.running():
                raise VMError(f"{self.name}: qemu exited while waiting for http")
            time.sleep(2)
        raise VMError(f"{self.name}: http :{guest_port}{path} not {ok} within {timeout:.0f}s (last: {last})")

    # -- power
    def reboot(self, user: str, key: Path | str, timeout: float = 600) -> float:
        """Reboot via ssh, then wait for the next boot's cloud-init 'finished' line. Returns seconds."""
        self._serial_offset = self.serial_log.stat().st_size
        t0 = time.monotonic()
        self.ssh(user, key, f"{AS_ROOT} systemctl reboot", timeout=30)
        self.t_power_on = t0
        secs = self.wait_first_boot(timeout)
        self.timings["reboot_s"] = round(secs, 1)
        return secs

    def poweroff(self, user: str | None = None, key: Path | str | None = None, timeout: float = 60) -> None:
        """Clean shutdown over ssh if possible, bounded; then make sure qemu is gone."""
        if user and key and self.running():
            self.ssh(user, key, f"{AS_ROOT} systemctl poweroff", timeout=20)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.running():
                time.sleep(1)
        self.kill()

    # -- diagnostics
    def diagnostics(self, user: str | None = None, key: Path | str | None = None, lines: int = 60) -> str:
        out = [f"===== {self.name}: serial log tail ({self.serial_log}) ====="]
        out += self.serial_text(since_boot=False).splitlines()[-lines:]
        if user and key and self.running():
            for f in ("/var/log/cloud-init-output.log", "/var/log/cloud-init.log"):
                p = self.ssh(user, key, f"{AS_ROOT} tail -n {lines} {f}", timeout=30)
                out.append(f"===== {self.name}: {f} (tail) =====")
                out.append(p.stdout if p.returncode == 0 else f"(unavailable: {p.stderr.strip()[-300:]})")
        return "\n".join(out)

    def print_diagnostics(self, user: str | None = None, key: Path | str | None = None) -> None:
        print(self.diagnostics(user or self.diag_user, key or self.diag_key),
              file=sys.stderr, flush=True)


