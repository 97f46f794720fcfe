"""Hostile app releases in the VM: the host stays hardened whatever a release holds; env values arrive intact.

Runs on an already-booted VM after `release.releases_check` (which deployed the example app and gave the
guest's pip the harness CA), with the real host script and the AppRelease's own deploy command:

  (a) hostile archives, crafted by hand (package_directory would refuse them on the user's machine):
      - `static -> /etc` symlink and `requirements.txt` with `-r /etc/shadow`: refused before extraction;
      - `-r /etc/shadow` alone: pip runs as hvps-build and cannot open the file;
      for both: no line of /etc/shadow in the deploy output, /etc/shadow, /etc/<app>/env and /etc/<app> keep
      their modes and owners, the release that served before still serves.
  (b) appEnv and appSecrets values with quotes, backslashes, `$`, backquotes, `export `-like text and a
      trailing backslash: read back from /proc/<MainPID>/environ of the running app, byte for byte.

About 1 to 2 minutes (one small pip build for (b)). Call `hostile_release_check(vm, spec, admin, key)`.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import shlex
import tarfile
import time
from pathlib import Path

from components import envfile
from components.app import AppPackage, code_digest, release_id
from components.config import HostSpec
from components.firstboot import AS_ROOT

from .checks import CheckResult
from .processes import log
from .release import EXAMPLE_APP, app_spec, run_deploy, serving
from .vm import VM

#: Values the EnvironmentFile grammar used to change (env-file.c: escapes, continuation, quotes, `$`).
ENV_VALUES = (("HVPS_T_BACKSLASH", "pa\\ss"), ("HVPS_T_QUOTES", "say \"hi\" it's"),
              ("HVPS_T_DOLLAR", "$HOME ${IFS}`id`"), ("HVPS_T_EXPORT", "export X=1"),
              ("HVPS_T_TRAILING", "ends in \\"), ("HVPS_T_HASH", "#not; a comment"),
              ("HVPS_T_PERCENT", "100%n %% done"))
SECRET_VALUES = (("HVPS_S_PASSWORD", "p\\a\"s$s'w`o#rd\\"), ("HVPS_S_URL", "postgres://u:p%40ss@db/x?a=1&b='2'"))


def _archive(members: dict[str, bytes], links: dict[str, str]) -> AppPackage:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    data = raw.getvalue()
    return AppPackage(data, hashlib.sha256(data).hexdigest(), tuple(members) + tuple(links))


def _modes(vm: VM, admin: str, key: Path, paths: list[str]) -> dict[str, str]:
    quoted = " ".join(shlex.quote(p) for p in paths)
    p = vm.ssh(admin, key, f"{AS_ROOT} stat -c '%n %a %U:%G' {quoted} 2>/dev/null", timeout=30)
    return dict(line.split(" ", 1) for line in p.stdout.splitlines() if " " in line)


def _shadow_lines(vm: VM, admin: str, key: Path) -> list[str]:
    p = vm.ssh(admin, key, f"{AS_ROOT} cat /etc/shadow", timeout=30)
    return [line for line in p.stdout.splitlines() if line.strip()]


def _app_environ(vm: VM, admin: str, key: Path, unit: str) -> dict[str, str]:
    """The running app's environment, as the kernel holds it for the unit's main process."""
    cmd = (f"pid=$(systemctl show -p MainPID --value {shlex.quote(unit)}); "
           f"{AS_ROOT} base64 -w0 /proc/$pid/environ")
    raw = base64.b64decode(vm.ssh(admin, key, cmd, timeout=30).stdout.strip() or "")
    pairs = (entry.decode("utf-8", "replace").partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def hostile_release_check(vm: VM, spec: HostSpec, admin: str, key: Path) -> list[CheckResult]:
    spec = app_spec(spec)
    assert spec.app is not None
    app = spec.app_name
    results: list[CheckResult] = []
    watched = ["/etc/shadow", f"/etc/{app}", f"/etc/{app}/env", f"/etc/{app}/gunicorn.conf.py"]
    before = _modes(vm, admin, key, watched)
    shadow = _shadow_lines(vm, admin, key)
    serving_before = serving(vm)
    app_py = (EXAMPLE_APP / "app.py").read_bytes()
    hostile = {
        "hostile_symlink_static_to_etc": _archive({"app.py": app_py, "requirements.txt": b"-r /etc/shadow\nflask\n"},
                                                  {"static": "/etc"}),
        "hostile_requirements_read_shadow": _archive({"app.py": app_py, "requirements.txt": b"-r /etc/shadow\n"}, {}),
    }
    for name, pkg in hostile.items():
        rid = release_id(spec, code_digest(spec, pkg))
        t = time.monotonic()
        p = run_deploy(vm, spec, admin, key, pkg, rid, timeout=300)
        out = p.stdout + p.stderr
        hashes = [line.split(":")[1] for line in shadow if len(line.split(":")) > 1 and len(line.split(":")[1]) > 2]
        leaked = [line for line in shadow if line in out] + [h for h in hashes if h in out]
        after = _modes(vm, admin, key, watched)
        left = vm.ssh(admin, key, f"{AS_ROOT} ls /srv/{app}/releases", timeout=30).stdout.split()
        now = serving(vm)
        # the symlink archive must be refused by the script's own check (its "refused:" line), not fail later
        refused = "refused:" in out or name != "hostile_symlink_static_to_etc"
        ok = (p.returncode != 0 and refused and not leaked and after == before and now == serving_before
              and not any(d.endswith(".tmp") for d in left) and rid not in left)
        log(f"{name}: rc {p.returncode}, leaked {len(leaked)} shadow line(s), modes kept {after == before}, "
            f"serving {now}")
        results.append(CheckResult(name, ok, {"rc": p.returncode, "log": out.strip().splitlines()[-6:],
                                              "modes_before": before, "modes_after": after, "releases": left,
                                              "serving": now, "leaked_lines": len(leaked)},
                                   figures={"deploy_s": round(time.monotonic() - t, 1)}))

    # (b) values the old EnvironmentFile form changed, through appEnv and appSecrets, read back from the app.
    env_app = dataclasses.replace(spec.app, env=ENV_VALUES)
    env_spec = dataclasses.replace(spec, app=env_app)
    assert all(envfile.parse_line(f"{n}={v}") == (n, v) for n, v in ENV_VALUES + SECRET_VALUES)  # config accepts
    secrets = "".join(f"{n}={v}\n" for n, v in SECRET_VALUES)
    with_secrets = dataclasses.replace(env_spec, app=dataclasses.replace(
        env_app, secret_names=tuple(n for n, _ in SECRET_VALUES)))
    pkg = _archive({"app.py": app_py, "requirements.txt": (EXAMPLE_APP / "requirements.txt").read_bytes()}, {})
    rid = release_id(with_secrets, code_digest(with_secrets, pkg))
    t = time.monotonic()
    p = run_deploy(vm, with_secrets, admin, key, pkg, rid, secrets=secrets, timeout=600)
    environ = _app_environ(vm, admin, key, f"{app}.service")
    want = dict(ENV_VALUES + SECRET_VALUES)
    got = {k: environ.get(k) for k in want}
    ok = p.returncode == 0 and got == want and environ.get("HVPS_RELEASE") == rid
    log(f"env values: rc {p.returncode}, intact {got == want}")
    results.append(CheckResult("env_values_arrive_intact", ok,
                               {"rc": p.returncode, "mismatched": sorted(k for k in want if got[k] != want[k]),
                                "log": (p.stdout + p.stderr).strip().splitlines()[-4:]},
                               figures={"deploy_s": round(time.monotonic() - t, 1), "values": len(want)}))
    return results
