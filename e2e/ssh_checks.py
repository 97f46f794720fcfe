"""SSH checks of a booted e2e VM: admin login, the pinned host key, refused root and password logins, `sshd -T`,
ssh-audit."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from components.firstboot import AS_ROOT

from .check_result import CheckResult, _sh
from .vm import VM


def ssh_admin_login(vm: VM, admin: str, key: Path) -> CheckResult:
    """The admin user with the stack's (test) key gets a shell, and reaches root (AS_ROOT: sudo before the converge)."""
    p = _sh(vm, admin, key, f"id -un && {AS_ROOT} true && echo ROOT_OK", timeout=60)
    ok = p.returncode == 0 and p.stdout.split()[:1] == [admin] and "ROOT_OK" in p.stdout
    return CheckResult("ssh_admin_login", ok, p.stdout.strip() or p.stderr.strip()[-300:])



#: Run as the admin in a fresh SSH session of a converged host (ssh-sandbox): what the session may and may not do.
CONFINED_SESSION_SCRIPT = r"""
printf 'nnp=%s\n' "$(awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)"
e=$(sudo -n true 2>&1); rc=$?; printf 'sudo_rc=%s\nsudo_err=%s\n' "$rc" "$(echo "$e" | tr '\n' ' ')"
e=$(touch /etc/hvps-e2e-confined 2>&1); rc=$?; printf 'etc_rc=%s\netc_err=%s\n' "$rc" "$(echo "$e" | tr '\n' ' ')"
printf 'root_uid=%s\n' "$(hvps-root id -u)"
o=$(echo hello | hvps-root sh -c 'cat; exit 3'); rc=$?; printf 'root_io=%s\nroot_rc=%s\n' "$o" "$rc"
hvps-root rm -f /etc/hvps-e2e-confined
"""


#: Run as the admin on a terminal (ssh -tt): hvps-root gives the command a terminal of its own and reaches root.
PTY_ROOT_COMMAND = "hvps-root sh -c 'tty -s && echo pty_root=$(id -u)'"


def confined_session(output: str, pty_output: str) -> tuple[bool, dict[str, str]]:
    """Judge CONFINED_SESSION_SCRIPT's output: the session runs under no_new_privs, sudo refuses it for that
    reason, the system is read-only to it, and hvps-root reaches root with stdin, stdout and exit status intact;
    and PTY_ROOT_COMMAND's: on a terminal too."""
    got = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    pty = re.search(r"pty_root=(\d+)", pty_output)  # among the terminal's title sequences systemd-run writes
    got["pty_root"] = pty.group(1) if pty else ""
    ok = (got.get("nnp") == "1" and got.get("sudo_rc", "0") != "0" and "no new privileges" in got.get("sudo_err", "")
          and got.get("etc_rc", "0") != "0" and "Read-only file system" in got.get("etc_err", "")
          and got.get("root_uid") == "0" and got.get("root_io") == "hello" and got.get("root_rc") == "3"
          and got["pty_root"] == "0")
    return ok, got


def ssh_sessions_confined(vm: VM, admin: str, key: Path) -> CheckResult:
    """After the converge sandboxed sshd: a new admin session is confined and reaches root through hvps-root only."""
    p = _sh(vm, admin, key, CONFINED_SESSION_SCRIPT, timeout=120)
    t = vm.ssh(admin, key, PTY_ROOT_COMMAND, timeout=120, extra=["-tt"])
    ok, got = confined_session(p.stdout, t.stdout)
    return CheckResult("ssh_sessions_confined", ok, got or p.stderr.strip()[-300:])


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
    cfg = _sh(vm, admin, key, f"{AS_ROOT} sshd -T 2>/dev/null | grep -E '^hostkey(algorithms)? '")
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
    planted = _sh(vm, admin, key, f"{AS_ROOT} install -d -m 0700 /root/.ssh && printf '%s\\n' "
                  f"{shlex.quote(pub)} | {AS_ROOT} tee /root/.ssh/authorized_keys >/dev/null", timeout=60)
    p = vm.ssh("root", key, "true", timeout=30)
    _sh(vm, admin, key, f"{AS_ROOT} rm -f /root/.ssh/authorized_keys", timeout=60)
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
    p = _sh(vm, admin, key, f"{AS_ROOT} sshd -T 2>/dev/null")
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
