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

Lynis: `lynis_audit()` runs the pinned Lynis release (e2e/lynis.py: fetched and verified by the harness, copied in,
checked again and unpacked in a temporary directory, so the audited system is not changed) once per run inside
the TCG VM (~13 min here). `e2e/nspawn_lynis.py` (~21 s, kernel/sysctl findings reflect the host kernel) is the
fast alternative.

Baselines cited: DevSec ssh-baseline / linux-baseline, ssh-audit hardening guide, Lynis, OWASP secure headers.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from components.firstboot import effective_origins
from components.firstboot.sandbox import exposures

from . import lynis
from .vm import VM

EXPECTED_PUBLIC_TCP = {22, 80, 443}

# OWASP secure-headers (names are matched case-insensitively); X-XSS-Protection must NOT be sent.
REQUIRED_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy")
FORBIDDEN_HEADERS = ("X-XSS-Protection", "X-Powered-By")

# DevSec os_hardening / Lynis values (hardening.md). The runner should prefer the values the project's own
# renderer declares, when it exposes them; this is the fallback baseline.
DEFAULT_SYSCTL = {
    "fs.protected_hardlinks": "1", "fs.protected_symlinks": "1", "fs.protected_fifos": "1",
    "fs.protected_regular": "2", "fs.suid_dumpable": "0", "kernel.kptr_restrict": "2", "kernel.dmesg_restrict": "1",
    "kernel.kexec_load_disabled": "1", "kernel.sysrq": "0", "kernel.randomize_va_space": "2",
    "kernel.yama.ptrace_scope": "2", "kernel.unprivileged_bpf_disabled": "1", "net.core.bpf_jit_harden": "2",
    "kernel.perf_event_paranoid": "3", "dev.tty.ldisc_autoload": "0", "net.ipv4.ip_forward": "0",
    "net.ipv4.conf.all.rp_filter": "1", "net.ipv4.tcp_syncookies": "1",
    "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.default.accept_redirects": "0",
    "net.ipv4.conf.all.secure_redirects": "0", "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0", "net.ipv4.conf.all.log_martians": "1",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1", "net.ipv4.icmp_ignore_bogus_error_responses": "1",
    "net.ipv6.conf.all.accept_redirects": "0", "net.ipv6.conf.default.accept_redirects": "0",
}


