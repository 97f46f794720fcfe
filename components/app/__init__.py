"""Releases of the user's app: packaged by the program, shipped over SSH, activated by `hvps-release`.

A release is identified by a hash of its code (the packaged directory, or the git URL and ref) and its
settings, so `pulumi preview` shows a new release resource exactly when the app changes, and the server's
own inputs never change. The host-side work is `hvps-release.sh` beside this file (tested on its own).

One idea per module: `package` (the app directory packed, secrets left out), `release` (a release's identity),
`deploy` (the uploads and the deploy command) and `component` (the AppRelease component).
"""

from components.app.component import AppRelease, AppReleaseArgs
from components.app.deploy import (
    CACHE_KEEP_SECONDS,
    DEPLOY_TIMEOUT,
    RELEASE_SCRIPT,
    UPLOAD_TIMEOUT,
    ReleaseCacheError,
    archive_file,
    deploy_command,
    release_cache_dir,
    remote_paths,
    script_digest,
    upload_dir,
)
from components.app.package import (
    IGNORE_FILE,
    SECRET_NAMES,
    SKIPPED,
    AppPackage,
    AppPackageError,
    package_directory,
    secret_reason,
)
from components.app.release import code_digest, planned_release, release_id, release_settings

__all__ = [
    "CACHE_KEEP_SECONDS",
    "DEPLOY_TIMEOUT",
    "IGNORE_FILE",
    "RELEASE_SCRIPT",
    "SECRET_NAMES",
    "SKIPPED",
    "UPLOAD_TIMEOUT",
    "AppPackage",
    "AppPackageError",
    "AppRelease",
    "AppReleaseArgs",
    "ReleaseCacheError",
    "archive_file",
    "code_digest",
    "deploy_command",
    "package_directory",
    "planned_release",
    "release_cache_dir",
    "release_id",
    "release_settings",
    "remote_paths",
    "script_digest",
    "secret_reason",
    "upload_dir",
]
