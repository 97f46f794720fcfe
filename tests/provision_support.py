"""The provisioning script run for real under stubs (tests/test_provision_*.py): a host laid out in a temporary root.

The rendered script runs under bash in a temporary root (HVPS_ROOT prefixes every file it touches), with a PATH
holding only stub commands and the few real tools it needs (coreutils, grep, sed, awk, ssh-keygen): a command it
was not expected to run fails the test with "command not found". Stubs record every call in order; `apt-get`
fails while an outage file says so; `useradd`/`id` share a user list; `aide --init` writes a database.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from components import firstboot
from components.config import HostSpec, parse_host_spec
from components.firstboot import HOST_KEY_PATH, PROVISION_SCRIPT, describe_first_boot, progress
from tests.conftest import raw_config

#: The provisioning tests' mark: they need ssh-keygen (the host keys are real).
NEEDS_SSH_KEYGEN = pytest.mark.skipif(shutil.which("ssh-keygen") is None,
                                      reason="ssh-keygen (openssh-client) missing")
STATE = "var/lib/hvps/first-boot.state"
PROGRESS = progress.PROGRESS_FILE.lstrip("/")
RECORD = 'printf \'%s\\n\' "${0##*/} $*" >>"$HVPS_ROOT/.calls"\n'
STUBS = {
    "apt-get": RECORD + 'echo "${@: -1} needrestart-suspend=${NEEDRESTART_SUSPEND:-}" >>"$HVPS_ROOT/.apt-env"\n'
               '[ ! -e "$HVPS_ROOT/.apt-down" ] || exit 100\n'
               'case " $* " in *" install "*" sysstat "*) mkdir -p "$HVPS_ROOT/etc/default"\n'
               '  echo \'ENABLED="false"\' >"$HVPS_ROOT/etc/default/sysstat" ;; esac\n',
    "id": '[ "$#" -eq 1 ] && grep -qx "$1" "$HVPS_ROOT/.users" 2>/dev/null\n',
    "useradd": RECORD + 'echo "${@: -1}" >>"$HVPS_ROOT/.users"\n',
    "getent": 'exit 2\n',  # no such group: groupadd is called (as on a stock image)
    "sshd": RECORD + '[ ! -e "$HVPS_ROOT/.sshd-rejects" ]\n',
    "fallocate": RECORD + ': >"${@: -1}"\n[ ! -e "$HVPS_ROOT/.disk-full" ] || exit 1\n',  # ENOSPC leaves a file
    "aide": RECORD + 'case "$*" in *--init*) echo db >"$HVPS_ROOT/var/lib/aide/aide.db.new" ;; esac\n',
    # `python3 -c` is the wire format's unpack step (converge): the real interpreter; `-m venv` is stubbed
    "python3": f'[ "$1" != -c ] || exec {shlex.quote(sys.executable)} "$@"\n' + RECORD + 'mkdir -p "${@: -1}/bin"\n',
    # enablement is modelled (enable_units asks before enabling): a unit is enabled once `enable` named it
    "systemctl": 'if [ "$1" = is-enabled ]; then grep -qsxF "${@: -1}" "$HVPS_ROOT/.enabled"; exit; fi\n' + RECORD +
                 'if [ "$1" = enable ]; then for u; do [[ $u = -* ]] || echo "$u" >>"$HVPS_ROOT/.enabled"; done; fi\n',
    "systemd-detect-virt": RECORD + "exit 1\n",  # not a container
    # the source of what is mounted at a path: `.mounts` lines "path source" (none: nothing mounted there)
    "findmnt": 'awk -v d="${@: -1}" \'$1==d{print $2;f=1}END{exit !f}\' "$HVPS_ROOT/.mounts" 2>/dev/null\n',
    "swapon": RECORD,  # prints no active swap
    # the admin reaching root through PID 1 under no_new_privs (ssh-sandbox): polkit allows it once its rule is
    # installed, unless `.polkit-denies` says it does not
    "setpriv": RECORD + '[ ! -e "$HVPS_ROOT/.polkit-denies" ] && '
               '[ -e "$HVPS_ROOT/etc/polkit-1/rules.d/50-hvps-admin.rules" ] && echo 0\n',
    # the loopback login through the sandboxed sshd (ssh-sandbox): its key must be authorized then; the login
    # fails while `.login-fails` says so
    "ssh": RECORD + '[ "$1" = -i ] && k=$(cat "$2.pub") && [ ! -e "$HVPS_ROOT/.login-fails" ] &&\n'
           'grep -qF "${k% *}" "$HVPS_ROOT/home/deploy/.ssh/authorized_keys"\n',
    # install as root would need the users: drop -o/-g, keep the rest (the real install writes the files)
    "install": 'a=(); while [ $# -gt 0 ]; do case $1 in -o|-g) shift 2 ;; *) a+=("$1"); shift ;; esac; done\n'
               'exec "$HVPS_REAL/install" "${a[@]}"\n',
}
RECORDED = ("groupadd", "usermod", "passwd", "visudo", "hostnamectl", "nft", "sysctl", "mount",
            "mkswap", "curl", "nginx", "chown", "sleep")
REAL = ("bash", "cat", "mv", "rm", "cp", "grep", "sed", "awk", "chmod", "ln", "mkdir", "date", "seq", "touch",
        "ssh-keygen", "tar", "gzip", "base64", "cmp", "stat", "find", "mktemp")
BASE_FILES = {  # what a stock cloud image has where the script edits
    "etc/fstab": "UUID=0 / ext4 defaults 0 1\n",
    "etc/login.defs": "MAIL_DIR /var/mail\nUMASK 022\n#ENCRYPT_METHOD SHA512\nPASS_MAX_DAYS 99999\n",
    "etc/ssh/moduli": "20230101 2 6 100 2047 2 F1\n20230101 2 6 100 3071 2 F2\n20230101 2 6 100 4095 5 F3\n",
    "etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
    "etc/ssh/ssh_host_rsa_key": "an image-generated key\n",
    "etc/nginx/sites-enabled/default": "server {}\n",
}


@dataclass
class Host:
    root: Path
    env: dict[str, str]
    script: Path
    host_key: str
    spec: HostSpec

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(self.script), *args], env=self.env, capture_output=True, text=True,
                              timeout=30)

    @property
    def calls(self) -> list[str]:
        path = self.root / ".calls"
        return path.read_text().splitlines() if path.exists() else []

    @property
    def state(self) -> str:
        return (self.root / STATE).read_text().strip()

    @property
    def progress(self) -> list[progress.Event]:
        return progress.parse_progress((self.root / PROGRESS).read_text())

    def apt(self, up: bool) -> None:
        (self.root / ".apt-down").unlink(missing_ok=True) if up else (self.root / ".apt-down").touch()

    def snapshot(self) -> dict[str, tuple[int, str]]:
        """Every file and link under the root (mode, content or link target), the stubs' own records aside."""
        out = {}
        for path in sorted(self.root.rglob("*")):
            rel = path.relative_to(self.root).as_posix()
            if rel.startswith("."):
                continue
            if path.is_symlink():
                out[rel] = (0, "-> " + os.readlink(path))
            elif path.is_file():
                out[rel] = (path.stat().st_mode & 0o7777, path.read_text())
            else:
                out[rel] = (path.stat().st_mode & 0o7777, "<dir>")
        return out


