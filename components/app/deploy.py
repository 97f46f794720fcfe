"""Shipping a release: the uploads (release script and archive, named by content) and the command that activates
it on the host as the admin."""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

from components import envfile
from components.app.package import AppPackage
from components.config import HostSpec
from components.readiness import first_boot_wait

RELEASE_SCRIPT = Path(__file__).with_name("hvps-release.sh")

#: How long one upload or the deploy may take, dial retries included (dial_error_limit -1 retries until then):
#: a new server answers SSH with the pinned key only once first boot installed it (about 5 minutes measured).
UPLOAD_TIMEOUT = "20m"
DEPLOY_TIMEOUT = "30m"  # also waits for the rest of first boot, then builds the release's virtualenv


def script_digest() -> str:
    return hashlib.sha256(RELEASE_SCRIPT.read_bytes()).hexdigest()


def release_cache_dir() -> Path:
    """Where archives wait for their upload: the user's cache (`$XDG_CACHE_HOME`, else ~/.cache), outside the
    working tree, so neither a preview nor a test run leaves files in the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hardened-vps" / "releases"


def archive_file(app_name: str, package: AppPackage) -> Path:
    """The archive as a file, named by its content: the engine hashes a FileAsset's file when the resource is
    registered (preview included) and the upload copies it, so it must exist then. Written once per content,
    atomically (a concurrent run never reads a partial file); a file whose bytes differ is written again."""
    path = release_cache_dir() / f"{app_name}-{package.digest[:16]}.tar.gz"
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == package.digest:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(package.data)
    os.replace(partial, path)
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
    release = " ".join(shlex.quote(a) for a in ["sudo", "bash", script, *args])
    return f"{first_boot_wait()} && {release}"  # fails with the state text unless first boot completed
