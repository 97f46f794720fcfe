"""The app section: account, health path, workers, and a user's app (source, ref, entry point, server, env)."""

from __future__ import annotations

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config


def test_unreadable_app_source_path_is_a_config_error() -> None:
    (msg,) = problems(appSource="a" * 300)  # one path component longer than the file system allows
    assert msg.startswith("hardened-vps:appSource:") and "neither a directory" in msg


def test_app_account_must_not_be_the_admin() -> None:
    (msg,) = problems(adminUser="web", appName="web")
    assert msg == "hardened-vps:appName: 'web' must differ from adminUser: the app runs without login or sudo"
    assert problems(appName="root")[0].startswith("hardened-vps:appName: 'root' is not a usable account name")


def test_health_path_is_an_absolute_path() -> None:
    (msg,) = problems(appHealthPath="healthz")
    assert msg == "hardened-vps:appHealthPath: 'healthz' is not an absolute URL path; allowed: e.g. /healthz"
    assert parse_host_spec(raw_config(appHealthPath="/up")).app_health_path == "/up"


def test_a_git_source_needs_a_ref_and_a_local_one_none() -> None:
    (missing,) = problems(appSource="https://example.com/shop.git")
    assert missing.startswith("hardened-vps:appRef: missing; required with a git appSource")
    (bad,) = problems(appSource="https://example.com/shop.git", appRef="v1;id")
    assert bad == "hardened-vps:appRef: 'v1;id' is not a git ref; allowed: a tag, branch or commit id"
    (alone,) = problems(appRef="v1")
    assert alone == "hardened-vps:appRef: set, but appSource is not; give appSource too"
    app = parse_host_spec(raw_config(appSource="git@example.com:shop.git", appRef="v1.2")).app
    assert app is not None and app.is_git and (app.ref, app.module, app.server) == ("v1.2", "app:app", "wsgi")


def test_entry_point_server_and_releases_are_checked() -> None:
    found = problems(appModule="app", appServer="uwsgi", appKeepReleases="1", appWorkers="99")
    assert found == [
        "hardened-vps:appModule: 'app' is not an entry point; allowed: module:callable, "
        "e.g. myproject.wsgi:application",
        "hardened-vps:appServer: 'uwsgi' is not supported; allowed: wsgi, asgi",
        "hardened-vps:appKeepReleases: 1 is out of range; allowed: 2 to 50",
        "hardened-vps:appWorkers: 99 is out of range; allowed: 0 to 32",
    ]


def test_env_values_are_kept_and_secret_values_never_shown() -> None:
    app = parse_host_spec(raw_config(appSource="https://example.com/a.git", appRef="v1",
                                     appEnv=["GREETING=hi there ", "MODE=prod"],
                                     appSecrets="TOKEN=abc\nPASSWORD=hunter2")).app
    assert app is not None and app.env == (("GREETING", "hi there "), ("MODE", "prod"))
    assert app.secret_names == ("TOKEN", "PASSWORD")
    found = problems(appSecrets="not a line with hunter2")
    assert found and all(p.startswith("hardened-vps:appSecrets: line 1") and "hunter2" not in p for p in found)