@dataclasses.dataclass
class CheckResult:
    name: str
    ok: bool
    detail: Any = None                      # short human-readable evidence (str / list / dict)
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)   # numbers for the report
    accepted_warnings: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _sh(vm: VM, user: str, key: Path, cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return vm.ssh(user, key, cmd, timeout=timeout)


# ============================================================================================ outside
def ssh_admin_login(vm: VM, admin: str, key: Path) -> CheckResult:
    """The admin user with the stack's (test) key gets a shell, and has sudo."""
    p = _sh(vm, admin, key, "id -un && sudo -n true && echo SUDO_OK", timeout=60)
    ok = p.returncode == 0 and p.stdout.split()[:1] == [admin] and "SUDO_OK" in p.stdout
    return CheckResult("ssh_admin_login", ok, p.stdout.strip() or p.stderr.strip()[-300:])


def _offered_methods(stderr: str) -> list[str] | None:
    m = re.search(r"Permission denied \(([^)]*)\)", stderr)
    return m.group(1).split(",") if m else None


def _pinned_ssh(vm: VM, admin: str, key: Path, host_pub: str, work: Path) -> subprocess.CompletedProcess:
    """OpenSSH as a careful deployer runs it: a known_hosts holding only `host_pub`, strict checking on."""
    known = work / "known_hosts"
    known.write_text(f"hvps-e2e {' '.join(host_pub.split()[:2])}\n")
    cmd = ["ssh", "-p", str(vm.ports[22]), "-i", str(key), "-o", "HostKeyAlias=hvps-e2e",
           "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
           "-o", "StrictHostKeyChecking=yes", "-o", "CheckHostIP=no", "-o", "UpdateHostKeys=no",
           "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15",
           f"{admin}@127.0.0.1", "cat /etc/ssh/ssh_host_ed25519_key.pub"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def ssh_host_key_pinned(vm: VM, admin: str, key: Path, host_pub: str, other_pub: str) -> CheckResult:
    """The host presents the key its first boot carried, and only that one: OpenSSH pinned to it connects;
    pinned to another key it refuses ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed"),
    as pulumi-command's FixedHostKey refuses a deploy to a host presenting a different key. One refused
    connection: sshd logs it as a pre-auth close, far from the probes that end in the fail2ban ban."""
    with tempfile.TemporaryDirectory(prefix="e2e-known-") as d:
        good = _pinned_ssh(vm, admin, key, host_pub, Path(d))
        bad = _pinned_ssh(vm, admin, key, other_pub, Path(d))
    served = good.stdout.split()[:2]
    refusal = [m for m in ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed")
               if m in bad.stderr]
    cfg = _sh(vm, admin, key, "sudo sshd -T 2>/dev/null | grep -E '^hostkey(algorithms)? '")
    values = [line.split(" ", 1) for line in cfg.stdout.splitlines() if " " in line]
    only_ed25519 = ([v for k, v in values if k == "hostkey"] == ["/etc/ssh/ssh_host_ed25519_key"]
                    and [v for k, v in values if k == "hostkeyalgorithms"] == ["ssh-ed25519"])
    ok = (good.returncode == 0 and served == host_pub.split()[:2] and bad.returncode == 255 and len(refusal) == 2
          and only_ed25519)
    return CheckResult("ssh_host_key_pinned", ok, {
        "pinned_to_first_boot_key": {"rc": good.returncode, "served_key_matches": served == host_pub.split()[:2]},
        "pinned_to_other_key": {"rc": bad.returncode, "refusal": refusal, "stderr": bad.stderr.strip()[-300:]},
        "sshd_host_keys": cfg.stdout.strip().splitlines()})


def ssh_root_refused(vm: VM, admin: str, key: Path) -> CheckResult:
    """root is refused even with a key root itself authorizes: the admin's key is put in root's authorized_keys
    for one attempt (then removed), so only `PermitRootLogin no` can refuse it; ssh must say "Permission denied"."""
    pub = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True, timeout=30,
                         check=True).stdout.strip()
    planted = _sh(vm, admin, key, "sudo install -d -m 0700 /root/.ssh && printf '%s\\n' "
                  f"{shlex.quote(pub)} | sudo tee /root/.ssh/authorized_keys >/dev/null", timeout=60)
    p = vm.ssh("root", key, "true", timeout=30)
    _sh(vm, admin, key, "sudo rm -f /root/.ssh/authorized_keys", timeout=60)
    refused = planted.returncode == 0 and p.returncode == 255 and "Permission denied" in p.stderr
    return CheckResult("ssh_root_refused", refused, {"root_authorizes_the_key": planted.returncode == 0,
                                                     "stderr": p.stderr.strip()[-300:]})


def ssh_password_refused(vm: VM, admin: str) -> CheckResult:
    """Password / keyboard-interactive are not even offered: the 'Permission denied (...)' list has publickey only.
    (No password is sent, so this does not feed fail2ban.)"""
    cmd = vm.ssh_base(admin, "/dev/null", extra=["-o", "PubkeyAuthentication=no",
                                                  "-o", "PreferredAuthentications=password,keyboard-interactive",
                                                  "-o", "NumberOfPasswordPrompts=0"])
    cmd.append("true")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    methods = _offered_methods(p.stderr)
    ok = p.returncode != 0 and methods is not None and not {"password", "keyboard-interactive"} & set(methods)
    return CheckResult("ssh_password_refused", ok, {"offered_methods": methods, "stderr": p.stderr.strip()[-200:]})


def sshd_effective_config(vm: VM, admin: str, key: Path, expected: dict[str, str] | None = None) -> CheckResult:
    """`sshd -T` values (DevSec ssh-baseline)."""
    expected = expected or {"permitrootlogin": "no", "passwordauthentication": "no",
                            "kbdinteractiveauthentication": "no", "x11forwarding": "no",
                            "allowtcpforwarding": "no", "allowagentforwarding": "no", "permitemptypasswords": "no"}
    p = _sh(vm, admin, key, "sudo sshd -T 2>/dev/null")
    got = dict(line.split(" ", 1) for line in p.stdout.splitlines() if " " in line)
    bad = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    return CheckResult("sshd_effective_config", p.returncode == 0 and not bad, bad or "all as expected")


def ssh_audit(vm: VM, accepted_warn: dict[str, str] | None = None, ssh_audit_bin: str | None = None) -> CheckResult:
    """ssh-audit (PyPI 3.x) JSON against the forwarded sshd. No 'fail' allowed; every 'warn' must be listed in
    accepted_warn {algorithm-or-substring: reason} and is reported with its reason."""
    exe = ssh_audit_bin or str(Path(sys.executable).parent / "ssh-audit")
    p = subprocess.run([exe, "-j", "-p", str(vm.ports[22]), "127.0.0.1"], capture_output=True, text=True,
                       timeout=120)
    try:
        data = json.loads(p.stdout)
    except json.JSONDecodeError:
        return CheckResult("ssh_audit", False, f"no JSON (rc {p.returncode}): {p.stderr.strip()[-300:]}")
    fails, warns = [], []
    for section in ("kex", "key", "enc", "mac"):
        for alg in data.get(section, []) or []:
            notes = alg.get("notes", {}) or {}
            for f in notes.get("fail", []) or []:
                fails.append(f"{section}:{alg.get('algorithm')}: {f}")
            for w in notes.get("warn", []) or []:
                warns.append(f"{section}:{alg.get('algorithm')}: {w}")
    for cve in data.get("cves", []) or []:
        fails.append(f"cve:{cve.get('name')}: {cve.get('description')}")
    accepted_warn = accepted_warn or {}
    accepted = [f"{w}  -- accepted: {r}" for w in warns for k, r in accepted_warn.items() if k in w]
    unaccepted = [w for w in warns if not any(k in w for k in accepted_warn)]
    banner = (data.get("banner") or {}).get("software")
    # ssh-audit 3.x exit codes: 0 good, 1 connection error, 2 warning, 3 failure
    if p.returncode in (1, 3) and not fails:
        fails.append(f"ssh-audit exit code {p.returncode}")
    return CheckResult("ssh_audit", not fails and not unaccepted,
                       {"fail": fails, "unaccepted_warn": unaccepted, "banner": banner,
                        "additional_notes": data.get("additional_notes")},
                       figures={"fail": len(fails), "warn": len(warns), "exit_code": p.returncode},
                       accepted_warnings=accepted)


def http_headers(vm: VM, guest_port: int = 80, path: str = "/", host: str | None = None,
                 expect_status: tuple[int, ...] = (200,)) -> CheckResult:
    """The app answers through nginx with the OWASP headers and no server version."""
    status, headers, _ = vm.http_get(guest_port, path, host_header=host)
    h = {k.lower(): v for k, v in headers.items()}
    missing = [x for x in REQUIRED_HEADERS if x.lower() not in h]
    forbidden = [x for x in FORBIDDEN_HEADERS if x.lower() in h]
    server = h.get("server", "")
    version_leak = bool(re.search(r"\d", server))
    ok = status in expect_status and not missing and not forbidden and not version_leak
    return CheckResult(f"http_headers:{guest_port}{path}", ok,
                       {"status": status, "server": server, "missing": missing, "forbidden": forbidden})


def service_banners(vm: VM) -> CheckResult:
    """Host-side `nmap -sT -sV` of the forwarded ports ONLY. Through slirp this shows which services answer
    and that they leak no versions; it is NOT a firewall test (see module docstring)."""
    ports = ",".join(str(vm.ports[g]) for g in sorted(vm.ports))
    p = subprocess.run(["nmap", "-Pn", "-sT", "-sV", "--version-light", "-oX", "-", "-p", ports, "127.0.0.1"],
                       capture_output=True, text=True, timeout=300)
    back = {h: g for g, h in vm.ports.items()}
    rows = []
    with contextlib.suppress(ET.ParseError):
        for port in ET.fromstring(p.stdout).iter("port"):
            state, svc = port.find("state"), port.find("service")
            sv = svc.attrib if svc is not None else {}
            rows.append({"guest_port": back.get(int(port.get("portid", 0))),
                         "state": state.get("state") if state is not None else None,
                         "service": sv.get("name"), "product": sv.get("product"), "version": sv.get("version"),
                         "extrainfo": sv.get("extrainfo")})
    # OpenSSH's banner always carries its version; nginx's must not (server_tokens off)
    by_port = {r["guest_port"]: r for r in rows}
    ok = (p.returncode == 0 and by_port.get(22, {}).get("state") == "open" and by_port[22].get("service") == "ssh"
          and by_port.get(80, {}).get("state") == "open" and by_port[80].get("service") == "http"
          and not by_port[80].get("version"))
    return CheckResult("service_banners_through_nat", ok, rows)


# ============================================================================================ inside
def listeners(vm: VM, admin: str, key: Path, app_ports: set[int] | None = None) -> CheckResult:
    """Every TCP listener on a non-loopback address is expected; the app (app_ports) is loopback/unix only."""
    p = _sh(vm, admin, key, "sudo ss -Htlnp")
    public, rows = set(), []
    for line in p.stdout.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        local = cols[3]
        addr, _, port = local.rpartition(":")
        proc = cols[5] if len(cols) > 5 else ""
        rows.append(f"{local} {proc}")
        if not re.match(r"^(127\.|\[::1\]|::1)", addr.strip("%lo")):
            public.add(int(port))
    unexpected = public - EXPECTED_PUBLIC_TCP
    app_public = public & (app_ports or set())
    ok = p.returncode == 0 and not unexpected and not app_public
    return CheckResult("listeners", ok, {"public_ports": sorted(public), "unexpected": sorted(unexpected),
                                         "app_public": sorted(app_public), "ss": rows})


FIREWALL_SCAN_SCRIPT = r"""
set -eu
ns=e2escan
cleanup() { ip netns del $ns 2>/dev/null || true; ip link del e2e-scan0 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $ns
ip link add e2e-scan0 type veth peer name e2e-scan1
ip link set e2e-scan1 netns $ns
ip addr add 192.0.2.1/30 dev e2e-scan0 && ip link set e2e-scan0 up
ip netns exec $ns ip addr add 192.0.2.2/30 dev e2e-scan1
ip netns exec $ns ip link set e2e-scan1 up
ip netns exec $ns ip link set lo up
d=$(mktemp -d); mkdir -p $d/partial; cd $d
# nmap and whatever it needs that is not installed, downloaded (not installed) and unpacked here
ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q >/dev/null
apt-get install -q -y --no-install-recommends --download-only -o APT::Sandbox::User=root \
  -o Dir::Cache::archives=$d nmap >/dev/null
for f in $d/*.deb; do dpkg -x $f root; done
# every unpacked library dir (libblas3 ships libblas.so.3 in a blas/ subdir behind update-alternatives)
export LD_LIBRARY_PATH=$(find $d/root -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
export NMAPDIR=$d/root/usr/share/nmap
timeout 900 ip netns exec $ns $d/root/usr/bin/nmap -Pn -n -sS -p- --max-retries 1 --min-rate 2000 \
  --defeat-rst-ratelimit -oX - 192.0.2.1
rm -rf $d
"""
# 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so the scan cannot leak anywhere; it lives inside the guest.


def firewall_scan(vm: VM, admin: str, key: Path, expected_open: set[int] | None = None,
                  allowed_closed: set[int] | None = None) -> CheckResult:
    """Real port scan through the guest's netfilter input hook (see module docstring). Expects open ports
    == expected_open (default EXPECTED_PUBLIC_TCP) and the rest 'filtered' (dropped by a default-deny policy);
    allowed_closed are ports the firewall accepts with nothing listening (443 on a host without a domain)."""
    expected_open = EXPECTED_PUBLIC_TCP if expected_open is None else expected_open
    allowed_closed = allowed_closed or set()
    p = _sh(vm, admin, key, "sudo bash -c " + shlex.quote(FIREWALL_SCAN_SCRIPT), timeout=1000)
    open_ports = {int(x) for x in re.findall(r'portid="(\d+)"><state state="open"', p.stdout)}
    closed = {int(x) for x in re.findall(r'portid="(\d+)"><state state="closed"', p.stdout)}
    extra = re.search(r'<extraports state="(\w+)" count="(\d+)"', p.stdout)
    default_state = extra.group(1) if extra else None
    ok = (p.returncode == 0 and open_ports == expected_open and default_state == "filtered"
          and closed <= allowed_closed)
    return CheckResult("firewall_scan_in_guest_netns", ok,
                       {"open": sorted(open_ports), "closed": sorted(closed)[:20], "other_ports": default_state,
                        "expected_open": sorted(expected_open),
                        "stderr": p.stderr.strip()[-300:] if p.returncode else ""},
                       figures={"open": len(open_ports), "ports_scanned": 65535})


def nftables_enforcing(vm: VM, admin: str, key: Path) -> CheckResult:
    """Some base chain on the input hook has policy drop (or ends in drop/reject); the scan proves it works."""
    p = _sh(vm, admin, key, "sudo nft -j list ruleset")
    try:
        items = json.loads(p.stdout).get("nftables", [])
    except json.JSONDecodeError:
        return CheckResult("nftables_enforcing", False, f"nft failed: {p.stderr.strip()[-300:]}")
    chains = [i["chain"] for i in items if "chain" in i and i["chain"].get("hook") == "input"]
    dropping = [f"{c.get('family')} {c.get('table')} {c.get('name')} policy {c.get('policy')}" for c in chains
                if c.get("policy") == "drop"]
    return CheckResult("nftables_enforcing", bool(dropping), dropping or [str(c) for c in chains])


def sysctl_values(vm: VM, admin: str, key: Path, expected: dict[str, str] | None = None) -> CheckResult:
    expected = expected or DEFAULT_SYSCTL
    keys = " ".join(shlex.quote(k) for k in expected)
    p = _sh(vm, admin, key, f"sudo /usr/sbin/sysctl {keys}")      # prints "key = value"; unknown keys on stderr
    got = {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in p.stdout.splitlines()) if _}
    bad = {k: {"want": v, "got": got.get(k)} for k, v in expected.items()
           if " ".join(got.get(k, "").split()) != " ".join(v.split())}
    return CheckResult("sysctl", not bad, bad or f"{len(expected)} values as expected",
                       figures={"checked": len(expected), "wrong": len(bad)})


