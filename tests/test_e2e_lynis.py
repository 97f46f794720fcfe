"""The pinned Lynis of the e2e audits: one pin, verified on fetch, on every use and again in the guest."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

from e2e import lynis
from tests.conftest import ROOT


def test_verify_refuses_other_bytes() -> None:
    with pytest.raises(lynis.LynisFetchError, match="not the pinned"):
        lynis.verify(b"not lynis")


def test_fetch_refuses_a_download_with_another_digest(tmp_path: Path) -> None:
    served = tmp_path / "served.deb"
    served.write_bytes(b"a mirror serving something else")
    with pytest.raises(lynis.LynisFetchError, match="not the pinned"):
        lynis.fetch(tmp_path / "cache", url=served.as_uri())
    assert not (tmp_path / "cache" / "served.deb").exists()       # nothing cached


def test_fetch_refuses_a_tampered_cache(tmp_path: Path) -> None:
    name = lynis.LYNIS_URL.rsplit("/", 1)[1]
    (tmp_path / name).write_bytes(b"edited after download")
    with pytest.raises(lynis.LynisFetchError):
        lynis.fetch(tmp_path, url="file:///nonexistent/" + name)


def test_fetch_hands_out_a_download_with_the_pinned_digest(tmp_path: Path, monkeypatch) -> None:
    data = b"stand-in package"
    served = tmp_path / "lynis_x_all.deb"
    served.write_bytes(data)
    monkeypatch.setattr(lynis, "LYNIS_SHA256", hashlib.sha256(data).hexdigest())
    got = lynis.fetch(tmp_path / "cache", url=served.as_uri())
    assert got.read_bytes() == data and got.parent == tmp_path / "cache"


def test_guest_script_checks_the_pin_before_unpacking(tmp_path: Path) -> None:
    """In the guest, a copied file with another digest stops the script before dpkg runs."""
    deb = tmp_path / "lynis.deb"
    deb.write_bytes(b"corrupted in transit")
    script = lynis.audit_script(str(deb), 10, with_log=True)
    assert script.index("sha256sum -c") < script.index("dpkg -x")
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "dpkg" not in p.stderr


def test_one_pin_in_the_repository() -> None:
    """The version and digest appear only in e2e/lynis.py; the audits take them from there."""
    pins = re.compile(re.escape(lynis.LYNIS_SHA256) + "|" + re.escape(lynis.LYNIS_VERSION))
    holders = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py")
               if ".venv" not in p.parts and pins.search(p.read_text(errors="replace"))]
    assert holders == ["e2e/lynis.py"]


def test_one_lynis_runner_for_the_vm_and_the_container() -> None:
    """Both audits call `lynis.run` with their guest; nothing else fetches, copies or runs Lynis."""
    for user in ("e2e/integrity_checks.py", "e2e/nspawn_lynis.py"):
        text = (ROOT / user).read_text()
        assert "lynis.run(" in text
        assert "download -q lynis" not in text       # not the guest's distribution package
    callers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "e2e").glob("*.py")
               if re.search(r"\b(fetch|audit_script)\(", p.read_text()) and p.name != "lynis.py"]
    assert callers == []


_OUTPUT = f"""# Lynis Report
report_version_major=1
lynis_version=3.1.7
hardening_index=88
lynis_tests_done=262
warning[]=MAIL-8818|Found some information disclosure in SMTP banner|-|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|AllowTcpForwarding (set YES to NO)|-|
suggestion[]=KRNL-6000|One or more sysctl values differ from the scan profile|-|-|
{lynis.LOG_MARKER}
2026-12-06 19:06:14 Starting Lynis 3.1.7 with PID 1234
2026-12-06 19:06:20 Performing test ID BOOT-5122 (Check for GRUB boot password)
2026-12-06 19:06:21 Hardening: assigned partial number of hardening points (2 of 3).
2026-12-06 19:06:30 Performing test ID PKGS-7392 (Check for Debian package updates)
2026-12-06 19:09:30 Performing test ID KRNL-6000 (Check sysctl key pairs in scan profile)
2026-12-06 19:09:31 sysctl key fs.suid_dumpable has a different value than expected in scan profile. Expected=0, Real=2
2026-12-06 19:09:40 Currently having 150 points (out of 171)
2026-12-06 19:09:45 Lynis 3.1.7 finished
"""


def test_one_parse_reads_report_and_log() -> None:
    audit = lynis.parse(_OUTPUT)
    assert audit.hardening_index == 88
    assert audit.report["lynis_tests_done"] == "262"
    assert audit.warnings == ["MAIL-8818|Found some information disclosure in SMTP banner|-|-|"]
    assert [s.split("|")[0] for s in audit.suggestions] == ["SSH-7408", "KRNL-6000"]
    assert audit.points == (150, 171)
    assert audit.missed_points() == [("BOOT-5122", 2, 3)]
    assert audit.sysctl_differences() == ["fs.suid_dumpable=2 (expected 0)"]


def test_slowest_tests_span_from_one_test_to_the_next() -> None:
    assert lynis.slowest_tests(lynis.parse(_OUTPUT).log) == [("PKGS-7392", 180), ("KRNL-6000", 15),
                                                           ("BOOT-5122", 10)]
    assert lynis.slowest_tests(lynis.parse(_OUTPUT).log, most=1) == [("PKGS-7392", 180)]


def test_an_output_without_report_has_no_index() -> None:
    audit = lynis.parse("lynis: timeout\n")
    assert audit.hardening_index is None and audit.points is None and lynis.slowest_tests(audit.log) == []


class _FakeGuest:
    """A guest that records what it was given and answers with a canned Lynis output."""

    scratch = "/home/admin"

    def __init__(self, stdout: str, stderr: str = "", code: int = 0) -> None:
        self.copied: list[tuple[Path, str]] = []
        self.scripts: list[tuple[str, float]] = []
        self.answer = subprocess.CompletedProcess(["fake"], code, stdout, stderr)

    def root(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        self.scripts.append((script, timeout))
        return self.answer

    def copy_in(self, local: Path, remote: str) -> None:
        self.copied.append((local, remote))

    def as_admin(self, command: str, stdin: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
        raise AssertionError("the Lynis runner works as root, not through the admin's login")


def _pinned_cache(tmp_path: Path, monkeypatch) -> Path:
    data = b"stand-in package"
    name = lynis.LYNIS_URL.rsplit("/", 1)[1]
    (tmp_path / name).write_bytes(data)
    monkeypatch.setattr(lynis, "LYNIS_SHA256", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(lynis, "cache_dir", lambda: tmp_path)
    return tmp_path / name


def test_run_copies_the_verified_package_into_the_guests_scratch_and_runs_the_audit_there(tmp_path: Path,
                                                                                           monkeypatch) -> None:
    deb = _pinned_cache(tmp_path, monkeypatch)
    guest = _FakeGuest(_OUTPUT)
    audit = lynis.run(guest, 300)
    remote = f"/home/admin/{deb.name}"
    assert guest.copied == [(deb, remote)]
    ((script, timeout),) = guest.scripts
    assert script == lynis.audit_script(remote, 300, with_log=True) and timeout > 300
    assert audit.hardening_index == 88 and audit.error == ""


def test_run_without_a_report_keeps_the_reason(tmp_path: Path, monkeypatch) -> None:
    _pinned_cache(tmp_path, monkeypatch)
    audit = lynis.run(_FakeGuest("", stderr="sha256sum: WARNING: 1 computed checksum did NOT match", code=1), 60)
    assert audit.hardening_index is None and "exit code 1" in audit.error and "did NOT match" in audit.error


def test_run_refuses_a_tampered_package_before_touching_the_guest(tmp_path: Path, monkeypatch) -> None:
    deb = _pinned_cache(tmp_path, monkeypatch)
    deb.write_bytes(b"edited after download")
    guest = _FakeGuest(_OUTPUT)
    with pytest.raises(lynis.LynisFetchError):
        lynis.run(guest, 60)
    assert guest.copied == [] and guest.scripts == []
