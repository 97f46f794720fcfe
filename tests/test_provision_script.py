"""provision.sh fails closed: the host is locked down before any apt call, an apt outage is retried, re-runs are no-ops.

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
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from components import firstboot
from components.config import HostSpec, parse_host_spec
from components.firstboot import HOST_KEY_PATH, PROVISION_SCRIPT, describe_first_boot, progress
from tests.conftest import ED25519_KEY, RSA_4096_KEY, raw_config

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) missing")

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
    "fallocate": RECORD + ': >"${@: -1}"\n',
    "aide": RECORD + 'case "$*" in *--init*) echo db >"$HVPS_ROOT/var/lib/aide/aide.db.new" ;; esac\n',
    # `python3 -c` is the wire format's unpack step (converge): the real interpreter; `-m venv` is stubbed
    "python3": f'[ "$1" != -c ] || exec {shlex.quote(sys.executable)} "$@"\n' + RECORD + 'mkdir -p "${@: -1}/bin"\n',
    "systemd-detect-virt": RECORD + "exit 1\n",  # not a container
    "swapon": RECORD,  # prints no active swap
    # install as root would need the users: drop -o/-g, keep the rest (the real install writes the files)
    "install": 'a=(); while [ $# -gt 0 ]; do case $1 in -o|-g) shift 2 ;; *) a+=("$1"); shift ;; esac; done\n'
               'exec "$HVPS_REAL/install" "${a[@]}"\n',
}
RECORDED = ("groupadd", "usermod", "passwd", "visudo", "hostnamectl", "systemctl", "nft", "sysctl", "mount",
            "mkswap", "curl", "nginx", "chown", "sleep")
REAL = ("bash", "cat", "mv", "rm", "cp", "grep", "sed", "awk", "chmod", "ln", "mkdir", "date", "seq", "touch",
        "ssh-keygen", "tar", "gzip", "base64", "cmp", "stat", "find")
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
    yield Host(root, env, root / PROVISION_SCRIPT.lstrip("/"), host_key, spec)


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
    calls = host.calls
    assert calls[-1] == "systemctl enable --now hvps-provision.timer"
    assert first(calls, "systemctl daemon-reload") < len(calls) - 1  # the provisioner's units are loaded
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
    assert host.state == "complete" and "installing attempt 4" in progress.states(host.progress)
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
    # the progress record is the one file a run adds to: the first run's events stay as they were
    first, second = before.pop(PROGRESS), after.pop(PROGRESS)
    assert second[1].startswith(first[1]) and len(second[1]) > len(first[1])
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


def test_the_progress_record_holds_every_step_and_state_in_order(host: Host) -> None:
    """The record the VM proof times first boot by: each phase's concerns as the manifest orders them, the health
    check between serve and deferred, each state, all on the boot's clock."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    events = host.progress
    concerns = firstboot.concerns_for(host.spec)

    def phase(name: str) -> list[str]:
        return [f"{name}: {c.name}" for c in concerns if name in c.phases]

    assert [e.text for e in events if e.kind == "step"] == \
        [*phase("lockdown"), *phase("serve"), "health check", *phase("deferred")]
    assert progress.states(events) == ["locking down", "locked-down", "installing attempt 1",
                                       "serving; deferred running", "complete"]
    times = [e.at_s for e in events]
    assert times == sorted(times) and times[0] > 0


def test_install_turns_on_accounting_and_makes_the_build_user_before_the_baseline(host: Host) -> None:
    assert host.run().returncode == 0
    result = host.run("--install")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'ENABLED="true"' in (host.root / "etc/default/sysstat").read_text().splitlines()
    calls = host.calls
    assert "systemctl enable --now sysstat acct" in calls
    build_user = calls.index("useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "
                             "--user-group hvps-build")
    assert build_user < next(i for i, c in enumerate(calls) if c.startswith("aide ") and "--init" in c)


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
    assert host.state == ("failed: lockdown: admin-and-ssh: validation failed; its files were set aside in "
                          "/root/hvps-rejected")
    assert (host.root / "root/hvps-rejected/10-hvps-hardening.conf").exists()
    assert not (host.root / "etc/ssh/sshd_config.d/10-hvps-hardening.conf").exists()
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


# --- convergence: `hvps-provision --converge` with base64(converge_bundle(spec)) on stdin --------------------

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