def fail2ban_sshd(vm: VM, admin: str, key: Path) -> CheckResult:
    p = _sh(vm, admin, key, "sudo fail2ban-client status sshd")
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
    p = _sh(vm, admin, key, "systemctl is-active auditd; sudo auditctl -s | grep -E '^(enabled|pid)'; "
                            "sudo auditctl -l | wc -l")
    lines = p.stdout.split()
    active = p.stdout.startswith("active")
    enabled = bool(re.search(r"^enabled [12]$", p.stdout, re.M))
    rules = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return CheckResult("auditd", active and enabled and rules > 0, p.stdout.strip().splitlines(),
                       figures={"rules_loaded": rules})


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
    p = _sh(vm, admin, key, f"sudo systemd-analyze security --no-pager {shlex.quote(unit)} | tail -n 3")
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    exposure = float(m.group(1)) if m else None
    ok = exposure is not None and exposure <= max_exposure
    return CheckResult(f"systemd_security:{unit}", ok, p.stdout.strip()[-200:],
                       figures={"exposure": exposure, "max": max_exposure})


def sandbox_exposure(vm: VM, admin: str, key: Path, bounds: dict[str, float]) -> CheckResult:
    """`systemd-analyze security` of every unit the project adds or configures (components/firstboot/sandbox.py,
    with its bound there): each must be at or under its bound; a unit the host does not know fails."""
    cmd = "; ".join(f"sudo systemd-analyze security --no-pager {shlex.quote(u)} 2>&1 | tail -n 1" for u in bounds)
    p = _sh(vm, admin, key, cmd)
    got = exposures(p.stdout)
    over = {u: {"exposure": got.get(u), "max": b} for u, b in bounds.items() if got.get(u) is None or got[u] > b}
    return CheckResult("sandbox_exposure", p.returncode == 0 and not over, over or "every unit within its bound",
                       figures={u: got.get(u) for u in bounds})


