"""External and internal audits of a booted e2e VM.

Every check returns a CheckResult (name, ok, detail, figures) so the runner can write the JSON/Markdown report
and exit non-zero on any failure. Every remote call is bounded (vm.ssh has a timeout).

Where the packets really go (user-mode networking, read before trusting a scan):
  qemu's user-mode NAT ("slirp") accepts a TCP connection on the HOST side of a forward immediately, before it
  even tries the guest, so a host-side nmap of 127.0.0.1:<forward> reports "open" whether or not the guest's
  firewall drops the port, and ports without a forward are simply unreachable. A host-side scan therefore
  proves nothing about the guest firewall. We do three honest things instead:
    1. `listeners()`   - `ss -Htlnp` inside the guest: every non-loopback TCP listener must be expected
                          (22/80/443); the app listens on 127.0.0.1 or a unix socket only.
    2. `firewall_scan()` - nmap SYN scan of ALL TCP ports from a network namespace INSIDE the guest, over a veth
                          pair, against the guest's own address on that veth. The packets enter through a real
                          non-loopback interface and traverse the guest's netfilter input hook exactly like
                          outside traffic (unlike a scan of the guest's own eth0 address from the root namespace,
                          which Linux routes via `lo` and most rulesets accept wholesale). Expect open = {22,80,443},
                          every other port "filtered" (dropped), not "closed" (which would mean no firewall).
                          nmap is unpacked from the guest's own apt (`apt-get download` + `dpkg -x`, not
                          installed), and this runs last so it cannot influence other checks.
    3. `service_banners()` - host-side nmap -sV on the forwarded ports only, labelled "through NAT": it proves
                          what answers on 22/80/443 from outside (service + that no version leaks), not the firewall.
  Source address caveat: everything from the host arrives from 10.0.2.2 (slirp). A fail2ban/nftables rate limit
  that bans 10.0.2.2 would lock the harness out; checks keep the number of failed ssh attempts to a minimum.

Lynis: `lynis_audit()` runs the pinned Lynis release (e2e/lynis.py `run`: fetched and verified by the harness,
copied in, checked again and unpacked in a temporary directory, so the audited system is not changed) inside the
TCG VM (20-30 min here; `python -m e2e lynis`). `python -m e2e all` runs it in the systemd-nspawn container
instead (e2e/nspawn_lynis.py, about 30 s; the host kernel's points counted apart).

Baselines cited: DevSec ssh-baseline / linux-baseline, ssh-audit hardening guide, Lynis, OWASP secure headers.
"""
from __future__ import annotations

from pathlib import Path

from .check_result import CheckResult, _sh
from .integrity_checks import INTEGRITY_SCRIPT, integrity_findings, integrity_sandboxed, lynis_audit
from .network_checks import (
    DEFAULT_SYSCTL,
    EXPECTED_PUBLIC_TCP,
    FIREWALL_SCAN_SCRIPT,
    firewall_scan,
    hardened_mounts,
    listeners,
    nftables_enforcing,
    sysctl_values,
)
from .service_checks import (
    CONNECTION_CUT,
    app_restarts,
    auditd_running,
    fail2ban_banned_harness,
    fail2ban_sshd,
    sandbox_exposure,
    swap_on,
    systemd_security,
    unattended_upgrades,
)
from .ssh_checks import (
    _offered_methods,
    _pinned_ssh,
    ssh_admin_login,
    ssh_audit,
    ssh_host_key_pinned,
    ssh_password_refused,
    ssh_root_refused,
    sshd_effective_config,
)
from .vm import VM
from .web_checks import FORBIDDEN_HEADERS, REQUIRED_HEADERS, http_headers, service_banners

__all__ = [
    "CONNECTION_CUT", "DEFAULT_SYSCTL", "EXPECTED_PUBLIC_TCP", "FIREWALL_SCAN_SCRIPT", "FORBIDDEN_HEADERS",
    "INTEGRITY_SCRIPT", "REQUIRED_HEADERS", "CheckResult", "_offered_methods", "_pinned_ssh", "_sh", "app_restarts",
    "auditd_running", "fail2ban_banned_harness", "fail2ban_sshd", "firewall_scan", "hardened_mounts", "http_headers",
    "integrity_findings", "integrity_sandboxed", "listeners", "lynis_audit", "nftables_enforcing", "run_all_inside",
    "run_all_outside", "sandbox_exposure", "service_banners", "ssh_admin_login", "ssh_audit", "ssh_host_key_pinned",
    "ssh_password_refused", "ssh_root_refused", "sshd_effective_config", "swap_on", "sysctl_values", "systemd_security",
    "unattended_upgrades",
]


def run_all_outside(vm: VM, admin: str, key: Path, accepted_warn: dict[str, str] | None = None) -> list[CheckResult]:
    """Positive checks first; the ones sshd logs as failures (fail2ban counts them) last."""
    return [ssh_admin_login(vm, admin, key), sshd_effective_config(vm, admin, key), http_headers(vm, 80),
            ssh_password_refused(vm, admin), ssh_root_refused(vm, admin, key), ssh_audit(vm, accepted_warn),
            service_banners(vm)]


def run_all_inside(vm: VM, admin: str, key: Path, app_unit: str | None = None,
                   sysctl: dict[str, str] | None = None, sandbox: dict[str, float] | None = None,
                   origins: list[str] | None = None, swap_mb: int = 0) -> list[CheckResult]:
    res = [listeners(vm, admin, key), nftables_enforcing(vm, admin, key), sysctl_values(vm, admin, key, sysctl),
           hardened_mounts(vm, admin, key),
           fail2ban_sshd(vm, admin, key), unattended_upgrades(vm, admin, key, origins),
           auditd_running(vm, admin, key)]
    if swap_mb:
        res.append(swap_on(vm, admin, key, swap_mb))
    if sandbox:
        res += [sandbox_exposure(vm, admin, key, sandbox), integrity_sandboxed(vm, admin, key)]
    elif app_unit:
        res.append(systemd_security(vm, admin, key, app_unit))
    return res