@pytest.fixture
def converged(host: Host) -> Host:
    """A host whose first boot completed."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0, host.state
    (host.root / ".calls").unlink()
    return host


def test_converging_to_what_first_boot_wrote_writes_and_activates_nothing(converged: Host) -> None:
    before, times = converged.snapshot(), mtimes(converged)
    result = converge(converged, converged.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    applying = [c.name for c in firstboot.concerns_for(converged.spec)]
    assert report(result) == dict.fromkeys(applying, "unchanged")
    assert converged.calls == []  # no validation, no activation, no restart
    assert converged.snapshot() == before and mtimes(converged) == times


def test_one_changed_setting_activates_only_its_concern_then_nothing(converged: Host, monkeypatch) -> None:
    settings = tuple((k, "1" if k == "kernel.sysrq" else v) for k, v in firstboot.SYSCTL_SETTINGS)
    monkeypatch.setattr(firstboot.values, "SYSCTL_SETTINGS", settings)
    result = converge(converged, converged.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = report(result)
    assert verdicts.pop("kernel-and-limits") == "changed: /etc/sysctl.d/90-hvps-hardening.conf"
    assert set(verdicts.values()) == {"unchanged"}
    assert "kernel.sysrq = 1" in (converged.root / "etc/sysctl.d/90-hvps-hardening.conf").read_text()
    assert converged.calls[0] == "sysctl -q --system"
    assert not [c for c in converged.calls if c.startswith(("systemctl", "nginx", "sshd", "nft", "apt-get"))]
    (converged.root / ".calls").unlink()

    before, times = converged.snapshot(), mtimes(converged)
    again = converge(converged, converged.spec)
    assert again.returncode == 0 and set(report(again).values()) == {"unchanged"}
    assert converged.calls == [] and converged.snapshot() == before and mtimes(converged) == times


def test_a_rejected_file_is_restored_and_the_run_fails_after_the_other_concerns(converged: Host, monkeypatch) -> None:
    drop_in = converged.root / "etc/ssh/sshd_config.d/10-hvps-hardening.conf"
    previous = drop_in.read_text()
    options = tuple((k, "4" if k == "MaxAuthTries" else v) for k, v in firstboot.SSHD_OPTIONS)
    monkeypatch.setattr(firstboot.values, "SSHD_OPTIONS", options)
    settings = tuple((k, "1" if k == "kernel.sysrq" else v) for k, v in firstboot.SYSCTL_SETTINGS)
    monkeypatch.setattr(firstboot.values, "SYSCTL_SETTINGS", settings)
    (converged.root / ".sshd-rejects").touch()
    result = converge(converged, converged.spec)
    assert result.returncode != 0
    verdicts = report(result)
    assert verdicts["admin-and-ssh"] == "refused: validation failed (previous files kept)"
    assert verdicts["kernel-and-limits"].startswith("changed: ")  # the run went on with the other concerns
    assert drop_in.read_text() == previous and "MaxAuthTries 3" in previous
    assert "systemctl restart ssh" in converged.calls  # the previous files re-activated


def test_a_removed_admin_key_stops_being_authorized(converged: Host) -> None:
    keys = converged.root / "home/deploy/.ssh/authorized_keys"
    two_keys = parse_host_spec(raw_config(sshPublicKeys=[ED25519_KEY, RSA_4096_KEY])).ssh_keys
    two = replace(converged.spec, ssh_keys=two_keys)
    result = converge(converged, two)
    assert report(result)["admin-and-ssh"] == "changed: /etc/hvps/admin_authorized_keys"
    assert "new@example" in keys.read_text()
    result = converge(converged, converged.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    assert keys.read_text() == ED25519_KEY + "\n"


def test_a_newer_provisioner_is_installed_first_and_converges(converged: Host) -> None:
    bigger = replace(converged.spec, swap_size_mb=2048)
    result = converge(converged, bigger)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = report(result)
    assert verdicts.pop("provisioner").startswith("changed: /usr/local/sbin/hvps-provision,")
    assert verdicts.pop("swap") == "changed: (activation)"  # no file of its own: its steps changed
    assert set(verdicts.values()) == {"unchanged"}
    assert "2048" in converged.script.read_text()


def test_a_concern_that_no_longer_applies_is_not_retired(converged: Host) -> None:
    """As documented (concerns.py, README): unsetting `domain` converges the rest; tls's files and timer stay."""
    tls_files = [converged.root / p.lstrip("/") for p in firstboot.concern_paths(
        next(c for c in firstboot.CONCERNS if c.name == "tls"), converged.spec)]
    assert tls_files and all(p.exists() for p in tls_files)
    result = converge(converged, replace(converged.spec, domain=None, acme_email=None))
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = report(result)
    assert "tls" not in verdicts and verdicts["nginx"].startswith("changed: ")
    assert all(p.exists() for p in tls_files)
    assert not [c for c in converged.calls if "hvps-tls" in c]  # its timer neither started nor stopped


