"""Day 2 in the VM: converge a running host over SSH exactly as `pulumi up`'s HostConfig does.

The HostConfig resource sends `base64(converge bundle)` as the stdin of CONVERGE_COMMAND, connected as the admin.
Here the same bundle (the product's `bundle()` of the first-boot files minus the host key) goes through ssh with
the same command. On one booted host:

  1. a sysctl value, an nginx header and the admin keys (one added, one removed) change; converge while a request
     loop runs through nginx from before the converge starts until after it returns: every change is live, the
     loop saw the old header and then the new one with 0 failed requests, the removed key is refused ("Permission
     denied"), the new key logs in, no reboot (same boot id), the app not restarted (same main PID); sshd is
     sandboxed by it (ssh-sandbox): a new session runs under no_new_privs, sudo refuses it, /etc is read-only to
     it, hvps-root reaches root; every unit the project adds or configures is within its bound;
  2. a broken nginx file: the converge is refused by validation (non-zero, "refused" in its output), the live file
     is the previous one, the host keeps serving the previous header;
  3. the good bundle again: every concern "unchanged", no file under /etc, /usr/local/sbin or the admin's ~/.ssh
     written, nginx, sshd and the app keep their PIDs.
"""
from __future__ import annotations

import base64
import dataclasses
import re
import shlex
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from components.config import HostSpec, SshKey
from components.firstboot import (
    AS_ROOT,
    CONVERGE_COMMAND,
    FirstBoot,
    HostFile,
    bundle,
    describe_first_boot,
    progress,
)
from components.firstboot.concerns import concern_of
from components.firstboot.converge import converge_payload
from components.firstboot.sandbox import sandboxed_units

from .checks import CheckResult
from .processes import log
from .service_checks import sandbox_exposure
from .ssh_checks import ssh_sessions_confined
from .switch_witness import SwitchLoop, judge, summary, witness
from .vm import VM

SYSCTL_FILE = "/etc/sysctl.d/90-hvps-hardening.conf"
HEADERS_FILE = "/etc/nginx/snippets/hvps-security-headers.conf"
#: The two edits a template fix would make: one sysctl value, one nginx header value.
SYSCTL_KEY, SYSCTL_NEW = "vm.swappiness", "30"
HEADER, HEADER_NEW = "Referrer-Policy", "no-referrer"
#: The request loop around the converge: its nominal rate and the least it must achieve.
LOOP_RATE, MIN_RATE = 10.0, 5.0
#: `nginx -s reload` starts the new workers before it tells the old ones to stop accepting: for that moment a
#: connection may still reach an old worker after a new one answered. Old answers up to this long after the first
#: new one are allowed; later ones fail the check.
NGINX_RELOAD_OVERLAP_S = 1.0


def converge_stdin(first_boot: FirstBoot) -> bytes:
    """What the HostConfig sends for these host files: base64 of the bundle of their converge payload."""
    return base64.b64encode(bundle(converge_payload(first_boot)))


def edit_file(first_boot: FirstBoot, path: str, edit: Callable[[str], str]) -> FirstBoot:
    """The first boot with one file's content changed (as a template edit would change it)."""
    if path not in {f.path for f in first_boot.files}:
        raise KeyError(f"{path} is not a first-boot file")
    return dataclasses.replace(first_boot, files=tuple(
        HostFile(f.path, edit(f.content), f.mode) if f.path == path else f for f in first_boot.files))


def day2_first_boot(spec: HostSpec, keys: tuple[SshKey, ...]) -> FirstBoot:
    """The stack after the day-2 edits: new admin keys, one sysctl value, one nginx header."""
    fb = describe_first_boot(dataclasses.replace(spec, ssh_keys=keys), converge=True)
    fb = edit_file(fb, SYSCTL_FILE, lambda t: _set_line(t, rf"^{re.escape(SYSCTL_KEY)}\s*=.*$",
                                                        f"{SYSCTL_KEY} = {SYSCTL_NEW}"))
    return edit_file(fb, HEADERS_FILE, lambda t: _set_line(t, rf"^add_header {HEADER} .*$",
                                                           f'add_header {HEADER} "{HEADER_NEW}" always;'))


def broken_first_boot(good: FirstBoot) -> FirstBoot:
    """The day-2 first boot with an nginx file nginx -t refuses (a directive with a wrong argument count)."""
    return edit_file(good, HEADERS_FILE, lambda t: t + 'add_header X-Hvps-Broken;\nadd_header X-Unseen "1" always;\n')


