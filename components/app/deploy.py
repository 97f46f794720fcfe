"""Shipping a release: the uploads (release script and archive, named by content) and the command that activates
it on the host as the admin."""

from __future__ import annotations

import hashlib
import os
import shlex
import time
from pathlib import Path

from components import envfile
from components.app.package import AppPackage
from components.config import HostSpec
from components.firstboot import AS_ROOT
from components.readiness import first_boot_wait

RELEASE_SCRIPT = Path(__file__).with_name("hvps-release.sh")

#: How long one upload or the deploy may take, dial retries included (dial_error_limit -1 retries until then):
#: a new server answers SSH with the pinned key only once first boot installed it (about 5 minutes measured).
UPLOAD_TIMEOUT = "20m"
DEPLOY_TIMEOUT = "30m"  # also waits for the rest of first boot, then builds the release's virtualenv


def script_digest() -> str:
    return hashlib.sha256(RELEASE_SCRIPT.read_bytes()).hexdigest()


class ReleaseCacheError(RuntimeError):
    """The archive cannot wait anywhere safe: no usable cache directory."""


#: Archives of an app older than this are removed when another of its archives is written (a preview or an
#: up in flight registers its archive minutes before the upload reads it; a week is far beyond that).
CACHE_KEEP_SECONDS = 7 * 24 * 3600


def release_cache_dir() -> Path:
    """Where archives wait for their upload: the user's cache (`$XDG_CACHE_HOME` when absolute, as the XDG spec
    says, else ~/.cache), outside the working tree, so neither a preview nor a test run leaves files in the
    repository."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except (KeyError, RuntimeError):
            raise ReleaseCacheError("no cache directory for the app archive: set XDG_CACHE_HOME to an absolute "
                                    "path (or HOME)") from None
    return Path(base) / "hardened-vps" / "releases"


def _private_dir(path: Path) -> Path:
    """`path`, created 0700; refused when another user owns it or others may write to it (they could swap the
    archive between its digest check and the upload)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise ReleaseCacheError(f"{path} is not private to this user (owner uid {st.st_uid}, mode "
                                f"{st.st_mode & 0o777:04o}): the app archive will not wait there")
    return path


def _prune(directory: Path, app_name: str, keep: Path, now: float) -> None:
    """Old archives of this app, and partial writes of any, that a run left behind."""
    for old in [*directory.glob(f"{app_name}-*.tar.gz"), *directory.glob(".*.partial")]:
        try:
            if old != keep and now - old.stat().st_mtime > CACHE_KEEP_SECONDS:
                old.unlink()
        except FileNotFoundError:  # a concurrent run pruned it first
            pass


def archive_file(app_name: str, package: AppPackage) -> Path:
    """The archive as a file, named by its content: the engine hashes a FileAsset's file when the resource is
    registered (preview included) and the upload copies it, so it must exist then. Written once per content,
    atomically (a concurrent run never reads a partial file), 0600 in a private directory; a file whose bytes
    differ is written again."""
    directory = _private_dir(release_cache_dir())
    path = directory / f"{app_name}-{package.digest[:16]}.tar.gz"
    if not (path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == package.digest):
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(package.data)
        os.replace(partial, path)
    _prune(directory, app_name, path, time.time())
    return path


def upload_dir(spec: HostSpec) -> str:
    """Where uploads live on the host: the admin's home (survives reboots, unlike /tmp; only the admin reads it)."""
    return f"/home/{spec.admin_user}/.hvps-uploads"


def remote_paths(spec: HostSpec, package: AppPackage | None) -> tuple[str, str | None]:
    """(release script, archive or None for git) upload paths, named by their content.

    Content-addressed, so a re-run of the deploy command (Pulumi re-runs it on ANY input change) finds the very
    files it names; `hvps-release --prune-uploads` removes older ones only after a release succeeded.
    """
    base = upload_dir(spec)
    archive = f"{base}/{spec.app_name}-{package.digest[:16]}.tar.gz" if package is not None else None
    return f"{base}/hvps-release-{script_digest()[:16]}.sh", archive


def deploy_command(spec: HostSpec, rid: str, package: AppPackage | None, with_secrets: bool) -> str:
    """The command the deploy resource runs on the host as the admin (pure, so tests read it).

    Self-contained: it only needs the uploads its own inputs name, and removes none of them.
    """
    assert spec.app is not None
    app = spec.app
    script, archive = remote_paths(spec, package)
    args = ["--app", spec.app_name, "--id", rid, "--module", app.module, "--server", app.server,
            "--workers", str(spec.workers), "--health", spec.app_health_path, "--keep", str(app.keep_releases)]
    args += ["--archive", archive] if archive is not None else ["--git", app.source, "--ref", app.ref or ""]
    for name, value in app.env:  # encoded here, once; the host writes the lines as they are
        args += ["--env", envfile.encode_line(name, value)]
    if with_secrets:
        args += ["--env-file", "-"]
    args += ["--prune-uploads", upload_dir(spec)]
    release = f"{AS_ROOT} {shlex.join(['bash', script, *args])}"
    return f"{first_boot_wait()} && {release}"  # fails with the state text unless first boot completed
