"""The boot-speed comparison's pure parts (e2e/bootspeed.py): the bare baseline, the guest-log parsing, the ratio."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from components.firstboot import wire
from e2e import bootspeed

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl e2e"


def test_bare_boot_makes_the_admin_with_its_key_and_installs_nginx_only() -> None:
    text = bootspeed.bare_cloud_config("deploy", KEY)
    doc = yaml.safe_load(text)
    assert wire.form_of(text) == "cloud-config"
    assert doc["packages"] == ["nginx"]
    assert doc["users"] == [{"name": "deploy", "shell": "/bin/bash", "lock_passwd": True,
                             "sudo": "ALL=(ALL) NOPASSWD:ALL", "ssh_authorized_keys": [KEY]}]
    assert set(doc) == {"ssh_pwauth", "users", "packages"}


@pytest.mark.skipif(shutil.which("cloud-init") is None, reason="Debian package cloud-init not installed")
def test_bare_boot_passes_cloud_init_schema(tmp_path) -> None:
    path = tmp_path / "user-data"
    path.write_text(bootspeed.bare_cloud_config("deploy", KEY))
    result = subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "Valid" in result.stdout, result.stdout + result.stderr


# The guest's clock: epoch 1000100.0 at uptime 100.0, so the kernel started at epoch 1000000 (1970-01-12 13:46:40).
GUEST = """1000100.000
100.00
@@progress
10.50	state	locking down
11.00	step	lockdown: hostname
13.00	step	lockdown: admin-and-ssh
20.00	state	locked-down
30.00	step	serve: packages
70.00	step	serve: swap
90.00	state	complete
@@journal
1000041.0 e2e-vm hvps-provision[9]: Fetched 12.5 MB in 3s (4,100 kB/s)
@@history

Start-Date: 1970-01-12  13:47:15
Commandline: apt-get -y -q -o Dpkg::Options::=--force-confdef install --no-install-recommends nginx
End-Date: 1970-01-12  13:47:55
@@dpkg
1970-01-12 13:47:20 install nginx:amd64 <none> 1.26
1970-01-12 13:47:30 trigproc man-db:amd64 2.13 <none>
1970-01-12 13:47:42 status installed man-db:amd64 2.13
1970-01-12 13:47:50 trigproc libc-bin:amd64 2.41 <none>
1970-01-12 13:47:51 status installed libc-bin:amd64 2.41
@@blame
12.3s cloud-final.service
@@cloud-init
     30.1s (modules-final/config-scripts_user) config-scripts_user
"""


def test_timeline_puts_steps_apt_and_triggers_on_the_boot_clock() -> None:
    tl = bootspeed.timeline(GUEST)
    assert tl["steps"] == [
        {"step": "lockdown: hostname", "start_s": 11.0, "seconds": 2.0},
        {"step": "lockdown: admin-and-ssh", "start_s": 13.0, "seconds": 17.0},
        {"step": "serve: packages", "start_s": 30.0, "seconds": 40.0},
        {"step": "serve: swap", "start_s": 70.0, "seconds": 20.0},       # until the state says complete
    ]
    assert [s["state"] for s in tl["states"]] == ["locking down", "locked-down", "complete"]
    assert tl["apt"] == [{"start_s": 35.0, "command": "apt-get -y -q install --no-install-recommends nginx",
                          "seconds": 40.0}]
    assert tl["fetched"] == [{"at_s": 41.0, "fetched": "12.5 MB", "in": "3s"}]
    assert tl["triggers"] == {"man-db": 12, "libc-bin": 1}
    assert tl["systemd_blame"] == ["12.3s cloud-final.service"]
    assert tl["cloud_init_blame"] == ["30.1s (modules-final/config-scripts_user) config-scripts_user"]


def test_comparison_takes_the_later_of_healthy_and_locked_down() -> None:
    bare = {"healthy_s": 80.0}
    r = bootspeed.compare(bare, {"healthy_s": 100.0, "locked_down_s": 130.0, "complete_s": 300.0})
    assert r.figures["ratio_healthy_and_locked_down"] == 1.62 and not r.figures["within_target"]
    assert r.figures["ratio_complete"] == 3.75
    fast = bootspeed.compare(bare, {"healthy_s": 110.0, "locked_down_s": 60.0, "complete_s": 200.0})
    assert fast.figures["ratio_healthy_and_locked_down"] == 1.38 and fast.figures["within_target"]


def test_report_row_fails_when_the_stack_boot_was_not_timed() -> None:
    from e2e.reporting import boot_speed_result
    bare = {"healthy_s": 80.0}
    broken = boot_speed_result(bare, {"form": "cloud-config", "timings": {"locked_down_s": 140.0},
                                      "error": "VMError: not complete"})
    assert not broken["ok"] and "VMError: not complete" in broken["error"] and broken["checks"] == []
    row = boot_speed_result(bare, {"form": "cloud-config",
                                   "timings": {"healthy_s": 100.0, "locked_down_s": 90.0, "complete_s": 250.0}})
    assert row["ok"] and [c["name"] for c in row["checks"]] == ["first_boot_vs_bare_boot"]
    assert row["checks"][0]["figures"]["ratio_healthy_and_locked_down"] == 1.25