INTEGRITY_SCRIPT = r"""
set -u
systemctl start hvps-integrity.service >/dev/null 2>&1
echo "status=$(systemctl show -p ExecMainStatus --value hvps-integrity.service)"
journalctl -o cat _SYSTEMD_INVOCATION_ID="$(systemctl show -p InvocationID --value hvps-integrity.service)"
echo @@PLAIN@@
rc=0; aide -c /etc/aide/aide.conf --check 2>&1 || rc=1; debsums -s 2>&1 || rc=1; echo "status=$rc"
"""
# The same two commands in the unit's sandbox and as plain root: a sandbox that hid a path would differ.


def integrity_findings(text: str) -> set[str]:
    """AIDE's entry lines ("<flags>: /path") and debsums' complaints, without timestamps or hashes."""
    return {line.strip() for line in text.splitlines()
            if line.startswith("debsums:") or re.match(r"^[a-zA-Z=+.-][^:]*: /", line)}


def integrity_sandboxed(vm: VM, admin: str, key: Path) -> CheckResult:
    """hvps-integrity.service under its sandbox ends as AIDE and debsums do as plain root, with exactly their
    findings: a read-only view with one capability must not hide a path (ProtectKernelModules hid the kernel's
    modules from debsums: every one reported missing)."""
    p = _sh(vm, admin, key, "sudo bash -c " + shlex.quote(INTEGRITY_SCRIPT), timeout=900)
    unit, _, plain = p.stdout.partition("@@PLAIN@@")
    in_unit, as_root = integrity_findings(unit), integrity_findings(plain)
    status = [re.findall(r"^status=(\d+)$", part, re.M) for part in (unit, plain)]
    ok = status[0] == status[1] and len(status[0]) == 1 and in_unit == as_root
    return CheckResult("integrity_sandboxed", ok, {"exit_status_unit_vs_root": status,
                                                   "only_as_root": sorted(as_root - in_unit)[:20],
                                                   "only_in_unit": sorted(in_unit - as_root)[:20]},
                       figures={"findings": len(as_root)})


