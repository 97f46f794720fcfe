"""The host configuration by concern: each concern renders on its own, and one setting belongs to one concern.

A concern's files are what convergence compares and activates together, so a setting that leaked into a second
concern's files would restart a service nobody changed. Validators run where this machine has them (visudo);
sshd, nft and nginx are not installed here, so their files are checked for structure instead.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from components import firstboot
from components.config import HostSpec, parse_host_spec, parse_ssh_key
from components.firstboot import concerns as concern_data
from components.firstboot import settings as setting_tables
from tests.conftest import ED25519_KEY, RSA_4096_KEY, raw_config

DATA = {"dataVolumeGb": 10, "database": "postgresql", "backupBucket": "shop-backups",
        "backupEndpoint": "https://fra1.digitaloceanspaces.com", "backupRecipient": "age1" + "q" * 58,
        "backupAccessKeyId": "AKIDEXAMPLE", "backupSecretAccessKey": "secret-example"}
CA = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def spec() -> HostSpec:
    """A stack where every concern applies: a domain (tls), a private ACME CA, DigitalOcean with monitoring, a data
    volume with PostgreSQL and off-host backups."""
    full = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com", **DATA))
    return replace(full, acme_ca_certificate=CA, vendor="digitalocean", monitoring=True)


def files_by_concern(spec: HostSpec) -> dict[str, dict[str, str]]:
    values = firstboot.template_values(spec)
    return {c.name: {f.path: f.content for f in firstboot.concern_files(c, spec, values)}
            for c in firstboot.concerns_for(spec)}


def changed_concerns(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_every_concern_applies_in_the_full_stack(spec) -> None:
    assert [c.name for c in firstboot.concerns_for(spec, converge=True)] == [c.name for c in firstboot.CONCERNS]
    # first boot leaves out the concerns only the converge delivers
    assert [c.name for c in firstboot.concerns_for(spec)] == [c.name for c in firstboot.CONCERNS if c.first_boot]


def test_changing_a_sysctl_value_changes_only_kernel_and_limits(spec, monkeypatch) -> None:
    before = files_by_concern(spec)
    settings = dict(setting_tables.SYSCTL_SETTINGS)
    assert settings["vm.swappiness"] != "20"
    monkeypatch.setattr(firstboot.values, "SYSCTL_SETTINGS", tuple({**settings, "vm.swappiness": "20"}.items()))
    after = files_by_concern(spec)
    assert changed_concerns(before, after) == {"kernel-and-limits"}
    assert "vm.swappiness = 20" in after["kernel-and-limits"]["/etc/sysctl.d/90-hvps-hardening.conf"]


def test_changing_an_sshd_option_changes_only_admin_and_ssh(spec, monkeypatch) -> None:
    before = files_by_concern(spec)
    options = dict(setting_tables.SSHD_OPTIONS)
    assert options["MaxAuthTries"] != "2"
    monkeypatch.setattr(firstboot.values, "SSHD_OPTIONS", tuple({**options, "MaxAuthTries": "2"}.items()))
    after = files_by_concern(spec)
    assert changed_concerns(before, after) == {"admin-and-ssh"}
    assert "\nMaxAuthTries 2\n" in after["admin-and-ssh"]["/etc/ssh/sshd_config.d/10-hvps-hardening.conf"]


def test_changing_the_image_kex_changes_only_admin_and_ssh(spec) -> None:
    assert setting_tables.SSH_KEX["debian-12"] != setting_tables.SSH_KEX[spec.image]
    before = files_by_concern(spec)
    assert changed_concerns(before, files_by_concern(replace(spec, image="debian-12"))) == {"admin-and-ssh"}


def test_changing_an_nginx_header_template_changes_only_nginx(spec, monkeypatch) -> None:
    before = files_by_concern(spec)
    name = "etc/nginx/snippets/hvps-security-headers.conf"
    original = firstboot.templating._template

    def edited(template: str) -> str:
        text = original(template)
        return text + 'add_header X-Hvps-Test "1" always;\n' if template == name else text

    monkeypatch.setattr(firstboot.templating, "_template", edited)
    after = files_by_concern(spec)
    assert changed_concerns(before, after) == {"nginx"}
    assert after["nginx"]["/" + name].endswith('add_header X-Hvps-Test "1" always;\n')


def test_changing_an_admin_key_changes_only_admin_and_ssh(spec) -> None:
    before = files_by_concern(spec)
    after = files_by_concern(replace(spec, ssh_keys=(parse_ssh_key(ED25519_KEY), parse_ssh_key(RSA_4096_KEY))))
    assert changed_concerns(before, after) == {"admin-and-ssh"}


def test_every_file_belongs_to_exactly_one_concern(spec) -> None:
    paths = [p for files in files_by_concern(spec).values() for p in files]
    assert len(paths) == len(set(paths))
    assert sorted(paths) == sorted(f.path for f in firstboot.describe_first_boot(spec).files)


def test_first_boot_activations_enable_through_enable_units_and_reload_only_for_swap() -> None:
    """A daemon-reload costs about 3 s in the TCG VM and `systemctl enable` does one even when nothing changes:
    first boot's activations enable with the provisioner's enable_units (only what is not enabled yet, together
    at the phase's end, without a reload) and reload only for a unit they make themselves (swap's, from the
    fstab line they add). The converge-only concerns (not timed, and unchanged so that an upgrade of the product
    does not restart the database) enable and reload as before."""
    for concern in concern_data.CONCERNS:
        text = "\n".join((concern.activate, concern.once, concern.validate, concern.health))
        if not concern.first_boot:
            continue
        assert "systemctl enable" not in text and "--now" not in text, concern.name
        assert text.count("daemon-reload") == (1 if concern.name == "swap" else 0), concern.name
    swap = next(c for c in concern_data.CONCERNS if c.name == "swap").activate
    assert re.search(r"if ! grep -q '\^/swapfile ' \S+; then\n.*\n  systemctl daemon-reload\nfi\n", swap)


# ---------------------------------------------------------------------------------------------------------
# Each concern on its own: its files render and pass the validator (or a structure check).

def _check_sudoers(text: str, tmp: Path) -> None:
    assert text.startswith("#") and "NOPASSWD" in text
    visudo = shutil.which("visudo") or ("/usr/sbin/visudo" if Path("/usr/sbin/visudo").exists() else None)
    if visudo:
        (tmp / "sudoers").write_text(text)
        checked = subprocess.run([visudo, "-c", "-f", str(tmp / "sudoers")], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _check_sshd(text: str, spec: HostSpec) -> None:
    """One `Keyword argument` per line, each keyword once (sshd keeps the first), the table's values exactly."""
    pairs = [line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")]
    keywords = [k for k, _ in pairs]
    assert len(keywords) == len(set(keywords))
    expected = {k: v.replace("{kex}", setting_tables.SSH_KEX[spec.image]).replace("{group}", setting_tables.SSH_GROUP)
                for k, v in setting_tables.SSHD_OPTIONS}
    assert dict(pairs) == expected


def _balanced(text: str) -> None:
    depth = 0
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        depth += code.count("{") - code.count("}")
        assert depth >= 0, line
    assert depth == 0


def _check_nginx(text: str) -> None:
    """Balanced braces; every directive ends with `;` or opens/closes a block."""
    _balanced(text)
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip()
        assert not code or code.endswith((";", "{", "}")), line


def _check_nft(text: str) -> None:
    assert text.startswith("#!/usr/sbin/nft -f\n") and "flush ruleset" in text
    _balanced(text)
    assert re.search(r"chain input \{[^}]*policy drop;", text)


def _check_unit(text: str) -> None:
    lines = [line for line in text.splitlines() if line and not line.startswith(("#", ";"))]
    assert lines[0].startswith("[")
    for line in lines:
        assert re.fullmatch(r"\[[A-Za-z]+\]|[A-Za-z]+=.*", line), line


def check_file(path: str, text: str, spec: HostSpec, tmp: Path) -> str:
    """Validate one host file by its kind; returns the kind checked (so the test can say none was skipped)."""
    if path.startswith("/etc/sudoers.d/"):
        _check_sudoers(text, tmp)
        return "sudoers"
    if path.startswith("/etc/ssh/sshd_config.d/"):
        _check_sshd(text, spec)
        return "sshd"
    if path == "/etc/nftables.conf":
        _check_nft(text)
        return "nft"
    if path.startswith("/etc/nginx/") or "/nginx-site-" in path:
        _check_nginx(text)
        return "nginx"
    if path.startswith("/etc/systemd/") or path.endswith(".conf.d/hvps.conf"):
        _check_unit(text)
        return "systemd"
    if path.endswith(".py"):
        ast.parse(text)
        return "python"
    if text.startswith("#!/bin/bash") or text.startswith("#!/bin/sh") or path == "/etc/profile.d/hvps.sh":
        parsed = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        assert parsed.returncode == 0, parsed.stderr
        return "shell"
    if path == "/etc/sysctl.d/90-hvps-hardening.conf":
        lines = [line for line in text.splitlines() if line and not line.startswith("#")]
        assert lines == [f"{k} = {v}" for k, v in setting_tables.SYSCTL_SETTINGS]
        return "sysctl"
    assert text.strip(), path
    return "present"


@pytest.mark.parametrize("name", [c.name for c in concern_data.CONCERNS])
def test_each_concern_renders_and_validates_on_its_own(name, spec, tmp_path) -> None:
    concern = next(c for c in concern_data.CONCERNS if c.name == name)
    values = firstboot.template_values(spec)
    files = firstboot.concern_files(concern, spec, values)
    assert [f.path for f in files if f.path != concern_data.HOST_KEY_PATH] == [
        p for p in firstboot.concern_paths(concern, spec)]
    kinds = {f.path: check_file(f.path, f.content, spec, tmp_path) for f in files}
    assert all(kinds.values())
    # its steps render into bash that parses on its own
    functions = firstboot.concern_functions(concern, values)
    parsed = subprocess.run(["bash", "-n"], input=functions, capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr


def test_the_validators_catch_a_broken_file(spec, tmp_path) -> None:
    """The structure checks can fail: a broken sudoers line, an unclosed nginx block, a duplicated sshd keyword."""
    if shutil.which("visudo") or Path("/usr/sbin/visudo").exists():
        with pytest.raises(AssertionError):
            _check_sudoers("# x\ndeploy ALL=(ALL NOPASSWD: ALL\n", tmp_path)
    with pytest.raises(AssertionError):
        _check_nginx("server {\n  listen 80;\n")
    with pytest.raises(AssertionError):
        _check_nginx("server {\n  listen 80\n}\n")
    sshd = "\n".join(f"{k} {v}" for k, v in setting_tables.SSHD_OPTIONS)
    with pytest.raises(AssertionError):
        _check_sshd(sshd + "\nPort 2222\n", spec)


def _run_kernel_activation(spec: HostSpec, tmp_path: Path, diverted: bool) -> list[str]:
    """The kernel-and-limits activation as rendered, under bash with stubs for what touches the running system
    (sysctl, mount, dpkg-divert), in a temporary root; returns dpkg-divert's calls."""
    concern = next(c for c in firstboot.concerns_for(spec) if c.name == "kernel-and-limits")
    script = firstboot.concern_functions(concern, firstboot.template_values(spec))
    stubs, root = tmp_path / "stubs", tmp_path / "root"
    (root / "etc/security/limits.d").mkdir(parents=True)
    (root / "etc/security/limits.d/10-coredump-debian.conf").write_text("*  hard  core  infinity\n")
    (root / "etc/fstab").write_text("")
    stubs.mkdir()
    listing = "local diversion of /etc/security/limits.d/10-coredump-debian.conf" if diverted else ""
    for name, body in (("sysctl", ""), ("mount", ""),
                       ("dpkg-divert", f'echo "$*" >>"{tmp_path}/calls"; [ "$1" != --list ] || echo "{listing}"')):
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HVPS_ROOT": str(root)}
    subprocess.run(["bash", "-euo", "pipefail", "-c",
                    f'R="$HVPS_ROOT"; log() {{ :; }}\n{script}activate_kernel_and_limits'],
                   env=env, check=True, timeout=20)
    return (tmp_path / "calls").read_text().splitlines()


def test_systemds_core_dump_limits_are_diverted_once(spec: HostSpec, tmp_path: Path) -> None:
    """Lynis reads limits.d in directory order: systemd's `* hard core infinity` file must leave it, through a
    diversion (so an upgrade of systemd does not bring it back), and only when not diverted yet."""
    first = _run_kernel_activation(spec, tmp_path / "first", diverted=False)
    assert first[-1] == ("--quiet --local --rename --divert /var/lib/hvps/diverted/10-coredump-debian.conf "
                         "--add /etc/security/limits.d/10-coredump-debian.conf")
    again = _run_kernel_activation(spec, tmp_path / "again", diverted=True)
    assert not any("--add" in call for call in again)