def test_first_boot_apt_skips_translated_descriptions(host: Host) -> None:
    """Every apt call of the install phase (update included) neither fetches nor parses Translation-* indexes."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    apt = [c for c in host.calls if c.startswith("apt-get")]
    assert len(apt) == 5 and apt[0].endswith(" update")
    assert all("-o Acquire::Languages=none" in c for c in apt), apt


def test_needrestart_stays_out_of_first_boots_apt_calls(host: Host) -> None:
    """needrestart's apt hook sees NEEDRESTART_SUSPEND when packages are added (serve, then deferred) or removed,
    not on the full upgrade (deferred, after the installs): its scan of every process there catches anything the
    installs left running on replaced libraries, and its restarts are wanted."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0
    serve, deferred = (firstboot.packages_for(host.spec, phase)[-1] for phase in ("serve", "deferred"))
    assert (host.root / ".apt-env").read_text().splitlines() == [
        "update needrestart-suspend=", f"{serve} needrestart-suspend=1", f"{deferred} needrestart-suspend=1",
        "full-upgrade needrestart-suspend=", "--purge needrestart-suspend=1"]


def test_the_metadata_group_exists_before_nft_checks_the_ruleset_that_names_it(host: Host) -> None:
    """nftables.conf names the group hvps-metadata; `nft -c` refuses a ruleset naming an unknown group, which
    failed lockdown in the VM when the group was made only at activation (after validation)."""
    assert host.run().returncode == 0, host.state
    calls = host.calls
    group = calls.index("groupadd --system hvps-metadata")
    check = next(i for i, c in enumerate(calls) if c.startswith("nft -c -f"))
    assert group < check, calls


def test_a_converge_refreshes_the_integrity_baseline_for_what_it_wrote_only(converged: Host, monkeypatch) -> None:
    """AIDE's baseline follows the converge's own writes (limited to the paths written since it started), so the
    daily check does not report a deploy; an edit made before the converge stays out of the limit, and a
    converge that changes nothing runs no AIDE at all."""
    (converged.root / "etc/tampered.conf").write_text("changed by hand before the converge\n")
    time.sleep(0.05)
    settings = tuple((k, "1" if k == "kernel.sysrq" else v) for k, v in firstboot.SYSCTL_SETTINGS)
    monkeypatch.setattr(firstboot.values, "SYSCTL_SETTINGS", settings)
    result = converge(converged, converged.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    (update,) = [c for c in converged.calls if c.startswith("aide ")]
    limit = update.split("--limit ", 1)[1]
    assert update.startswith("aide -c /etc/aide/aide.conf --update --limit ")
    assert "|/etc/sysctl\\.d/90-hvps-hardening\\.conf)" in limit and "tampered" not in limit, limit
    (converged.root / ".calls").unlink()
    assert converge(converged, converged.spec).returncode == 0
    assert not [c for c in converged.calls if c.startswith("aide ")]


def test_first_boot_completes_where_the_vendor_agent_is_not_installed(host: Host) -> None:
    """do-agent's drop-in is written wherever monitoring is on, but the agent may not be installed (yet): systemd
    refuses try-restart of a unit it does not know, which failed the deferred phase in the VM."""
    assert "vendor-agent" in [c.name for c in firstboot.concerns_for(host.spec)]
    systemctl = Path(host.env["PATH"].split(":")[0]) / "systemctl"
    systemctl.write_text("#!/bin/bash\n" + RECORD + 'case "$*" in *do-agent*) exit 5 ;; esac\n')
    assert host.run().returncode == 0
    result = host.run("--install")
    assert result.returncode == 0 and host.state == "complete", result.stdout + result.stderr
    assert "systemctl cat do-agent.service" in host.calls
    assert not [c for c in host.calls if c.startswith("systemctl try-restart do-agent")]


def test_the_integrity_baseline_is_taken_after_every_other_activation(host: Host) -> None:
    """AIDE's baseline is the finished host: taken after the deferred activations (units enabled, sysstat
    switched on), which it otherwise reported as changes on a fresh host's first check (32 in the VM)."""
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0, host.state
    calls = host.calls
    baseline = first(calls, "aide -c /etc/aide/aide.conf --init")
    for later in ("systemctl enable --now hvps-integrity.timer", "systemctl enable --now sysstat acct",
                  "systemctl enable fail2ban", "systemctl enable --now unattended-upgrades"):
        assert first(calls, later) < baseline, later
