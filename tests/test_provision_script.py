"""provision.sh fails closed: the host is locked down before any apt call, an apt outage is retried, re-runs are no-ops.

The rendered script runs under bash in a temporary root (HVPS_ROOT prefixes every file it touches), with a PATH
holding only stub commands and the few real tools it needs (coreutils, grep, sed, awk, ssh-keygen): a command it
was not expected to run fails the test with "command not found". Stubs record every call in order; `apt-get`
fails while an outage file says so; `useradd`/`id` share a user list; `aide --init` writes a database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.config import parse_host_spec
from components.firstboot import HOST_KEY_PATH, PROVISION_SCRIPT, describe_first_boot
from tests.conftest import raw_config

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) missing")

STATE = "var/lib/hvps/first-boot.state"
RECORD = 'printf \'%s\\n\' "${0##*/} $*" >>"$HVPS_ROOT/.calls"\n'
STUBS = {
    "apt-get": RECORD + 'echo "${@: -1} needrestart-suspend=${NEEDRESTART_SUSPEND:-}" >>"$HVPS_ROOT/.apt-env"\n'
               '[ ! -e "$HVPS_ROOT/.apt-down" ]\n',
    "id": '[ "$#" -eq 1 ] && grep -qx "$1" "$HVPS_ROOT/.users" 2>/dev/null\n',
    "useradd": RECORD + 'echo "${@: -1}" >>"$HVPS_ROOT/.users"\n',
    "getent": 'exit 2\n',  # no such group: groupadd is called (as on a stock image)
    "sshd": RECORD + '[ ! -e "$HVPS_ROOT/.sshd-rejects" ]\n',
    "fallocate": RECORD + ': >"${@: -1}"\n',
    "aide": RECORD + 'case "$*" in *--init*) echo db >"$HVPS_ROOT/var/lib/aide/aide.db.new" ;; esac\n',
    "python3": RECORD + 'mkdir -p "${@: -1}/bin"\n',
    "systemd-detect-virt": RECORD + "exit 1\n",  # not a container
    "swapon": RECORD,  # prints no active swap
    # install as root would need the users: drop -o/-g, keep the rest (the real install writes the files)
    "install": 'a=(); while [ $# -gt 0 ]; do case $1 in -o|-g) shift 2 ;; *) a+=("$1"); shift ;; esac; done\n'
               'exec "$HVPS_REAL/install" "${a[@]}"\n',
}
RECORDED = ("groupadd", "usermod", "passwd", "visudo", "hostnamectl", "systemctl", "nft", "sysctl", "mount",
            "mkswap", "curl", "nginx", "chown", "sleep")
REAL = ("bash", "cat", "mv", "rm", "cp", "grep", "sed", "awk", "chmod", "ln", "mkdir", "date", "seq", "touch",
        "ssh-keygen")
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


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
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
    yield Host(root, env, root / PROVISION_SCRIPT.lstrip("/"), host_key)


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


def test_lockdown_needs_no_apt_and_starts_the_retry_timer(host: Host) -> None:
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [c for c in host.calls if c.startswith("apt-get")]
    assert_locked_down(host)
    assert host.state == "locked-down"
    assert host.calls[-2:] == ["systemctl daemon-reload", "systemctl enable --now hvps-provision.timer"]
    status = host.run("--status")
    assert status.returncode != 0 and status.stdout.strip() == "locked-down"


def test_apt_outage_keeps_the_host_locked_down_and_retries_with_backoff(host: Host) -> None:
    assert host.run().returncode == 0
    host.apt(up=False)
    for attempt, wait in ((1, 60), (2, 120), (3, 240)):
        result = host.run("--install")
        assert result.returncode == 1
        update = "apt-get -q -o Acquire::Languages=none update"
        assert host.state == f"installing attempt {attempt} failed: line {_line(host, update)}: " \
                             f"{update}; next in {wait}s"
        assert host.calls[-1] == f"sleep {wait}"  # the backoff, inside the attempt (the timer restarts it after)
    assert_locked_down(host)
    assert "systemctl disable --now hvps-provision.timer" not in host.calls
    assert host.run("--status").stdout.startswith("installing attempt 3 failed: ")

    host.apt(up=True)
    result = host.run("--install")
    assert result.returncode == 0, result.stdout + result.stderr
    assert host.state == "complete" and "hvps-provision: state: installing attempt 4" in result.stdout
    assert host.calls[-1] == "systemctl disable --now hvps-provision.timer"
    status = host.run("--status")
    assert status.returncode == 0 and status.stdout == "complete\n"


def test_a_second_full_run_changes_nothing(host: Host) -> None:
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    before = host.snapshot()
    assert before[STATE] == (0o644, "complete\n")
    assert host.run().returncode == 0
    result = host.run("--install")
    assert result.returncode == 0, result.stdout + result.stderr
    after = host.snapshot()
    assert after == before
    root = host.root
    assert (root / "etc/ssh/ssh_host_ed25519_key").read_text() == host.host_key  # never rotated
    fstab = (root / "etc/fstab").read_text().splitlines()
    assert sum(line.startswith("/swapfile ") for line in fstab) == 1
    assert sum(line.startswith("tmpfs /dev/shm ") for line in fstab) == 1
    defs = (root / "etc/login.defs").read_text().splitlines()
    for key in ("UMASK", "ENCRYPT_METHOD", "PASS_MAX_DAYS", "PASS_MIN_DAYS"):
        assert sum(line.split()[0] == key for line in defs) == 1, key
    assert "UMASK 027" in defs and "MAIL_DIR /var/mail" in defs
    calls = host.calls
    assert sum(c.startswith("fallocate ") for c in calls) == 1  # one swap file
    assert sum(c.startswith("aide ") and "--init" in c for c in calls) == 1  # the baseline is never reset
    assert sum(c.startswith("python3 -m venv") for c in calls) == 1


def test_the_sample_release_venv_is_made_without_pip(host: Host) -> None:
    """The sample app installs nothing: its venv sees Debian's gunicorn, and ensurepip is not run for it."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    venvs = [c for c in host.calls if c.startswith("python3 -m venv")]
    assert venvs == ["python3 -m venv --without-pip --system-site-packages "
                     f"{host.root}/srv/app/releases/sample/venv"]