def make_host(tmp_path: Path) -> Host:
    """A rendered first boot laid out in `tmp_path/root`, stub commands first on PATH."""
    root, stubs, real = tmp_path / "root", tmp_path / "stubs", tmp_path / "real"
    for d in (root / "var/lib/hvps", stubs, real):
        d.mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    host_key = (tmp_path / "key").read_text()
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com"))
    for f in describe_first_boot(spec, host_key=host_key).files:
        target = root / f.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.content)
        target.chmod(int(f.mode, 8))
    for rel, text in BASE_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel in ("etc/nginx/sites-available", "root"):
        (root / rel).mkdir(parents=True, exist_ok=True)
    for name in (*REAL, "install"):
        found = shutil.which(name)
        assert found, name
        (real / name).symlink_to(found)
    for name, body in {**dict.fromkeys(RECORDED, RECORD), **STUBS}.items():
        (stubs / name).write_text("#!/bin/bash\n" + body)
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:{real}", "HVPS_ROOT": str(root), "HVPS_REAL": str(real), "LANG": "C.UTF-8",
           "HOME": str(tmp_path)}
    return Host(root, env, root / PROVISION_SCRIPT.lstrip("/"), host_key, spec)


def first(calls: list[str], prefix: str) -> int:
    return next(i for i, c in enumerate(calls) if c.startswith(prefix))


def assert_locked_down(host: Host) -> None:
    """Admin keys, root locked, the pinned host key as the only one, sshd validated and restarted, nftables on."""
    root, calls = host.root, host.calls
    keys = (root / "etc/hvps/admin_authorized_keys").read_text()
    assert (root / "home/deploy/.ssh/authorized_keys").read_text() == keys and keys.startswith("ssh-ed25519 ")
    assert "passwd -l root" in calls and "usermod -aG sudo,sshusers deploy" in calls
    assert (root / "etc/ssh/ssh_host_ed25519_key").read_text() == host.host_key
    assert sorted(p.name for p in (root / "etc/ssh").glob("ssh_host_*")) == ["ssh_host_ed25519_key",
                                                                             "ssh_host_ed25519_key.pub"]
    assert not (root / HOST_KEY_PATH.lstrip("/")).exists()  # the secret copy from the bundle is gone
    assert not (root / "etc/ssh/sshd_config.d/50-cloud-init.conf").exists()
    assert (root / "etc/ssh/moduli").read_text().count("\n") == 2  # DH groups under 3072 bits dropped
    assert first(calls, "sshd -t") < first(calls, "systemctl restart ssh")
    assert first(calls, "nft -c -f") < first(calls, "systemctl restart nftables")
    assert "sysctl -q --system" in calls


def script_line(host: Host, command: str) -> int:
    """The script's line number of `command` (bash reports it in the ERR trap)."""
    lines = host.script.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == command)


# convergence: `hvps-provision --converge` with base64(converge_bundle(spec)) on stdin --------------------

def converge(host: Host, spec: HostSpec) -> subprocess.CompletedProcess[str]:
    data = base64.b64encode(firstboot.converge_bundle(spec)).decode()
    return subprocess.run(["bash", str(host.script), "--converge"], input=data, env=host.env, capture_output=True,
                          text=True, timeout=60)


def report(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """concern -> what convergence says of it (`unchanged`, `changed: ...`, `refused: ...`)."""
    return {o.concern: ": ".join(filter(None, (o.outcome, o.detail)))
            for o in progress.parse_converge_report(result.stdout)}


def mtimes(host: Host) -> dict[str, int]:
    return {p.relative_to(host.root).as_posix(): p.stat().st_mtime_ns for p in host.root.rglob("*")
            if p.is_file() and not p.name.startswith(".")}


def enabled_units(calls: list[str]) -> list[str]:
    """The units `systemctl enable` calls named, in order."""
    return [u for c in calls if c.startswith("systemctl enable ") for u in c.split()[2:] if not u.startswith("-")]