def _set_line(text: str, pattern: str, line: str) -> str:
    new, n = re.subn(pattern, line, text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise ValueError(f"no line matches {pattern!r}")
    return new


def header_value(_status: int, headers: dict[str, str], _body: bytes) -> str | None:
    """Which nginx configuration answered: the value of the header the converge changes."""
    return {k.lower(): v for k, v in headers.items()}.get(HEADER.lower())


def converge(vm: VM, admin: str, key: Path, first_boot: FirstBoot, timeout: float = 300) -> tuple[int, str]:
    """Run the HostConfig's command with the bundle on stdin; (exit code, combined output)."""
    p = subprocess.run([*vm.ssh_base(admin, key), CONVERGE_COMMAND], input=converge_stdin(first_boot),
                       capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def _probe(vm: VM, admin: str, key: Path, app: str) -> dict[str, str]:
    """What must not change needlessly: boot id, the PIDs of nginx, sshd and the app; and the sysctl value."""
    cmd = (f"cat /proc/sys/kernel/random/boot_id; for u in nginx ssh {shlex.quote(app)}; do "
           f"systemctl show -p MainPID --value $u; done; cat /proc/sys/{SYSCTL_KEY.replace('.', '/')}")
    out = vm.ssh(admin, key, cmd, timeout=60, check=True).stdout.split()
    return dict(zip(("boot_id", "nginx_pid", "sshd_pid", "app_pid", "sysctl"), out, strict=False))


def _login(vm: VM, admin: str, key: Path) -> subprocess.CompletedProcess:
    return vm.ssh(admin, key, "echo logged-in", timeout=60)


def converge_check(vm: VM, spec: HostSpec, admin: str, key: Path, removed: Path, added: tuple[Path, SshKey],
                   kept: SshKey) -> list[CheckResult]:
    """The three day-2 steps above on one running host. `removed` is a private key first boot installed and the
    day-2 stack drops; `added` the new key (private path, parsed public key); `kept` the harness's own key."""
    results: list[CheckResult] = []
    url = f"http://127.0.0.1:{vm.ports[80]}{spec.app_health_path}"
    before_removed = _login(vm, admin, removed)
    before = _probe(vm, admin, key, spec.app_name)
    good = day2_first_boot(spec, (kept, added[1]))

    old_header = header_value(*vm.http_get(80, spec.app_health_path))
    loop = SwitchLoop(url, header_value, rate=LOOP_RATE)
    (rc, out), window = witness(loop, lambda: converge(vm, admin, key, good), old=str(old_header), new=HEADER_NEW)
    verdict = judge(loop.samples, window, str(old_header), HEADER_NEW, min_rate=MIN_RATE,
                    overlap_s=NGINX_RELOAD_OVERLAP_S)
    after = _probe(vm, admin, key, spec.app_name)
    removed_now = _login(vm, admin, removed)
    added_now = _login(vm, admin, added[0])
    log(f"converge: rc {rc}; loop {verdict.figures}; {list(verdict.failures)}")
    results.append(CheckResult(
        "converge_applies_live",
        rc == 0 and verdict.ok and after.get("sysctl") == SYSCTL_NEW and before.get("sysctl") != SYSCTL_NEW
        and after["boot_id"] == before["boot_id"]
        and after["app_pid"] == before["app_pid"] and after["app_pid"] not in ("", "0"),
        {"output": out.strip().splitlines()[-20:], "witness": summary(loop.samples, verdict, str(old_header),
                                                                      HEADER_NEW),
         "before": before, "after": after},
        figures=verdict.figures))
    # the first converge sandboxed sshd (ssh-sandbox): new sessions are confined, every unit within its bound
    results.append(ssh_sessions_confined(vm, admin, key))
    results.append(sandbox_exposure(vm, admin, key, {u.unit: u.bound for u in sandboxed_units(spec)}))
    results.append(CheckResult(
        "converge_admin_keys",
        before_removed.returncode == 0 and removed_now.returncode == 255
        and "Permission denied" in removed_now.stderr and added_now.returncode == 0
        and "logged-in" in added_now.stdout,
        {"removed_key_before": before_removed.returncode, "removed_key_after": removed_now.stderr.strip()[-200:],
         "added_key": added_now.returncode}))

    # 2: a broken nginx file is refused by validation; the previous config keeps serving
    rc2, out2 = converge(vm, admin, key, broken_first_boot(good))
    owner = concern_of(HEADERS_FILE, spec)
    assert owner is not None, HEADERS_FILE
    refused = [o.concern for o in progress.parse_converge_report(out2) if o.outcome == "refused"]
    live = vm.ssh(admin, key, f"{AS_ROOT} cat {HEADERS_FILE}", timeout=60).stdout
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10) as r:
        served, status = r.headers.get(HEADER, ""), r.status
    results.append(CheckResult(
        "converge_refuses_broken_nginx",
        rc2 != 0 and refused == [owner.name] and "X-Hvps-Broken" not in live and status == 200
        and served == HEADER_NEW,
        {"exit": rc2, "output": out2.strip().splitlines()[-10:], "served_header": served}))

    # 3: the same good bundle again changes nothing
    mark = "/run/hvps-e2e-converge.mark"
    vm.ssh(admin, key, f"{AS_ROOT} touch {mark}", timeout=30, check=True)
    time.sleep(1.1)                         # mtimes have a 1 s grain on some filesystems
    again_before = _probe(vm, admin, key, spec.app_name)
    rc3, out3 = converge(vm, admin, key, good)
    written = vm.ssh(admin, key, f"{AS_ROOT} find /etc /usr/local/sbin /home/{admin}/.ssh -newer {mark} -type f "
                                 f"2>/dev/null | head -20", timeout=60).stdout.split()
    again_after = _probe(vm, admin, key, spec.app_name)
    outcomes = {o.concern: o.outcome for o in progress.parse_converge_report(out3)}
    results.append(CheckResult(
        "converge_twice_touches_nothing",
        rc3 == 0 and bool(outcomes) and set(outcomes.values()) == {"unchanged"}
        and not written and again_after == again_before,
        {"output": outcomes, "written": written, "before": again_before, "after": again_after}))
    return results
