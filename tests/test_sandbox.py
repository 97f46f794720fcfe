"""systemd sandboxing: every unit the project adds or configures meets its exposure bound (sandbox.py).

`systemd-analyze security --offline=true` rates the rendered unit files without a running system. Units the
project ships whole are rated as rendered; Debian's units (tests/data/debian-units, copied verbatim from trixie's
packages) are rated with the rendered drop-in over them. This machine's systemd may rate a setting slightly
differently from the host's: the e2e run measures the real figures (e2e/checks.py, sandbox_exposure).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from components.config import HostSpec, parse_host_spec
from components.firstboot import describe_first_boot
from components.firstboot.concerns import AS_ROOT, ROOT_COMMAND
from components.firstboot.sandbox import APP_BOUND, DEFAULT_BOUND, DROPIN_NAME, exposures, sandboxed_units
from tests.conftest import ROOT, raw_config

DEBIAN_UNITS = ROOT / "tests" / "data" / "debian-units"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")


@pytest.fixture
def tls_spec() -> HostSpec:
    return parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com", appName="shop"))


def exposure(root: Path, unit: str) -> float:
    """The overall exposure systemd-analyze gives `unit` under `root` (offline: the unit files only)."""
    assert SYSTEMD_ANALYZE
    p = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", f"--root={root}", "--no-pager", unit],
                       capture_output=True, text=True, timeout=60, check=False)
    got = exposures(p.stdout)
    assert unit in got, (p.returncode, p.stdout[-500:], p.stderr[-500:])
    return got[unit]


def host_root(spec: HostSpec, tmp_path: Path, with_debian_units: bool) -> Path:
    """The unit files and drop-ins first boot and the converge write, under tmp_path (plus Debian's units when
    asked)."""
    units = tmp_path / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    if with_debian_units:
        for unit_file in DEBIAN_UNITS.glob("*.service"):
            shutil.copy(unit_file, units / unit_file.name)
    staged = {u.staged: u.dropin_path for u in sandboxed_units(spec) if u.staged}
    for f in describe_first_boot(spec, converge=True).files:
        path = staged.get(f.path, f.path)  # where the activation installs a staged drop-in
        if path.startswith("/etc/systemd/system/"):
            target = tmp_path / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content)
    return tmp_path


def test_every_unit_has_a_bound_and_every_bound_over_the_default_a_reason(tls_spec) -> None:
    units = sandboxed_units(tls_spec)
    names = [u.unit for u in units]
    assert len(names) == len(set(names))
    assert {"shop.service", "hvps-integrity.service", "hvps-tls.service", "nginx.service", "fail2ban.service",
            "certbot.service", "nftables.service"} <= set(names)
    assert next(u.bound for u in units if u.unit == "shop.service") == APP_BOUND
    for u in units:
        assert (u.bound > DEFAULT_BOUND) == bool(u.reason), u


def test_tls_units_only_with_a_domain(tls_spec) -> None:
    plain = {u.unit for u in sandboxed_units(parse_host_spec(raw_config()))}
    assert not {"hvps-tls.service", "certbot.service"} & plain
    paths = {f.path for f in describe_first_boot(parse_host_spec(raw_config())).files}
    assert f"/etc/systemd/system/certbot.service.d/{DROPIN_NAME}" not in paths
    assert f"/etc/systemd/system/nginx.service.d/{DROPIN_NAME}" in paths


def test_every_dropin_is_written_where_systemd_reads_it(tls_spec) -> None:
    files = {f.path: f for f in describe_first_boot(tls_spec, converge=True).files}
    for u in sandboxed_units(tls_spec):
        if u.dropin:
            assert u.dropin_path == f"/etc/systemd/system/{u.unit}.d/{DROPIN_NAME}"
            f = files[u.dropin_source]
            assert f.mode == "0644" and "\n[Service]\n" in f.content, u.unit


@needs_analyze
def test_units_shipped_whole_meet_their_bound(tls_spec, tmp_path: Path) -> None:
    root = host_root(tls_spec, tmp_path, with_debian_units=False)
    whole = [u for u in sandboxed_units(tls_spec) if (root / "etc/systemd/system" / u.unit).is_file()]
    assert {u.unit for u in whole} == {"shop.service", "hvps-integrity.service", "hvps-provision.service",
                                       "hvps-tls.service"}
    figures = {u.unit: exposure(root, u.unit) for u in whole}
    assert all(figures[u.unit] <= u.bound for u in whole), figures


@needs_analyze
def test_debian_units_with_our_dropins_meet_their_bound(tls_spec, tmp_path: Path) -> None:
    root = host_root(tls_spec, tmp_path, with_debian_units=True)
    dropped = [u for u in sandboxed_units(tls_spec) if u.dropin]
    assert {u.unit for u in dropped} <= {f.name for f in DEBIAN_UNITS.glob("*.service")}
    figures = {u.unit: exposure(root, u.unit) for u in dropped}
    assert all(figures[u.unit] <= u.bound for u in dropped), figures
    # the drop-ins are what does it: Debian's units alone are far above the bound
    bare = tmp_path / "bare"
    (bare / "etc/systemd/system").mkdir(parents=True)
    for u in dropped:
        shutil.copy(DEBIAN_UNITS / u.unit, bare / "etc/systemd/system" / u.unit)
    assert all(exposure(bare, u.unit) > DEFAULT_BOUND for u in dropped)


def test_the_installer_keeps_roots_home_and_its_timer_fires_on_time(tls_spec) -> None:
    """The install phase may upgrade base-files, whose maintainer script rewrites /root/.profile: other users'
    homes are read-only to it, root's is not. Its timer fires within a second: systemd's default accuracy (a
    minute) started it up to 60 s after lockdown, with the host not yet serving."""
    files = {f.path: f.content for f in describe_first_boot(tls_spec).files}
    unit = files["/etc/systemd/system/hvps-provision.service"].splitlines()
    assert "ProtectHome=read-only" in unit and "ReadWritePaths=/root" in unit
    timer = files["/etc/systemd/system/hvps-provision.timer"].splitlines()
    assert "AccuracySec=1s" in timer


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is not installed here")
def test_the_root_prefix_follows_the_sessions_confinement() -> None:
    """AS_ROOT picks hvps-root in a session under no_new_privs (sshd's sandbox: sudo would be refused) and sudo in
    any other, whatever files exist (a converge cut short may have installed hvps-root before sshd's restart)."""
    def prefix(*wrap: str) -> str:
        return subprocess.run([*wrap, "bash", "-c", f"echo {AS_ROOT}"], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    assert prefix() == "sudo -n"
    assert prefix("setpriv", "--no-new-privs") == ROOT_COMMAND
