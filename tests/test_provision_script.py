"""First boot under stubs: the host is locked down before any apt call, an apt outage is retried with backoff, a
re-run changes nothing, each step and state is recorded. The script and its stubs: tests/provision_support.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components import firstboot
from components.firstboot import HOST_KEY_PATH, progress
from components.firstboot.settings import HARDENED_MOUNTS
from tests.provision_support import (
    NEEDS_SSH_KEYGEN,
    PROGRESS,
    RECORD,
    STATE,
    Host,
    assert_locked_down,
    enabled_units,
    first,
    make_host,
    script_line,
)

pytestmark = NEEDS_SSH_KEYGEN


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return make_host(tmp_path)


def test_lockdown_needs_no_apt_and_starts_the_retry_timer(host: Host) -> None:
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [c for c in host.calls if c.startswith("apt-get")]
    assert_locked_down(host)
    assert host.state == "locked-down"
    calls = host.calls
    # one reload, the first systemctl call (every file cloud-init wrote is loaded); the phase's units enabled
    # together at its end; then the timer, whose enable reloads before it starts
    assert calls[-2:] == ["systemctl enable --no-reload -q nftables", "systemctl enable -q --now hvps-provision.timer"]
    assert calls.count("systemctl daemon-reload") == 1 and first(calls, "systemctl") == calls.index(
        "systemctl daemon-reload")
    status = host.run("--status")
    assert status.returncode != 0 and status.stdout.strip() == "locked-down"


def test_lockdown_remounts_dev_shm_and_tmp_noexec_and_keeps_them_so_in_fstab(host: Host) -> None:
    """Each hardened mount point is remounted at once; its fstab line keeps the options for the next boots: the
    image's own line (a /tmp partition) gets them added, else a new line names what is mounted there (Debian's
    initramfs mounts /dev from `udev`: another source would make `mount -a` mount a second /dev over it)."""
    fstab = host.root / "etc/fstab"
    fstab.write_text(fstab.read_text() + "  # tmpfs /dev/shm tmpfs defaults 0 0\n/dev/vdb1\t/tmp  ext4 defaults 0 2\n")
    (host.root / ".mounts").write_text("/dev udev\n/dev/shm tmpfs\n/tmp /dev/vdb1\n")
    assert host.run().returncode == 0
    lines = fstab.read_text().splitlines()
    assert lines[1:] == ["  # tmpfs /dev/shm tmpfs defaults 0 0",
                         "/dev/vdb1 /tmp ext4 defaults,nosuid,nodev,noexec 0 2",
                         "udev /dev devtmpfs defaults,nosuid,noexec 0 0",
                         "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0"]
    for mount_point, _, options in HARDENED_MOUNTS:
        assert f"mount -o remount,{options} {mount_point}" in host.calls
    assert {p for p, _, o in HARDENED_MOUNTS if "noexec" in o} == {"/dev", "/dev/shm", "/tmp"}
    assert host.run().returncode == 0 and fstab.read_text().splitlines() == lines  # a second run: as it was


def test_apt_outage_keeps_the_host_locked_down_and_retries_with_backoff(host: Host) -> None:
    assert host.run().returncode == 0
    host.apt(up=False)
    for attempt, wait in ((1, 60), (2, 120), (3, 240)):
        result = host.run("--install")
        assert result.returncode == 1
        update = "apt-get -q -o Acquire::Languages=none update"
        assert host.state == f"installing attempt {attempt} failed: line {script_line(host, update)}: " \
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
    for mount_point, fs_type, options in HARDENED_MOUNTS:  # one line each, after any number of runs
        assert fstab.count(f"{fs_type} {mount_point} {fs_type} defaults,{options} 0 0") == 1, mount_point
    assert len(fstab) == 5  # the root, the swap file and the three hardened mounts
    defs = (root / "etc/login.defs").read_text().splitlines()
    for key in ("UMASK", "ENCRYPT_METHOD", "PASS_MAX_DAYS", "PASS_MIN_DAYS"):
        assert sum(line.split()[0] == key for line in defs) == 1, key
    assert "UMASK 027" in defs and "MAIL_DIR /var/mail" in defs
    calls = host.calls
    assert sum(c.startswith("fallocate ") for c in calls) == 1  # one swap file
    # systemd turns it on from the fstab line (the install phase's sandbox denies the swap calls): never swapon
    assert "systemctl start swapfile.swap" in calls
    assert not [c for c in calls if c.startswith("swapon") and c != "swapon --show=NAME --noheadings"]
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
        # a concern runs in its first phase; a later one of its own skips it (lockdown applied it: nft is here)
        return [f"{name}: {c.name}" for c in concerns if c.phases[0] == name]

    assert [e.text for e in events if e.kind == "step"] == \
        [*phase("lockdown"), *phase("serve"), "health check", *phase("deferred")]
    assert progress.states(events) == ["locking down", "locked-down", "installing attempt 1",
                                       "serving; deferred running", "complete"]
    times = [e.at_s for e in events]
    assert times == sorted(times) and times[0] > 0


def test_a_progress_record_that_cannot_be_written_never_fails_first_boot(host: Host) -> None:
    """The record is for timings and people: a write that fails (here its path is a directory) is skipped."""
    (host.root / PROGRESS).mkdir(parents=True)
    assert host.run().returncode == 0, host.state
    assert host.run("--install").returncode == 0, host.state
    assert host.state == "complete"


def test_install_turns_on_accounting_and_makes_the_build_user_before_the_baseline(host: Host) -> None:
    assert host.run().returncode == 0
    result = host.run("--install")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'ENABLED="true"' in (host.root / "etc/default/sysstat").read_text().splitlines()
    calls = host.calls
    assert "systemctl start sysstat acct" in calls and "acct" in enabled_units(calls)
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
                          "/var/lib/hvps/rejected")
    assert (host.root / "var/lib/hvps/rejected/10-hvps-hardening.conf").exists()
    assert not (host.root / "etc/ssh/sshd_config.d/10-hvps-hardening.conf").exists()
    assert not [c for c in host.calls if c.startswith(("systemctl restart ssh", "systemctl enable"))]


def test_an_invalid_pinned_host_key_fails_lockdown(host: Host) -> None:
    (host.root / HOST_KEY_PATH.lstrip("/")).write_text("not a key\n")
    assert host.run().returncode == 1
    assert host.state.startswith("failed: lockdown: ") and "is not a valid ed25519 private key" in host.state
    assert not [c for c in host.calls if c.startswith("systemctl restart ssh")]
    assert (host.root / "etc/ssh/ssh_host_rsa_key").exists()  # nothing replaced


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
    # the deferred phase's units are enabled together, before the baseline (their links in /etc are in it)
    enable = next(i for i, c in enumerate(calls) if c.startswith("systemctl enable") and "fail2ban" in c.split())
    assert {"hvps-integrity.timer", "acct", "unattended-upgrades"} <= set(calls[enable].split())
    assert enable < baseline
    assert not [c for c in calls[baseline:] if c.startswith(("systemctl enable", "systemctl start"))]


def test_a_swap_file_that_does_not_fit_leaves_no_file_and_first_boot_completes(host: Host) -> None:
    """fallocate fails on a full disk after creating the file: the half-made file is removed (a later run would
    take it for a swap file and fail to start it forever) and first boot goes on without swap."""
    (host.root / ".disk-full").touch()
    assert host.run().returncode == 0
    result = host.run("--install")
    assert result.returncode == 0 and host.state == "complete", result.stdout + result.stderr
    assert not (host.root / "swapfile").exists() and not (host.root / "swapfile.new").exists()
    assert "/swapfile" not in (host.root / "etc/fstab").read_text()
    assert "swap: 1024 MiB did not fit" in result.stdout
    assert not [c for c in host.calls if "swapfile.swap" in c]
