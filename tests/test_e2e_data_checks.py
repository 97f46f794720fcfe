"""The data checks witness what they name: fed the answers of a host where the named thing did NOT happen, each
fails; fed a host where it did, each passes. A stand-in VM answers the ssh commands (the real run is `make e2e`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.config import parse_host_spec
from e2e import data_checks
from tests.conftest import raw_config
from tests.test_e2e_checks import FakeVM

SPEC = parse_host_spec(raw_config(dataVolumeGb="10", database="postgresql"))
DEVICE = "/dev/sda"
MOUNT_OK = f"{DEVICE} ext4 rw,nosuid,nodev,noexec,relatime\n{DEVICE}\nDEVNAME={DEVICE}\nLABEL=hvps-data\nUUID=u-1\n"
KEY = Path("unused-by-the-stand-in")
DIGEST = "2000:" + "a" * 32


def _vm(**answers: tuple[int, str, str]) -> FakeVM:
    return FakeVM({("deploy", part): answer for part, answer in answers.items()})


@pytest.mark.parametrize(("answer", "ok"), [
    (MOUNT_OK, True),
    (MOUNT_OK.replace("nosuid,", ""), False),                                  # mounted without nosuid
    (MOUNT_OK.replace("LABEL=hvps-data", "LABEL=other"), False),               # a foreign filesystem
    (MOUNT_OK.replace(f"{DEVICE}\nDEVNAME", "/dev/vdc\nDEVNAME"), False),       # not the volume's device
    ("\n\n", False),                                                            # nothing mounted there
])
def test_volume_mounted_needs_the_volume_with_our_label_and_options(answer: str, ok: bool) -> None:
    result = data_checks.volume_mounted(_vm(findmnt=(0, answer, "")), "deploy", KEY)  # type: ignore[arg-type]
    assert result.ok is ok
    if ok:
        assert result.figures["uuid"] == "u-1"


PREFIX_OK = "/dev/sda\nrc=0\nroot=/dev/vda\nlink=/dev/sda\nlink=/dev/vda\n"


@pytest.mark.parametrize(("answer", "ok"), [
    (PREFIX_OK, True),
    (PREFIX_OK.replace("/dev/sda\nrc=0", "/dev/vda\nrc=0"), False),            # it took the root disk
    (PREFIX_OK.replace("/dev/sda\nrc=0", "\nrc=3"), False),                     # it refused (several)
    (PREFIX_OK.replace("link=/dev/vda\n", ""), False),                          # the root disk was no candidate
    (PREFIX_OK.replace("root=/dev/vda\n", ""), False),                          # no root disk found at all
])
def test_volume_found_by_prefix_takes_the_volume_never_the_root_disk(answer: str, ok: bool) -> None:
    vm = _vm(**{"hvps-prefix-probe": (0, answer, "")})
    assert data_checks.volume_found_by_prefix(vm, "deploy", KEY, DEVICE).ok is ok  # type: ignore[arg-type]


@pytest.mark.parametrize(("answer", "ok"), [
    ("app\ntcp_listeners=0\ntcp=refused\n", True),
    ("app\ntcp_listeners=1\ntcp=refused\n", False),     # postgres listens on TCP
    ("app\ntcp_listeners=0\ntcp=open\n", False),        # something answers on 5432
    ("\ntcp_listeners=0\ntcp=refused\n", False),        # the app's role cannot connect
])
def test_database_socket_only(answer: str, ok: bool) -> None:
    vm = _vm(**{"current_user": (0, answer, "")})
    assert data_checks.database_socket_only(vm, "deploy", KEY, "app").ok is ok  # type: ignore[arg-type]


CRASH_OK = "before=40\nkilled=100\nrecovered_s=3\nnew=200\ncommitted=150\nmissing=0\nafter=100000\n"


@pytest.mark.parametrize(("answer", "ok"), [
    ((0, CRASH_OK, ""), True),
    ((0, CRASH_OK.replace("new=200", "new=100"), ""), False),          # the same postmaster: nothing was killed
    ((0, CRASH_OK.replace("missing=0", "missing=2"), ""), False),      # confirmed rows lost
    ((0, CRASH_OK.replace("committed=150", "committed=0"), ""), False),  # no write happened around the kill
    ((0, CRASH_OK.replace("before=40", "before=0"), ""), False),       # nothing was written before the kill
    ((0, CRASH_OK.replace("committed=150", "committed=40"), ""), False),  # no write got in after it
    ((1, "killed=100\nrecovered=no\n", ""), False),                    # never came back
])
def test_crash_recovery(answer: tuple[int, str, str], ok: bool) -> None:
    vm = _vm(**{"e2e_crash": answer})
    assert data_checks.crash_recovery(vm, "deploy", KEY, "app").ok is ok  # type: ignore[arg-type]


class SequenceVM(FakeVM):
    """Answers the digest query from a list, one per call (before, changed, after)."""

    def __init__(self, digests: list[str], restore_rc: int = 0):
        super().__init__({("deploy", "hvps-backup"): (0, "20261206T000000Z\n", ""),
                          ("deploy", "hvps-restore"): (restore_rc, "", "")})
        self.digests = digests

    def ssh(self, user: str, _key: object, command: str, timeout: float = 120, **kw: object) -> \
            subprocess.CompletedProcess:
        if "string_agg" in command:
            return subprocess.CompletedProcess(command, 0, self.digests.pop(0) + "\n", "")
        return super().ssh(user, _key, command, timeout, **kw)


@pytest.mark.parametrize(("digests", "restore_rc", "ok"), [
    ([DIGEST, "1000:" + "b" * 32, DIGEST], 0, True),
    ([DIGEST, "1000:" + "b" * 32, "1000:" + "b" * 32], 0, False),   # restore changed nothing
    ([DIGEST, DIGEST, DIGEST], 0, False),                           # the change did not happen: proves nothing
    ([DIGEST, "1000:" + "b" * 32, DIGEST], 1, False),               # restore failed
])
def test_backup_then_restore(digests: list[str], restore_rc: int, ok: bool) -> None:
    vm = SequenceVM(digests, restore_rc)
    assert data_checks.backup_then_restore(vm, "deploy", KEY, "app").ok is ok  # type: ignore[arg-type]


@pytest.mark.parametrize(("uuid_before", "digest", "ok"), [
    ("u-1", DIGEST, True),
    ("u-0", DIGEST, False),                         # another filesystem: the volume was reformatted
    ("u-1", "0:-", False),                          # the rows are gone
])
def test_rebuilt_keeps_data(uuid_before: str, digest: str, ok: bool) -> None:
    vm = _vm(findmnt=(0, MOUNT_OK, ""), string_agg=(0, digest + "\n", ""), **{"after rebuild": (0, "-1\n", "")})
    result = data_checks.rebuilt_keeps_data(vm, "deploy", KEY, SPEC, uuid_before, DIGEST)  # type: ignore[arg-type]
    assert result.ok is ok
