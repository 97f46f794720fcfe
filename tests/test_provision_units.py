"""First boot and systemd under stubs: the reloads it needs (each about 3 s in the TCG VM), the units each phase
enables together at its end, and the host firewall that lockdown applies when the image has nft, else serve.
The script and its stubs: tests/provision_support.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provision_support import NEEDS_SSH_KEYGEN, RECORD, Host, enabled_units, first, make_host

pytestmark = NEEDS_SSH_KEYGEN


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return make_host(tmp_path)


def test_an_image_without_nft_keeps_the_vendor_firewall_and_says_so(host: Host) -> None:
    (Path(host.env["PATH"].split(":")[0]) / "nft").unlink()
    assert host.run().returncode == 0
    assert host.state == "locked-down; the vendor firewall alone until apt installs nftables"
    assert not [c for c in host.calls if "nftables" in c]
    (Path(host.env["PATH"].split(":")[0]) / "nft").write_text("#!/bin/bash\n" + RECORD)  # apt installed it
    (Path(host.env["PATH"].split(":")[0]) / "nft").chmod(0o755)
    assert host.run("--install").returncode == 0
    calls = host.calls
    assert first(calls, "apt-get") < first(calls, "nft -c -f") < first(calls, "systemctl restart nftables")
    assert "nftables" in enabled_units(calls)


def test_a_retry_after_serve_failed_enables_the_firewall_serve_applied(host: Host) -> None:
    """Without nft at lockdown the firewall is serve's: it is restarted there and enabled with the phase's units
    at its end. When a later concern of serve fails, that enable never ran, so the retry must run the firewall
    again (its digest is recorded only once the phase's units are enabled), or nftables is off after a reboot."""
    nft = Path(host.env["PATH"].split(":")[0]) / "nft"
    nft.unlink()
    assert host.run().returncode == 0
    nft.write_text("#!/bin/bash\n" + RECORD)  # apt installed it
    nft.chmod(0o755)
    python3 = Path(host.env["PATH"].split(":")[0]) / "python3"
    stub = python3.read_text()
    python3.write_text("#!/bin/bash\nexit 1\n")  # the app's venv fails: serve stops after the firewall
    result = host.run("--install")
    assert result.returncode == 1 and "python3 -m venv" in host.state, host.state
    assert "systemctl restart nftables" in host.calls and "nftables" not in enabled_units(host.calls)
    python3.write_text(stub)
    (host.root / ".calls").unlink()
    assert host.run("--install").returncode == 0, host.state
    assert "systemctl restart nftables" in host.calls and "nftables" in enabled_units(host.calls)


def test_the_install_phase_reloads_systemd_only_for_swap_and_enables_each_unit_once_per_phase(host: Host) -> None:
    """A reload costs about 3 s in the TCG VM (`systemctl enable` does one, with a SysV script three): lockdown
    loaded every file cloud-init wrote and apt's package scripts reload for theirs, so the install phase reloads
    only for the swap unit systemd makes from the fstab line (and the timer's disable at the end). Each phase
    enables its units together at its end, after starting them, without a reload (after such an enable every
    start warns until a reload), each unit once. nftables, applied at lockdown with the image's nft, is not
    restarted by the serve phase that lists it again (it restarts there only when lockdown could not apply it)."""
    assert host.run().returncode == 0
    (host.root / ".calls").unlink()
    assert host.run("--install").returncode == 0, host.state
    calls = host.calls
    (swap,) = [i for i, c in enumerate(calls) if c == "systemctl daemon-reload"]
    assert first(calls, "mkswap") < swap < calls.index("systemctl start swapfile.swap")
    assert not [c for c in calls if "nftables" in c and c.startswith("systemctl")]
    enables = [i for i, c in enumerate(calls) if c.startswith("systemctl enable")]
    assert all(calls[i].startswith("systemctl enable --no-reload -q ") for i in enables)
    serve, deferred = enables  # one per phase, after its last start and before the next phase's packages
    starts = [i for i, c in enumerate(calls) if c.startswith(("systemctl start", "systemctl restart",
                                                               "systemctl reload-or-restart"))]
    installs = [i for i, c in enumerate(calls) if c.startswith("apt-get") and " install " in c]
    assert max(i for i in starts if i < installs[1]) < serve < installs[1] < deferred
    # the deferred units are enabled before the integrity baseline (their links are in /etc, which AIDE watches)
    assert max(starts) < deferred < first(calls, "aide -c /etc/aide/aide.conf --init")
    assert calls[-1] == "systemctl disable --now hvps-provision.timer"  # its reload ends the no-reload enables
    enabled = enabled_units(calls)
    assert len(enabled) == len(set(enabled)) and {"app.socket", "app.service", "nginx", "fail2ban"} <= set(enabled)
