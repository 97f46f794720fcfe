"""The e2e VM's services: fail2ban (its jail and its ban), unattended-upgrades, auditd, the units' sandboxes, the
app's restart."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from components.firstboot import AS_ROOT, effective_origins
from components.firstboot.sandbox import exposures

from .check_result import CheckResult, _sh
from .vm import VM


def fail2ban_sshd(vm: VM, admin: str, key: Path) -> CheckResult:
    p = _sh(vm, admin, key, f"{AS_ROOT} fail2ban-client status sshd")
    ok = p.returncode == 0 and "Currently banned" in p.stdout
    return CheckResult("fail2ban_sshd_jail", ok, p.stdout.strip() or p.stderr.strip()[-300:])



def unattended_upgrades(vm: VM, admin: str, key: Path, origins: list[str] | None = None) -> CheckResult:
    """Installed, enabled daily, and (with `origins`, the documented list) the EFFECTIVE origins are exactly
    those: `apt-config dump` after every apt.conf.d file, Debian's 50unattended-upgrades included."""
    cmd = ("dpkg-query -W -f='${Status}\\n' unattended-upgrades; "
           "apt-config dump APT::Periodic::Unattended-Upgrade APT::Periodic::Update-Package-Lists; "
           "systemctl is-enabled apt-daily.timer apt-daily-upgrade.timer; "
           "apt-config dump Unattended-Upgrade")
    p = _sh(vm, admin, key, cmd)
    out = p.stdout
    effective = effective_origins(out)
    ok = ("install ok installed" in out and 'Unattended-Upgrade "1"' in out
          and 'Update-Package-Lists "1"' in out and len(re.findall(r"^enabled$", out, re.M)) == 2 and bool(effective)
          and (origins is None or effective == origins))
    return CheckResult("unattended_upgrades", ok, {"effective_origins": effective, "documented": origins},
                       figures={"origins": len(effective)})



def auditd_running(vm: VM, admin: str, key: Path) -> CheckResult:
    """auditd active, and the project's rules loaded into the kernel (auditctl -l lists them)."""
    p = _sh(vm, admin, key, f"systemctl is-active auditd; {AS_ROOT} auditctl -s | grep -E '^(enabled|pid)'; "
                            f"{AS_ROOT} auditctl -l | wc -l")
    lines = p.stdout.split()
    active = p.stdout.startswith("active")
    enabled = bool(re.search(r"^enabled [12]$", p.stdout, re.M))
    rules = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return CheckResult("auditd", active and enabled and rules > 0, p.stdout.strip().splitlines(),
                       figures={"rules_loaded": rules})



def swap_on(vm: VM, admin: str, key: Path, size_mb: int) -> CheckResult:
    """The swap file of swapSizeMb is in use and its swap unit (from the fstab line) is active. That the
    provisioner never calls swapon itself is the unit tests' to show (the install phase's sandbox refuses the
    swap calls); after the reboot this shows the fstab line turns it on."""
    p = _sh(vm, admin, key,
            f"{AS_ROOT} swapon --show=NAME,SIZE --bytes --noheadings; systemctl is-active swapfile.swap")
    sizes = {name: int(size) for name, size in re.findall(r"^(\S+)\s+(\d+)$", p.stdout, re.M)}
    got = sizes.get("/swapfile", 0)
    ok = (size_mb - 1) * 2**20 < got <= size_mb * 2**20 and p.stdout.rstrip().endswith("\nactive")
    return CheckResult("swap_on", ok, p.stdout.strip().splitlines(), figures={"swap_mb": round(got / 2**20)})



#: What ssh prints when the connection itself is cut (the ban), as opposed to an authentication refusal.
CONNECTION_CUT = ("Connection closed", "Connection reset", "Connection refused", "timed out",
                  "kex_exchange_identification")



def fail2ban_banned_harness(vm: VM, admin: str, key: Path, health_path: str = "/healthz") -> CheckResult:
    """After the sshd-failure probes (root/password refusals, ssh-audit's pre-auth connections), fail2ban should
    have banned the harness's only source address (10.0.2.2): a fresh admin ssh (the key that worked before the
    probes) must now be cut at the connection, not refused at authentication, while nginx on the same host still
    answers (the ban covers ssh only: a dead host would fail both). Evidence that the sshd jail really acts;
    afterwards the VM can only be powered off by killing qemu."""
    p = vm.ssh(admin, key, "true", timeout=25)
    cut = [m for m in CONNECTION_CUT if m in p.stderr]
    http: int | str
    try:
        http = vm.http_get(80, health_path)[0]
    except OSError as exc:
        http = f"{type(exc).__name__}: {exc}"
    banned = p.returncode == 255 and bool(cut) and "Permission denied" not in p.stderr and http == 200
    return CheckResult("fail2ban_banned_after_probes", banned,
                       {"ssh_rc": p.returncode, "ssh_stderr": p.stderr.strip()[-200:], "connection_cut": cut,
                        "http_still_answers": http})



def systemd_security(vm: VM, admin: str, key: Path, unit: str, max_exposure: float = 2.0) -> CheckResult:
    p = _sh(vm, admin, key, f"{AS_ROOT} systemd-analyze security --no-pager {shlex.quote(unit)} | tail -n 3")
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    exposure = float(m.group(1)) if m else None
    ok = exposure is not None and exposure <= max_exposure
    return CheckResult(f"systemd_security:{unit}", ok, p.stdout.strip()[-200:],
                       figures={"exposure": exposure, "max": max_exposure})



def sandbox_exposure(vm: VM, admin: str, key: Path, bounds: dict[str, float]) -> CheckResult:
    """`systemd-analyze security` of every unit the project adds or configures (components/firstboot/sandbox.py,
    with its bound there): each must be at or under its bound; a unit the host does not know fails."""
    cmd = "; ".join(f"{AS_ROOT} systemd-analyze security --no-pager {shlex.quote(u)} 2>&1 | tail -n 1" for u in bounds)
    p = _sh(vm, admin, key, cmd)
    got = exposures(p.stdout)
    over = {u: {"exposure": got.get(u), "max": b} for u, b in bounds.items() if got.get(u) is None or got[u] > b}
    return CheckResult("sandbox_exposure", p.returncode == 0 and not over, over or "every unit within its bound",
                       figures={u: got.get(u) for u in bounds})



def app_restarts(vm: VM, admin: str, key: Path, unit: str, health_path: str = "/healthz",
                 within_s: float = 30) -> CheckResult:
    """Kill the app's main process (SIGKILL); systemd must restart it and health must answer again."""
    import time
    before = _sh(vm, admin, key, f"systemctl show -p MainPID --value {shlex.quote(unit)}").stdout.strip()
    _sh(vm, admin, key, f"{AS_ROOT} systemctl kill -s SIGKILL --kill-whom=main {shlex.quote(unit)}")
    t0 = time.monotonic()
    try:
        vm.wait_http(80, health_path, timeout=within_s)
        ok = True
    except Exception as exc:
        ok, _err = False, str(exc)
    after = _sh(vm, admin, key, f"systemctl show -p MainPID --value {shlex.quote(unit)}").stdout.strip()
    ok = ok and after not in ("", "0", before)
    return CheckResult("app_restarts_after_kill", ok, {"pid_before": before, "pid_after": after},
                       figures={"recovered_s": round(time.monotonic() - t0, 1)})