def test_gives_up_after_24_hours(host: Host) -> None:
    assert host.run().returncode == 0
    (host.root / f"{STATE}.try").write_text(f"40 {int(time.time()) - 86_401}\n")
    host.apt(up=False)
    assert host.run("--install").returncode == 1
    assert host.state.startswith("failed: not complete after 24 h and 41 attempts: line ")
    assert host.calls[-1] == "systemctl disable --now hvps-provision.timer"
    assert not [c for c in host.calls if c.startswith("sleep")]


def test_a_rejected_sshd_drop_in_fails_lockdown_for_good(host: Host) -> None:
    (host.root / ".sshd-rejects").touch()
    assert host.run().returncode == 1
    assert host.state == "failed: lockdown: sshd -t rejected the hardening drop-in; it was set aside"
    assert (host.root / "root/sshd-hardening.rejected").exists()
    assert not [c for c in host.calls if c.startswith(("systemctl restart ssh", "systemctl enable"))]


def test_an_image_without_nft_keeps_the_vendor_firewall_and_says_so(host: Host) -> None:
    (Path(host.env["PATH"].split(":")[0]) / "nft").unlink()
    assert host.run().returncode == 0
    assert host.state.startswith("locked-down; no nft before apt: the vendor firewall alone")
    assert not [c for c in host.calls if "nftables" in c]
    (Path(host.env["PATH"].split(":")[0]) / "nft").write_text("#!/bin/bash\n" + RECORD)  # apt installed it
    (Path(host.env["PATH"].split(":")[0]) / "nft").chmod(0o755)
    assert host.run("--install").returncode == 0
    calls = host.calls
    assert first(calls, "apt-get") < first(calls, "nft -c -f") < first(calls, "systemctl restart nftables")


def test_an_invalid_pinned_host_key_fails_lockdown(host: Host) -> None:
    (host.root / HOST_KEY_PATH.lstrip("/")).write_text("not a key\n")
    assert host.run().returncode == 1
    assert host.state.startswith("failed: lockdown: ") and "is not a valid ed25519 private key" in host.state
    assert not [c for c in host.calls if c.startswith("systemctl restart ssh")]
    assert (host.root / "etc/ssh/ssh_host_rsa_key").exists()  # nothing replaced


def _line(host: Host, command: str) -> int:
    """The script's line number of `command` (bash reports it in the ERR trap)."""
    lines = host.script.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip() == command)


def test_first_boot_apt_skips_translated_descriptions(host: Host) -> None:
    """Every apt call of the install phase (update included) neither fetches nor parses Translation-* indexes."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    apt = [c for c in host.calls if c.startswith("apt-get")]
    assert len(apt) == 4 and apt[0].endswith(" update")
    assert all("-o Acquire::Languages=none" in c for c in apt), apt


def test_needrestart_stays_out_of_first_boots_apt_calls(host: Host) -> None:
    """needrestart's apt hook sees NEEDRESTART_SUSPEND when packages are added or removed after the full upgrade
    (nothing running uses their code), not on the upgrade itself (its restarts are wanted there)."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    assert (host.root / ".apt-env").read_text().splitlines() == [
        "update needrestart-suspend=", "full-upgrade needrestart-suspend=",
        "certbot needrestart-suspend=1", "--purge needrestart-suspend=1"]
