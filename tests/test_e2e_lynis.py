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
    for user in ("e2e/integrity_checks.py", "e2e/nspawn_lynis.py"):
        text = (ROOT / user).read_text()
        assert "lynis.fetch()" in text and "lynis.audit_script(" in text
        assert "download -q lynis" not in text       # not the guest's distribution package
