"""Convergence under stubs (`hvps-provision --converge` with the converge bundle on stdin): only changed concerns are
written and activated, a refused file is restored, removed admin keys stop working, a newer provisioner converges
first. The script and its stubs: tests/provision_support.py."""

from __future__ import annotations

import base64
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from components import firstboot
from components.config import parse_host_spec
from components.firstboot.concerns import CONVERGE_CODE_PATH
from tests.conftest import ED25519_KEY, RSA_4096_KEY, raw_config
from tests.provision_support import (
    NEEDS_SSH_KEYGEN,
    Host,
    converge,
    make_host,
    mtimes,
    report,
)

pytestmark = NEEDS_SSH_KEYGEN


def first_booted(tmp_path: Path) -> Host:
    host = make_host(tmp_path)
    assert host.run().returncode == 0
    assert host.run("--install").returncode == 0, host.state
    (host.root / ".calls").unlink()
    return host


@pytest.fixture
def converged(tmp_path: Path) -> Host:
    """A host whose first boot completed and that the first converge (the same `pulumi up`) reached."""
    host = first_booted(tmp_path)
    result = converge(host, host.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    (host.root / ".calls").unlink()
    return host


SANDBOX_FILES = ("/etc/hvps/ssh-sandbox.conf", "/etc/polkit-1/rules.d/50-hvps-admin.rules", "/usr/local/bin/hvps-root")
SSHD_DROPIN = "etc/systemd/system/ssh.service.d/hvps-sandbox.conf"


def test_the_first_converge_sandboxes_sshd_once_the_admins_way_to_root_works(tmp_path: Path) -> None:
    """What only the converge delivers (ssh-sandbox: first-boot data has no room) arrives with the first one: the
    admin's way to root through PID 1 is proven under no_new_privs before sshd's drop-in is put in place and sshd
    restarts into it, then a loopback login with a throwaway key reaches root; the admin's keys are as they were."""
    host = first_booted(tmp_path)
    keys = host.root / "home/deploy/.ssh/authorized_keys"
    before = keys.read_text()
    result = converge(host, host.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = report(result)
    assert verdicts.pop("provisioner") == "changed: /usr/local/sbin/hvps-provision,/etc/hvps/concerns"
    assert verdicts.pop("ssh-sandbox") == "changed: " + ",".join(SANDBOX_FILES)
    assert set(verdicts.values()) == {"unchanged"}
    calls = host.calls
    escape = next(i for i, c in enumerate(calls) if c.startswith("setpriv ") and "--no-new-privs" in c)
    assert "install --no-install-recommends polkitd" in calls[escape - 1]
    assert calls[escape].endswith("--init-groups --no-new-privs /usr/local/bin/hvps-root id -u")
    assert calls[escape + 1:escape + 3] == ["systemctl daemon-reload", "systemctl restart ssh"]
    assert calls[escape + 3].startswith("ssh -i ") and calls[escape + 3].endswith(" deploy@127.0.0.1 true")
    assert (host.root / SSHD_DROPIN).read_text() == (host.root / "etc/hvps/ssh-sandbox.conf").read_text()
    assert keys.read_text() == before  # the throwaway key is gone again


@pytest.mark.parametrize("failure", [".polkit-denies", ".login-fails"])
def test_sshd_is_left_without_its_sandbox_when_the_admin_could_not_reach_root(tmp_path: Path, failure: str) -> None:
    """Fail closed: polkit refusing the admin (no way to root once sudo is gone), or a login through the
    sandboxed sshd not reaching root, refuses the concern; its files are removed, sshd's drop-in too, and sshd
    restarts without it."""
    host = first_booted(tmp_path)
    keys = host.root / "home/deploy/.ssh/authorized_keys"
    before = keys.read_text()
    (host.root / failure).touch()
    result = converge(host, host.spec)
    assert result.returncode != 0
    assert report(result)["ssh-sandbox"] == "refused: activation failed (previous files kept)"
    assert not [p for p in SANDBOX_FILES if (host.root / p.lstrip("/")).exists()]
    assert not (host.root / SSHD_DROPIN).exists()
    calls = host.calls
    assert calls.count("systemctl restart ssh") == 2  # the second is the restore's, without the drop-in
    assert keys.read_text() == before


def test_a_later_broken_proof_takes_the_sandbox_off_again(converged: Host) -> None:
    """A converged host whose way to root stops working at its next sandbox change: sshd restarts without it."""
    assert (converged.root / SSHD_DROPIN).exists()
    (converged.root / "etc/hvps/ssh-sandbox.conf").write_text("# an older drop-in\n[Service]\n")
    (converged.root / ".polkit-denies").touch()
    result = converge(converged, converged.spec)
    assert report(result)["ssh-sandbox"] == "refused: activation failed (previous files kept)"
    assert not (converged.root / SSHD_DROPIN).exists()
    assert [c for c in converged.calls if c.startswith(("setpriv ", "systemctl restart ssh"))][-1] == \
        "systemctl restart ssh"  # after the last proof: sshd runs without the drop-in


def test_converging_to_what_the_host_has_writes_and_activates_nothing(converged: Host) -> None:
    before, times = converged.snapshot(), mtimes(converged)
    result = converge(converged, converged.spec)
    assert result.returncode == 0, result.stdout + result.stderr
    applying = [c.name for c in firstboot.concerns_for(converged.spec, converge=True)]
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




@pytest.mark.parametrize("upgrading", [False, True])
def test_the_updates_concern_restarts_the_waiting_unit_only_between_upgrades(converged: Host, upgrading: bool) -> None:
    """A new sandbox reaches unattended-upgrades.service when it restarts; restarting it while an upgrade runs
    (its pid file in /run) would ask that upgrade to stop and wait for it, so the converge leaves it then."""
    if upgrading:
        (converged.root / "run").mkdir(exist_ok=True)
        (converged.root / "run/unattended-upgrades.pid").write_text("4242\n")
    result = converge(converged, replace(converged.spec, reboot_window="03:00"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert report(result)["updates"].startswith("changed: ")
    restarted = "systemctl restart unattended-upgrades" in converged.calls
    assert restarted is not upgrading, converged.calls


@pytest.mark.parametrize("newer_provisioner", [False, True])
def test_a_bundle_without_the_converge_code_fails_and_changes_nothing(converged: Host, newer_provisioner: bool) -> None:
    """The converge's code comes only with the bundle (first boot never carries it): a bundle without it is
    refused before anything is installed, the provisioner it brings included."""
    spec = replace(converged.spec, swap_size_mb=2048) if newer_provisioner else converged.spec
    files = firstboot.converge_files(spec)
    without = replace(files, files=tuple(f for f in files.files if f.path != CONVERGE_CODE_PATH))
    before = converged.snapshot()
    result = subprocess.run(["bash", str(converged.script), "--converge"],
                            input=base64.b64encode(firstboot.bundle(without)).decode(), env=converged.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "the bundle has no converge code" in result.stderr
    assert report(result) == {}
    after = {p: v for p, v in converged.snapshot().items() if not p.startswith("var/lib/hvps/staged")}
    assert after == before  # only the staged bundle is left, root's alone; the next converge starts it anew


def test_a_firewall_converge_restarts_fail2ban_which_restores_its_bans(converged: Host) -> None:
    """nftables.conf starts with `flush ruleset`, which drops fail2ban's table with its bans: after nftables
    restarts, a running fail2ban is restarted too (it re-creates its table and restores its bans)."""
    wider = replace(converged.spec, ssh_allowed_cidrs=(*converged.spec.ssh_allowed_cidrs, "198.51.100.0/24"))
    result = converge(converged, wider)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report(result)["host-firewall"].startswith("changed: /etc/nftables.conf")
    calls = converged.calls
    assert calls.index("systemctl try-restart fail2ban") > calls.index("systemctl restart nftables")


def test_a_converge_reloads_systemd_only_for_changed_unit_files_before_activating(converged: Host) -> None:
    """Activations enable without a reload: the converge reloads systemd after writing a concern's changed unit
    files (here fail2ban's sandbox drop-in) and before activating them (and after restoring refused ones); a
    concern whose changed files are no units (the apt configuration) is activated without one (its enable
    reloads: see the next test)."""
    spec = replace(converged.spec, reboot_window="03:00")
    result = converge(converged, spec)
    assert result.returncode == 0 and report(result)["updates"].startswith("changed: /etc/apt/")
    assert "systemctl daemon-reload" not in converged.calls
    (converged.root / ".calls").unlink()

    dropin = "etc/systemd/system/fail2ban.service.d/hvps-sandbox.conf"
    (converged.root / dropin).write_text("# edited by hand\n")
    result = converge(converged, spec)
    assert result.returncode == 0 and report(result)["intrusion-bans"] == f"changed: /{dropin}"
    calls = converged.calls
    assert calls[:3] == ["systemctl daemon-reload", "systemctl restart fail2ban", "systemctl enable -q fail2ban"]


def test_a_converge_enables_a_concerns_units_at_once_with_the_reload(converged: Host) -> None:
    """First boot enables a phase's units together without a reload; a converge has no phase end: it enables
    each unit of an activated concern at once, with systemd's reload, whether or not it is enabled already (an
    [Install] section the bundle changed gets its links), after starting it."""
    (converged.root / "etc/systemd/system/app.socket").write_text("# edited by hand\n")
    result = converge(converged, converged.spec)
    assert result.returncode == 0 and report(result)["app-runtime"] == "changed: /etc/systemd/system/app.socket"
    calls = converged.calls
    assert calls[0] == "systemctl daemon-reload"
    assert calls.index("systemctl restart app.service") < calls.index("systemctl enable -q app.socket app.service")
    assert not [c for c in calls if "--no-reload" in c]
