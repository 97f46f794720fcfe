"""The e2e VM's network surface from inside: TCP listeners, the in-guest firewall scan, nftables, the sysctls."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from components.firstboot import AS_ROOT
from components.firstboot.settings import HARDENED_MOUNTS

from .check_result import CheckResult, _sh
from .vm import VM

EXPECTED_PUBLIC_TCP = {22, 80, 443}



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



def listeners(vm: VM, admin: str, key: Path, app_ports: set[int] | None = None) -> CheckResult:
    """Every TCP listener on a non-loopback address is expected; the app (app_ports) is loopback/unix only."""
    p = _sh(vm, admin, key, f"{AS_ROOT} ss -Htlnp")
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
d=""
cleanup() {
  ip netns del $ns 2>/dev/null || true; ip link del e2e-scan0 2>/dev/null || true; [ -z "$d" ] || rm -rf "$d"
}
trap cleanup EXIT
cleanup
ip netns add $ns
ip link add e2e-scan0 type veth peer name e2e-scan1
ip link set e2e-scan1 netns $ns
ip addr add 192.0.2.1/30 dev e2e-scan0 && ip link set e2e-scan0 up
ip netns exec $ns ip addr add 192.0.2.2/30 dev e2e-scan1
ip netns exec $ns ip link set e2e-scan1 up
ip netns exec $ns ip link set lo up
d=$(mktemp -d -p /var/tmp); mkdir -p $d/partial; cd $d  # nmap runs from here: /tmp is noexec
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
    p = _sh(vm, admin, key, f"{AS_ROOT} bash -c " + shlex.quote(FIREWALL_SCAN_SCRIPT), timeout=1000)
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
    p = _sh(vm, admin, key, f"{AS_ROOT} nft -j list ruleset")
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
    p = _sh(vm, admin, key, f"{AS_ROOT} /usr/sbin/sysctl {keys}")      # prints "key = value"; unknown keys on stderr
    got = {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in p.stdout.splitlines()) if _}
    bad = {k: {"want": v, "got": got.get(k)} for k, v in expected.items()
           if " ".join(got.get(k, "").split()) != " ".join(v.split())}
    return CheckResult("sysctl", not bad, bad or f"{len(expected)} values as expected",
                       figures={"checked": len(expected), "wrong": len(bad)})


MOUNTS_SCRIPT = "for m in {}; do findmnt -fno TARGET,OPTIONS --mountpoint \"$m\" || echo \"$m -\"; done".format(
    " ".join(shlex.quote(m) for m, _, _ in HARDENED_MOUNTS))


def mount_options(text: str) -> dict[str, set[str]]:
    """findmnt's `TARGET OPTIONS` lines (MOUNTS_SCRIPT) as each mount point's options."""
    return {target: set(options.split(",")) for target, _, options in (line.partition(" ") for line in
                                                                       text.splitlines()) if options}


def hardened_mounts(vm: VM, admin: str, key: Path) -> CheckResult:
    """/dev, /dev/shm and /tmp mounted with the options settings.HARDENED_MOUNTS names (after a reboot as well:
    the fstab lines keep them); what is missing, per mount point."""
    p = _sh(vm, admin, key, MOUNTS_SCRIPT)
    got = mount_options(p.stdout)
    missing = {m: sorted(set(o.split(",")) - got.get(m, set())) for m, _, o in HARDENED_MOUNTS}
    missing = {m: o for m, o in missing.items() if o}
    return CheckResult("hardened_mounts", p.returncode == 0 and not missing,
                       missing or {m: ",".join(sorted(got.get(m, set()))) for m, _, _ in HARDENED_MOUNTS})
