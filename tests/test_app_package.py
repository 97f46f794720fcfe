"""Packaging an app from a local directory (components/app/package.py): reproducible archives without junk, files
that look secret left out and listed in the preview, a private key under another name stopping the run with the way
out (.hvpsignore), links refused."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pulumi
import pytest

from components.app import AppPackageError, package_directory
from tests.app_release_support import EXAMPLE, app_run, app_with


def test_packaging_is_reproducible_and_skips_junk(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    first = package_directory(app)
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (app / ".env").write_text("SECRET_KEY=do-not-ship")
    second = package_directory(app)
    assert (first.data, first.digest, first.files) == (second.data, second.digest, second.files)
    assert second.skipped == (".env (an environment file)",)
    assert set(first.files) == {"app.py", "requirements.txt", "static/style.css"}
    (app / "app.py").write_text((app / "app.py").read_text() + "\n# changed\n")
    assert package_directory(app).digest != first.digest


PEM_KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_secret_looking_files_are_left_out_and_listed(tmp_path: Path) -> None:
    app = app_with(tmp_path, {".env.production": b"SECRET=1", ".env.local": b"SECRET=2", "id_rsa": PEM_KEY,
                               "deploy/id_ed25519.pub": b"ssh-ed25519 AAAA", "config/secrets.json": b"{}",
                               "tls/server.key": PEM_KEY, "tls/server.pem": PEM_KEY, "tls/ca.pem": CERT,
                               "config/settings.json": b"{}"})
    package = package_directory(app)
    assert set(package.files) == {"app.py", "requirements.txt", "static/style.css", "tls/ca.pem",
                                  "config/settings.json"}
    assert sorted(s.split(" (")[0] for s in package.skipped) == sorted(
        [".env.local", ".env.production", "id_rsa", "deploy/id_ed25519.pub", "config/secrets.json",
         "tls/server.key", "tls/server.pem"])
    with tarfile.open(fileobj=io.BytesIO(package.data)) as tar:
        assert b"PRIVATE KEY" not in b"".join(tar.extractfile(m).read() for m in tar if m.isfile())  # type: ignore


def test_a_private_key_under_another_name_stops_packaging_with_the_way_out(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"config/deploy.txt": b"notes\n" + PEM_KEY})
    with pytest.raises(AppPackageError) as err:
        package_directory(app)
    message = str(err.value)
    assert "hardened-vps:appSource: config/deploy.txt holds a private key" in message and ".hvpsignore" in message
    (app / ".hvpsignore").write_text("# not for the server\nconfig/deploy.txt\n")
    package = package_directory(app)
    assert "config/deploy.txt" not in package.files and ".hvpsignore" not in package.files


def test_links_in_the_app_directory_are_refused(tmp_path: Path) -> None:
    app = app_with(tmp_path, {})
    (app / "static" / "etc").symlink_to("/etc")
    with pytest.raises(AppPackageError, match="static/etc is a symbolic link"):
        package_directory(app)


def test_the_preview_lists_what_was_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: shown.append(message))
    app_run(str(app_with(tmp_path, {".env.production": b"SECRET=1"})))
    assert any(".env.production (an environment file)" in m for m in shown), shown