def lynis_audit(vm: VM, admin: str, key: Path, min_index: int = lynis.MIN_INDEX) -> CheckResult:
    """Lynis hardening index inside the VM (once per run; ~13 min under TCG), with the pinned release
    (e2e/lynis.py) copied in. Returns the index plus the warnings and suggestions (test ids) so the report
    can list them."""
    deb = lynis.fetch()
    guest_deb = f"/home/{admin}/{deb.name}"
    vm.scp_to(admin, key, deb, guest_deb)
    p = _sh(vm, admin, key, "sudo bash -c " + shlex.quote(lynis.audit_script(guest_deb, 1500, with_log=True)),
            timeout=1800)
    report_text, _, log_text = p.stdout.partition(lynis.LOG_MARKER)
    report = {}
    warnings, suggestions = [], []
    for line in report_text.splitlines():
        k, _, v = line.partition("=")
        if k == "warning[]":
            warnings.append(v.split("|")[0])
        elif k == "suggestion[]":
            suggestions.append(v.split("|")[0])
        elif k:
            report[k] = v
    idx = int(report["hardening_index"]) if report.get("hardening_index", "").isdigit() else None
    missed = [f"{test} {got}/{most}" for test, got, most in lynis.missed_points(log_text)]
    return CheckResult("lynis", idx is not None and idx >= min_index,
                       {"warnings": warnings, "suggestions": suggestions,
                        "lynis_version": report.get("lynis_version"), "points_missed": missed,
                        "sysctl_differences": lynis.sysctl_differences(log_text)},
                       figures={"hardening_index": idx, "target": min_index,
                                "tests_done": report.get("lynis_tests_done")})


