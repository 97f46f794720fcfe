"""The app section: the web app's account, health check and, for your own app, its source, entry point, server,
environment and secrets (released after first boot; the built-in sample app needs none of them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import envfile
from components.config.problems import Collector, allowed
from components.config.schema import KEYS_BY_NAME, SECRET_PLACEHOLDER
from components.config.ssh import check_account

_GIT_URL = re.compile(r"^(https://[^\s]+|git@[^\s:]+:[^\s]+|ssh://[^\s]+)$")


@dataclass(frozen=True)
class AppSpec:
    """The user's app, deployed as releases after first boot (the sample app needs none of this)."""

    source: str  # local directory or git URL
    ref: str | None
    module: str
    server: str  # wsgi | asgi
    env: tuple[tuple[str, str], ...]
    secret_names: tuple[str, ...]  # names only: values stay Pulumi secrets
    keep_releases: int

    @property
    def is_git(self) -> bool:
        return bool(_GIT_URL.match(self.source))


def validate(c: Collector, admin_user: str, base_dir: Path | None) -> dict[str, Any]:
    """HostSpec's app fields; `app` is None for the sample app. The app's account must not be the admin's."""
    app_name = c.text("appName")
    check_account(c, "appName", app_name)
    if admin_user == app_name:
        c.fail("appName", f"{app_name!r} must differ from adminUser: the app runs without login or sudo")
    health = c.text("appHealthPath")
    if not KEYS_BY_NAME["appHealthPath"].matches(health):
        c.fail("appHealthPath", f"{health!r} is not an absolute URL path; allowed: e.g. /healthz")
    app = _user_app(c, base_dir)
    return dict(app_name=app_name, app_health_path=health, app=app, app_workers=c.integer("appWorkers"))


def parse_env_lines(lines: list[str], key: str, c: Collector, reveal: bool) -> list[tuple[str, str]]:
    """KEY=value pairs, each value exactly as written (components/envfile.py); a secret's value never appears in
    a message (reveal=False). What an EnvironmentFile could not carry unchanged is refused, never altered."""
    pairs: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        parsed = envfile.parse_line(line)
        shown = repr(line) if reveal else f"line {i + 1}"
        if isinstance(parsed, tuple):
            pairs.append(parsed)
        elif parsed is not None:
            c.fail(key, f"{shown} {parsed}" if parsed.startswith("is not") else f"{shown}: {parsed}")
    return pairs


def _user_app(c: Collector, base_dir: Path | None) -> AppSpec | None:
    env = parse_env_lines(c.array("appEnv", strip=False), "appEnv", c, reveal=True)
    secret_text = c.raw.get("appSecrets") or ""
    if secret_text == SECRET_PLACEHOLDER:  # encrypted in the stack file, read without the passphrase
        secret_text = ""
    secret_names = [n for n, _ in parse_env_lines(envfile.split_lines(str(secret_text)), "appSecrets", c, reveal=False)]
    module = c.text("appModule")
    if not KEYS_BY_NAME["appModule"].matches(module):
        c.fail("appModule", f"{module!r} is not an entry point; allowed: module:callable, "
                            "e.g. myproject.wsgi:application")
    server = c.text("appServer")
    if server not in KEYS_BY_NAME["appServer"].choices:
        c.fail("appServer", f"{server!r} is not supported; allowed: {allowed(KEYS_BY_NAME['appServer'].choices)}")
    keep = c.integer("appKeepReleases")
    source = c.string("appSource")
    ref = c.string("appRef")
    if source is None:
        if ref:
            c.fail("appRef", "set, but appSource is not; give appSource too")
        return None
    if _GIT_URL.match(source):
        if not ref:
            c.fail("appRef", "missing; required with a git appSource (a tag or commit: branches move silently)")
        elif not KEYS_BY_NAME["appRef"].matches(ref):
            c.fail("appRef", f"{ref!r} is not a git ref; allowed: a tag, branch or commit id")
    else:
        if ref:
            c.fail("appRef", "only for a git appSource; a local directory deploys what is on disk")
        path = (base_dir or Path.cwd()) / source
        try:
            is_dir = path.is_dir()
        except OSError:  # e.g. a name longer than the file system allows
            is_dir = False
        if not is_dir:
            c.fail("appSource", f"{source!r} is neither a directory (looked at {path}) nor a git URL "
                                "(https://..., git@host:repo, ssh://...)")
    return AppSpec(source=source, ref=ref, module=module, server=server, env=tuple(env),
                   secret_names=tuple(secret_names), keep_releases=keep)
