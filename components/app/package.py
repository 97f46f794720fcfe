"""The app directory packed for a release: reproducible bytes, without VCS data, caches or anything that looks
like a secret."""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pulumi

SKIPPED = frozenset({".git", "__pycache__", ".venv", "venv", "node_modules", ".mypy_cache", ".pytest_cache",
                     ".ruff_cache", ".DS_Store", ".hvpsignore"})
#: The file in the app directory that names more files to leave out: one glob per line (path or file name).
IGNORE_FILE = ".hvpsignore"
#: Files left out because their name says they hold secrets (glob on the file name, and why).
SECRET_NAMES: tuple[tuple[str, str], ...] = (
    (".env*", "an environment file"), ("id_rsa*", "an SSH key"), ("id_dsa*", "an SSH key"),
    ("id_ecdsa*", "an SSH key"), ("id_ed25519*", "an SSH key"), ("*.p12", "a key store"), ("*.pfx", "a key store"),
    ("*.jks", "a key store"), ("*.keystore", "a key store"), (".netrc", "credentials"), (".pgpass", "credentials"),
    (".git-credentials", "credentials"), ("secrets.json", "a secrets file"), ("secrets.yaml", "a secrets file"),
    ("secrets.yml", "a secrets file"), ("credentials.json", "a credentials file"), ("*.tfstate", "Terraform state"),
)
#: A private key in any file: PEM (RSA, EC, OpenSSH, PKCS#8, encrypted) or PuTTY.
_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----|PuTTY-User-Key-File-\d+:")


class AppPackageError(pulumi.RunError):
    """The app directory cannot be packaged safely; the message names the file and the way out (no traceback)."""


@dataclass(frozen=True)
class AppPackage:
    """A reproducible tar.gz of an app directory: same files, same bytes, same digest.

    skipped: the files left out because they look like secrets, as `path (why)`, to show the user.
    """

    data: bytes
    digest: str
    files: tuple[str, ...]
    skipped: tuple[str, ...] = ()


def _ignore_patterns(root: Path) -> tuple[str, ...]:
    path = root / IGNORE_FILE
    if not path.is_file():
        return ()
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return tuple(line.rstrip("/") for line in lines if line and not line.startswith("#"))


def secret_reason(name: str, data: bytes) -> str | None:
    """Why a file (its relative path and content) must stay out of the archive, or None (pure)."""
    base = name.rsplit("/", 1)[-1]
    for pattern, why in SECRET_NAMES:
        if fnmatch.fnmatchcase(base, pattern):
            return why
    if (base.endswith((".pem", ".key"))) and _PRIVATE_KEY.search(data):
        return "a private key"
    return None


def package_directory(root: Path) -> AppPackage:
    """Pack an app directory deterministically, without VCS data, caches, virtualenvs, or secrets.

    Files named like secrets (SECRET_NAMES, and *.pem/*.key holding a private key) are left out and listed in
    `skipped`; any other file holding a private key stops the packaging (AppPackageError), since its name
    gives no sign it is one: the user moves it out or names it in .hvpsignore. Symbolic links are refused
    (the host refuses releases holding them), unless .hvpsignore leaves them out.
    """
    ignore = _ignore_patterns(root)
    members: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
        members += [Path(dirpath) / d for d in dirnames if (Path(dirpath) / d).is_symlink()]  # not walked into
        members += [Path(dirpath) / f for f in sorted(filenames) if f not in SKIPPED and not f.endswith(".pyc")]
    raw = io.BytesIO()
    names: list[str] = []
    skipped: list[str] = []
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in members:
            name = path.relative_to(root).as_posix()
            if any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path.name, p) for p in ignore) or any(
                    name.startswith(p + "/") for p in ignore):
                continue
            if path.is_symlink() or not path.is_file():
                raise AppPackageError(
                    f"hardened-vps:appSource: {name} is a symbolic link or not a regular file; the host refuses "
                    f"releases holding links. Copy the file in, or list it in {IGNORE_FILE} to leave it out.")
            data = path.read_bytes()
            why = secret_reason(name, data)
            if why is not None:
                skipped.append(f"{name} ({why})")
                continue
            if _PRIVATE_KEY.search(data):
                raise AppPackageError(
                    f"hardened-vps:appSource: {name} holds a private key and would be shipped to the server. "
                    f"Move it out of the app directory, or add the line '{name}' to {root / IGNORE_FILE} "
                    "to leave it out of the release.")
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
            names.append(name)
    data = gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)
    return AppPackage(data, hashlib.sha256(data).hexdigest(), tuple(names), tuple(skipped))
