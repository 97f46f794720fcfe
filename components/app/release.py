"""A release's identity: a hash of its code (the packaged directory, or the git URL and ref) and its settings,
so a preview shows a new release exactly when the app changes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from components.app.package import AppPackage, package_directory
from components.config import HostSpec


def release_settings(spec: HostSpec) -> dict[str, object]:
    """What, besides the code, makes a release different."""
    assert spec.app is not None
    app = spec.app
    return {"module": app.module, "server": app.server, "workers": spec.workers, "env": [list(p) for p in app.env],
            "health": spec.app_health_path, "keep": app.keep_releases, "secrets": list(app.secret_names)}


def release_id(spec: HostSpec, code_digest: str) -> str:
    """`r-` and 12 hex digits of the code digest plus settings: any change makes a new release."""
    text = json.dumps({"code": code_digest, "settings": release_settings(spec)}, sort_keys=True)
    return "r-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def code_digest(spec: HostSpec, package: AppPackage | None) -> str:
    assert spec.app is not None
    if package is not None:
        return package.digest
    return hashlib.sha256(f"{spec.app.source}@{spec.app.ref}".encode()).hexdigest()


def planned_release(spec: HostSpec) -> tuple[AppPackage | None, str]:
    """This stack's release: its package (None for a git source, which the host clones) and its release id.
    AppRelease builds it; the policy pack derives the commands it allows from the same call."""
    assert spec.app is not None
    package = None if spec.app.is_git else package_directory(_source_dir(spec.app.source))
    return package, release_id(spec, code_digest(spec, package))


def _source_dir(source: str) -> Path:
    path = Path(source)
    return path if path.is_absolute() else Path(__file__).resolve().parents[2] / path