# ============================================================================================ resilience
def app_restarts(vm: VM, admin: str, key: Path, unit: str, health_path: str = "/healthz",
                 within_s: float = 30) -> CheckResult:
    """Kill the app's main process (SIGKILL); systemd must restart it and health must answer again."""
    import time
    before = _sh(vm, admin, key, f"systemctl show -p MainPID --value {shlex.quote(unit)}").stdout.strip()
    _sh(vm, admin, key, f"sudo systemctl kill -s SIGKILL --kill-whom=main {shlex.quote(unit)}")
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


def run_all_outside(vm: VM, admin: str, key: Path, accepted_warn: dict[str, str] | None = None) -> list[CheckResult]:
    """Positive checks first; the ones sshd logs as failures (fail2ban counts them) last."""
    return [ssh_admin_login(vm, admin, key), sshd_effective_config(vm, admin, key), http_headers(vm, 80),
            ssh_password_refused(vm, admin), ssh_root_refused(vm, admin, key), ssh_audit(vm, accepted_warn),
            service_banners(vm)]


def run_all_inside(vm: VM, admin: str, key: Path, app_unit: str | None = None,
                   sysctl: dict[str, str] | None = None, sandbox: dict[str, float] | None = None,
                   origins: list[str] | None = None) -> list[CheckResult]:
    res = [listeners(vm, admin, key), nftables_enforcing(vm, admin, key), sysctl_values(vm, admin, key, sysctl),
           fail2ban_sshd(vm, admin, key), unattended_upgrades(vm, admin, key, origins),
           auditd_running(vm, admin, key)]
    if sandbox:
        res += [sandbox_exposure(vm, admin, key, sandbox), integrity_sandboxed(vm, admin, key)]
    elif app_unit:
        res.append(systemd_security(vm, admin, key, app_unit))
    return res
