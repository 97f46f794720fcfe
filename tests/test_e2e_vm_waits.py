"""The harness's waits on a VM (e2e/vm.py), on a stand-in that scripts the serial console and the SSH answers:
no SSH probe goes out before cloud-init's 'finished' line (fail2ban would later ban the harness for the logins
that fail until first boot's lockdown installs the admin's key)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from e2e import vm as vm_module
from e2e.processes import VMError

FINISHED = ("Cloud-init v. 25.1 finished at Mon, 07 Dec 2026 07:55:00 +0000. Datasource DataSourceNoCloud.  "
            "Up 81.20 seconds\n")


class ScriptedVM(vm_module.VM):
    """A VM whose console grows one line per poll and whose SSH logins succeed from a given probe on."""

    def __init__(self, console: list[str], login_from: int = 0) -> None:  # no qemu, no work dir
        self.name, self.console, self.polls, self.probes, self.login_from = "scripted", console, 0, 0, login_from

    def serial_text(self, since_boot: bool = False) -> str:
        self.polls += 1
        return "".join(self.console[:self.polls])

    def running(self) -> bool:
        return True

    def since_power_on(self) -> float:
        return 1.0

    def ssh(self, user: str, key: Path | str, command: str, timeout: float = 120, check: bool = False,
            extra: list[str] | None = None) -> subprocess.CompletedProcess:
        self.probes += 1
        ok = self.probes > self.login_from
        return subprocess.CompletedProcess([], 0 if ok else 255, "", "" if ok else "Permission denied")


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vm_module.time, "sleep", lambda _s: None)


def test_no_ssh_probe_before_cloud_init_finished() -> None:
    vm = ScriptedVM(["booting\n", "cloud-init: locking down\n", FINISHED])
    assert vm.wait_ssh("deploy", "key", timeout=60) == 1.0
    assert vm.polls == 3 and vm.probes == 1          # the console was read until 'finished', then one login


def test_a_boot_that_never_finishes_gets_no_probe_and_says_so() -> None:
    vm = ScriptedVM(["booting\n"])
    with pytest.raises(VMError, match="cloud-init did not finish within 0s, so no ssh probe went out"):
        vm.wait_ssh("deploy", "key", timeout=0)
    assert vm.probes == 0
