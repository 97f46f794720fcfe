"""App releases in the VM, with the real host script, exactly as the Pulumi AppRelease resource does them.

components/app/__init__.py's AppRelease uploads `hvps-release.sh` and the packaged app directory to
`remote_paths(spec, rid)` and runs `deploy_command(spec, rid, ...)` over SSH as the admin. Here the same
functions (package_directory, code_digest, release_id, remote_paths, deploy_command) build the same files and the
same command; scp replaces CopyToRemote and ssh replaces remote.Command.

  release 1: examples/flask-app as it is                             -> serving r1
  release 2: the same app with one changed file, while a request loop (10 req/s, e2e/switch_witness.py) hits /
             through nginx from before the deploy is issued until 2 s after it returned and release 2 answered
             -> 0 failed requests, r1 then r2 and never r1 again, at least 5 req/s, serving r2
  release 3: /healthz answers 500 (broken)                           -> deploy fails, rollback, r2 serving
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from components import envfile
from components.app import (
    RELEASE_SCRIPT,
    AppPackage,
    code_digest,
    deploy_command,
    package_directory,
    release_id,
    remote_paths,
    upload_dir,
)
from components.config import AppSpec, HostSpec
from components.firstboot import AS_ROOT

from .checks import CheckResult
from .processes import log
from .switch_witness import SwitchLoop, judge, summary, witness
from .vm import VM

REPO = Path(__file__).resolve().parent.parent
#: The request loop around release 2: its nominal rate, and the least it must achieve (under TCG load).
LOOP_RATE, MIN_RATE = 10.0, 5.0
EXAMPLE_APP = REPO / "examples" / "flask-app"


def app_spec(spec: HostSpec) -> HostSpec:
    """The stack's spec with the example app set (as `appSource: examples/flask-app` would)."""
    app = AppSpec(source=str(EXAMPLE_APP), ref=None, module="app:app", server="wsgi",
                  env=(("GREETING", "Hello from the e2e run"),), secret_names=(), keep_releases=5)
    return dataclasses.replace(spec, app=app)


def scp(vm: VM, admin: str, key: Path, local: Path, remote: str, timeout: float = 120) -> None:
    vm.scp_to(admin, key, local, remote, timeout=timeout)


