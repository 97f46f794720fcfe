"""The VM checks witness what they name (e2e/checks.py): fed the answers of a host where the named thing did NOT
happen, each fails. A stand-in VM answers ssh commands and HTTP as recorded; the real VM run is `make e2e`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from components.firstboot import AS_ROOT
from e2e import checks, web_checks

Answer = tuple[int, str, str]


class FakeVM:
    """ssh answers chosen by (user, a substring of the command); http_get answers one status."""

    def __init__(self, answers: dict[tuple[str, str], Answer], http: int | Exception = 200):
        self.answers, self.http = answers, http
        self.commands: list[tuple[str, str]] = []
        self.ports = {22: 2222, 80: 8080}

    def ssh(self, user: str, _key: object, command: str, timeout: float = 120, **_kw: object) -> \
            subprocess.CompletedProcess:
        self.commands.append((user, command))
        for (who, part), (rc, out, err) in self.answers.items():
            if who == user and part in command:
                return subprocess.CompletedProcess(command, rc, out, err)
        return subprocess.CompletedProcess(command, 0, "", "")

    def http_get(self, *_a: object, **_kw: object) -> tuple[int, dict[str, str], bytes]:
        if isinstance(self.http, Exception):
            raise self.http
        return self.http, {}, b""


@pytest.fixture
def key(tmp_path: Path) -> Path:
    k = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)], check=True)
    return k


BANNED: Answer = (255, "", "kex_exchange_identification: Connection closed by remote host")


@pytest.mark.parametrize("ssh_answer, http, ok", [
    (BANNED, 200, True),
    ((255, "", "deploy@127.0.0.1: Permission denied (publickey)."), 200, False),     # refused, not banned
    (BANNED, ConnectionRefusedError("refused"), False),                             # the whole host is gone
    ((0, "", ""), 200, False),                                                       # still logs in
])
def test_the_ban_is_a_cut_connection_on_a_host_that_still_serves(
        key: Path, ssh_answer: Answer, http: int | Exception, ok: bool) -> None:
    vm = FakeVM({("deploy", "true"): ssh_answer}, http=http)
    assert checks.fail2ban_banned_harness(vm, "deploy", key).ok is ok  # type: ignore[arg-type]


@pytest.mark.parametrize("root_answer, plant_rc, ok", [
    ((255, "", "root@127.0.0.1: Permission denied (publickey)."), 0, True),
    ((255, "", "ssh: connect to host 127.0.0.1 port 2222: Connection refused"), 0, False),  # no refusal shown
    ((255, "", "root@127.0.0.1: Permission denied (publickey)."), 1, False),   # root never authorized the key
    ((0, "", ""), 0, False),
])
def test_root_is_refused_with_a_key_root_authorizes(key: Path, root_answer: Answer, plant_rc: int, ok: bool) -> None:
    vm = FakeVM({("root", "true"): root_answer, ("deploy", "authorized_keys >/dev/null"): (plant_rc, "", "")})
    assert checks.ssh_root_refused(vm, "deploy", key).ok is ok  # type: ignore[arg-type]
    assert ("deploy", f"{AS_ROOT} rm -f /root/.ssh/authorized_keys") in vm.commands


UU = ("install ok installed\nAPT::Periodic::Unattended-Upgrade \"1\";\nAPT::Periodic::Update-Package-Lists \"1\";\n"
      "{timers}\nUnattended-Upgrade::Origins-Pattern:: \"origin=Debian,codename=${{distro_codename}},"
      "label=Debian-Security\";\n")


@pytest.mark.parametrize("timers, ok", [("enabled\nenabled", True), ("disabled\ndisabled", False),
                                        ("enabled\ndisabled", False)])
def test_unattended_upgrades_needs_both_timers_enabled(key: Path, timers: str, ok: bool) -> None:
    vm = FakeVM({("deploy", "unattended-upgrades"): (0, UU.format(timers=timers), "")})
    assert checks.unattended_upgrades(vm, "deploy", key).ok is ok  # type: ignore[arg-type]


def _nmap(rows: str) -> Callable[..., subprocess.CompletedProcess]:
    xml = f"<nmaprun><host><ports>{rows}</ports></host></nmaprun>"
    return lambda cmd, **_kw: subprocess.CompletedProcess(cmd, 0, xml, "")


SSH_ROW = '<port portid="2222"><state state="open"/><service name="ssh" product="OpenSSH" version="10.0p2"/></port>'


@pytest.mark.parametrize("http_row, ok", [
    ('<port portid="8080"><state state="open"/><service name="http" product="nginx"/></port>', True),
    ('<port portid="8080"><state state="open"/><service name="http" product="nginx" version="1.26.3"/></port>',
     False),                                                                      # nginx leaks its version
    ('<port portid="8080"><state state="closed"/></port>', False),                 # nothing answers on 80
])
def test_banners_name_ssh_and_http_without_nginx_version(monkeypatch: pytest.MonkeyPatch, http_row: str,
                                                         ok: bool) -> None:
    monkeypatch.setattr(web_checks.subprocess, "run", _nmap(SSH_ROW + http_row))
    assert checks.service_banners(FakeVM({})).ok is ok  # type: ignore[arg-type]


@pytest.mark.parametrize("answer, ok", [
    ("/swapfile 1073737728\nactive\n", True),
    ("/swapfile 1073737728\ninactive\n", False),        # no unit for it: not from the fstab line
    ("/dev/vda2 1073737728\nactive\n", False),          # some other swap, not the file
    ("/swapfile 536866816\nactive\n", False),           # not swapSizeMb
    ("active\n", False),                                # no swap in use
])
def test_swap_is_the_file_of_the_configured_size_with_its_unit_active(key: Path, answer: str, ok: bool) -> None:
    vm = FakeVM({("deploy", "swapon --show"): (0 if ok else 3, answer, "")})
    assert checks.swap_on(vm, "deploy", key, 1024).ok is ok  # type: ignore[arg-type]


@pytest.mark.parametrize("answer, ok", [
    ("/dev rw,nosuid,noexec,relatime\n/dev/shm rw,nosuid,nodev,noexec\n/tmp rw,nosuid,nodev,noexec\n", True),
    ("/dev rw,nosuid,relatime\n/dev/shm rw,nosuid,nodev,noexec\n/tmp rw,nosuid,nodev,noexec\n", False),  # exec /dev
    ("/dev rw,nosuid,noexec\n/dev/shm rw,nosuid,nodev,noexec\n/tmp -\n", False),  # /tmp not a mount point
    ("/dev rw,nosuid,noexec\n/dev/shm rw,nosuid,nodev,noexec\n", False),          # no answer for /tmp
])
def test_hardened_mounts_have_every_option_the_settings_name(key: Path, answer: str, ok: bool) -> None:
    vm = FakeVM({("deploy", "findmnt -fno TARGET,OPTIONS"): (0, answer, "")})
    assert checks.hardened_mounts(vm, "deploy", key).ok is ok  # type: ignore[arg-type]


CONFINED = ("nnp=1\nsudo_rc=1\nsudo_err=sudo: The \"no new privileges\" flag is set, which prevents sudo from running "
            "as root. \netc_rc=1\netc_err=touch: cannot touch '/etc/hvps-e2e-confined': Read-only file system \n"
            "root_uid=0\nroot_io=hello\nroot_rc=3\n")


@pytest.mark.parametrize("output, ok", [
    (CONFINED, True),
    (CONFINED.replace("nnp=1", "nnp=0"), False),                                  # sshd's sandbox not inherited
    (CONFINED.replace("sudo_rc=1", "sudo_rc=0"), False),                          # sudo still works
    (CONFINED.replace("no new privileges", "a password is required"), False),     # refused, not for the sandbox
    (CONFINED.replace("etc_rc=1", "etc_rc=0"), False),                            # the system is writable
    (CONFINED.replace("root_uid=0", "root_uid="), False),                         # no way to root
    (CONFINED.replace("root_rc=3", "root_rc=0"), False),                          # the exit status lost
    (CONFINED.replace("root_io=hello", "root_io="), False),                       # stdin not passed
    ("", False),
])
def test_a_confined_session_is_judged_by_every_witness(output: str, ok: bool) -> None:
    from e2e.ssh_checks import confined_session
    assert confined_session(output, "\x1b]2;/usr/bin/sh\x1b\\pty_root=0\r\n\x1b[0m")[0] is ok
    assert confined_session(output, "")[0] is False  # no root on a terminal


def test_the_confined_session_script_is_valid_sh() -> None:
    from e2e.ssh_checks import CONFINED_SESSION_SCRIPT
    assert subprocess.run(["bash", "-n", "-c", CONFINED_SESSION_SCRIPT], check=False).returncode == 0