def run_deploy(vm: VM, spec: HostSpec, admin: str, key: Path, pkg: AppPackage | None, rid: str,
               secrets: str | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Upload script (+ archive) and run the AppRelease's deploy command; the secrets go on stdin, encoded
    as AppRelease sends them."""
    script_path, archive_path = remote_paths(spec, pkg)
    vm.ssh(admin, key, f"mkdir -p {shlex.quote(upload_dir(spec))}", timeout=60, check=True)  # sftp MkdirAll
    with tempfile.TemporaryDirectory() as d:
        scp(vm, admin, key, RELEASE_SCRIPT, script_path)
        if pkg is not None and archive_path is not None:
            archive = Path(d) / "app.tar.gz"
            archive.write_bytes(pkg.data)
            scp(vm, admin, key, archive, archive_path)
    command = deploy_command(spec, rid, pkg, with_secrets=secrets is not None)
    stdin = envfile.encode_file(envfile.parse_text(secrets)) if secrets is not None else ""
    try:
        return subprocess.run([*vm.ssh_base(admin, key), command], input=stdin, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, str(exc.stdout or ""), f"timeout after {timeout}s")


def deploy(vm: VM, spec: HostSpec, admin: str, key: Path, app_dir: Path, timeout: float = 900) -> dict:
    """Package app_dir, upload script + archive, run the AppRelease's deploy command. Returns figures."""
    pkg = package_directory(app_dir)
    rid = release_id(spec, code_digest(spec, pkg))
    t = time.monotonic()
    p = run_deploy(vm, spec, admin, key, pkg, rid, timeout=timeout)
    out = (p.stdout + p.stderr).strip()
    m = re.search(r"switch and health check took (\d+) ms", out)
    uploads = vm.ssh(admin, key, f"ls {shlex.quote(upload_dir(spec))}", timeout=60).stdout.split()
    return {"release_id": rid, "rc": p.returncode, "deploy_s": round(time.monotonic() - t, 1),
            "switch_ms": int(m.group(1)) if m else None, "log": out.splitlines()[-6:],
            "rolled_back": "rolled back to" in out,
            # the command removes no upload; after a success only the ones it names are left
            "uploads_kept": sorted(uploads) == sorted(Path(x).name for x in remote_paths(spec, pkg) if x)}


RELEASE_IN_PAGE = re.compile(rb"release (r-[0-9a-f]+)")


def release_in_page(_status: int, _headers: dict[str, str], body: bytes) -> str | None:
    """Which release answered: the example app's page names it (HVPS_RELEASE, set by the release's unit)."""
    m = RELEASE_IN_PAGE.search(body)
    return m.group(1).decode() if m else None


def pip_trusts_host_ca(vm: VM, admin: str, key: Path) -> str | None:
    """TEST-ENVIRONMENT adaptation, not the product: this machine's egress to PyPI goes through a TLS-inspecting
    proxy whose CA only the host trusts (the first VM run failed with CERTIFICATE_VERIFY_FAILED, 'self-signed
    certificate in certificate chain'). Give the guest's pip the host's bundle (PIP_CERT, else the system one)
    via /etc/pip.conf, as the harness gives apt its proxy via vendor-data. On a real VPS PyPI needs nothing."""
    bundle = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        return None
    scp(vm, admin, key, bundle, "/tmp/e2e-host-ca.pem")
    # 0644 both: the release builds as an unprivileged user, and the admin's sudo runs with umask 027
    p = vm.ssh(admin, key, f"{AS_ROOT} install -m 0644 /tmp/e2e-host-ca.pem /etc/e2e-host-ca.pem"
                           " && rm -f /tmp/e2e-host-ca.pem"
                           " && printf '[global]\\ncert = /etc/e2e-host-ca.pem\\n' >/tmp/e2e-pip.conf"
                           f" && {AS_ROOT} install -m 0644 /tmp/e2e-pip.conf /etc/pip.conf && rm -f /tmp/e2e-pip.conf",
               timeout=60)
    return str(bundle) if p.returncode == 0 else None


def serving(vm: VM) -> str | None:
    """The release that answers / now (None when none answers)."""
    try:
        status, headers, body = vm.http_get(80, "/")
    except OSError:
        return None
    return release_in_page(status, headers, body)


def aide_check(vm: VM, admin: str, key: Path) -> tuple[int, str]:
    """The AIDE half of hvps-integrity.service, run as the unit runs it: (exit code, report)."""
    p = vm.ssh(admin, key, f"{AS_ROOT} aide -c /etc/aide/aide.conf --check", timeout=900)
    return p.returncode, p.stdout + p.stderr


def aide_entries(report: str) -> dict[str, int]:
    """AIDE's summary counts ("Changed entries: 2" -> {"changed": 2}); none when it found nothing."""
    return {m[1].lower(): int(m[2]) for m in re.finditer(r"^\s*(Added|Removed|Changed) entries:\s*(\d+)", report, re.M)}


def integrity_check(vm: VM, spec: HostSpec, admin: str, key: Path, rid: str) -> list[CheckResult]:
    """After the releases the integrity check reports nothing under /srv (each deploy refreshed the baseline for
    what it touched); an edit of the live app code is then reported as a changed entry."""
    srv = f"/srv/{spec.app_name}/"
    rc, report = aide_check(vm, admin, key)
    seen = sorted({line.split()[-1] for line in report.splitlines() if srv in line})
    results = [CheckResult("integrity_releases_not_reported", rc < 14 and not seen,
                           {"srv_entries": seen[:10], "aide_rc": rc}, figures=aide_entries(report))]
    live = f"{srv}releases/{rid}/app.py"
    vm.ssh(admin, key, f"echo '# edited outside a release' | {AS_ROOT} tee -a {shlex.quote(live)} >/dev/null",
           timeout=60, check=True)
    rc, report = aide_check(vm, admin, key)
    entries = aide_entries(report)
    results.append(CheckResult("integrity_live_edit_reported", entries.get("changed", 0) > 0 and live in report,
                               {"edited": live, "aide_rc": rc,
                                "srv_lines": [x.strip() for x in report.splitlines() if srv in x][:10]},
                               figures=entries))
    return results


def releases_check(vm: VM, spec: HostSpec, admin: str, key: Path) -> list[CheckResult]:
    spec = app_spec(spec)
    results: list[CheckResult] = []
    work = Path(tempfile.mkdtemp(prefix="e2e-app-"))
    try:
        v1, v2, v3 = (work / n for n in ("r1", "r2", "r3"))
        for v in (v1, v2, v3):
            shutil.copytree(EXAMPLE_APP, v, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".venv"))
        (v2 / "e2e_release.txt").write_text("release 2 of the e2e run\n")
        (v3 / "e2e_release.txt").write_text("release 3: broken health check\n")
        app3 = (v3 / "app.py").read_text()
        app3 = app3.replace('return jsonify(status="ok")', 'return jsonify(status="broken"), 500')
        assert "500" in app3
        (v3 / "app.py").write_text(app3)

        trusted = pip_trusts_host_ca(vm, admin, key)
        # release 1
        r1 = deploy(vm, spec, admin, key, v1)
        r1["pip_cert_from_host"] = trusted
        s1 = serving(vm)
        log(f"release 1: {r1['release_id']} rc {r1['rc']} in {r1['deploy_s']} s, serving {s1}")
        results.append(CheckResult("release_1", r1["rc"] == 0 and s1 == r1["release_id"] and r1["uploads_kept"],
                                   {"serving": s1, "log": r1["log"]},
                                   figures={k: r1[k] for k in ("release_id", "deploy_s", "switch_ms",
                                                               "pip_cert_from_host")}))

        # release 2 under load: the loop runs from before the deploy is issued until it has seen release 2
        # answer, 2 s after the deploy returned (e2e/switch_witness.py); `systemctl restart` behind the held
        # socket leaves no moment where both releases answer, so no overlap is allowed
        rid2 = release_id(spec, code_digest(spec, package_directory(v2)))
        loop = SwitchLoop(f"http://127.0.0.1:{vm.ports[80]}/", release_in_page, rate=LOOP_RATE)
        r2, window = witness(loop, lambda: deploy(vm, spec, admin, key, v2), old=str(s1), new=rid2)
        verdict = judge(loop.samples, window, str(s1), rid2, min_rate=MIN_RATE)
        s2 = serving(vm)
        log(f"release 2: {rid2} rc {r2['rc']}, loop {verdict.figures}, serving {s2}; {list(verdict.failures)}")
        results.append(CheckResult(
            "release_2_zero_downtime",
            r2["rc"] == 0 and verdict.ok and s2 == rid2 and bool(r2["uploads_kept"]),
            {"serving": s2, "witness": summary(loop.samples, verdict, str(s1), rid2), "log": r2["log"]},
            figures={"release_id": rid2, **verdict.figures, "switch_ms": r2["switch_ms"],
                     "deploy_s": r2["deploy_s"]}))

        # release 3: broken health check -> the script rolls back to release 2 and fails
        r3 = deploy(vm, spec, admin, key, v3)
        s3 = serving(vm)
        h = vm.http_get(80, spec.app_health_path)[0]
        rolled = bool(r3["rolled_back"])
        log(f"release 3 (broken): rc {r3['rc']}, rolled back {rolled}, serving {s3}, health {h}")
        results.append(CheckResult("release_3_broken_rolls_back", r3["rc"] != 0 and rolled and s3 == rid2 and h == 200,
                                   {"serving": s3, "health": h, "log": r3["log"]},
                                   figures={"release_id": r3["release_id"], "deploy_rc": r3["rc"],
                                            "serving_after": s3, "deploy_s": r3["deploy_s"]}))
        results += integrity_check(vm, spec, admin, key, rid2)
    except (subprocess.SubprocessError, OSError) as exc:
        results.append(CheckResult("releases", False, f"{type(exc).__name__}: {exc}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results
