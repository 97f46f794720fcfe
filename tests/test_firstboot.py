"""First-boot data: one description, two forms, under the size limit, valid for the real tools.

The templates it is rendered from, their encoders and the comment lines left out of the bytes sent:
tests/test_firstboot_templates.py."""

from __future__ import annotations

import base64
import gzip
import random
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import firstboot
from components.config import ConfigError, load_stack_file, parse_host_spec, parse_ssh_key
from components.firstboot import (
    BUNDLE_PATH,
    MAX_FIRST_BOOT_BYTES,
    FirstBootTooLarge,
    cloud_config_gzip_base64,
    describe_first_boot,
    effective_origins,
    render_first_boot,
    upgrade_origins,
    wire,
)
from components.firstboot.converge import converge_files
from tests import firstboot_support
from tests.conftest import ED25519_KEY, ROOT, RSA_4096_KEY, STACK_FILES, random_rsa_key, raw_config, ssh_blob

domain_spec = firstboot_support.domain_spec  # the shared fixture, registered here


def bundle_of_cloud_config(text: str) -> dict[str, tuple[str, int]]:
    document = yaml.safe_load(text)
    (entry,) = document["write_files"]
    assert entry["path"] == BUNDLE_PATH and entry["encoding"] == "b64"
    assert wire.bundle_of_cloud_config(text) == base64.b64decode(entry["content"])
    return _files(wire.bundle_of_cloud_config(text))


def bundle_of_launch_script(text: str) -> dict[str, tuple[str, int]]:
    return _files(wire.bundle_of_launch_script(text))


def _files(bundle: bytes) -> dict[str, tuple[str, int]]:
    return {e.path: (e.content.decode(), e.mode) for e in wire.unpack(bundle)}


def test_both_forms_carry_the_same_files(stack_file) -> None:
    spec = load_stack_file(stack_file)
    rendered = render_first_boot(spec)
    from_cc = bundle_of_cloud_config(rendered.cloud_config)
    from_script = bundle_of_launch_script(rendered.launch_script)
    expected = {f.path: (f.content, int(f.mode, 8)) for f in describe_first_boot(spec).files}
    assert from_cc == from_script == expected
    assert rendered.launch_script.rstrip().endswith(f"exec {firstboot.PROVISION_SCRIPT}")
    assert yaml.safe_load(rendered.cloud_config)["runcmd"][-1] == [firstboot.PROVISION_SCRIPT]


def test_every_form_is_under_16_kib(stack_file) -> None:
    sizes = render_first_boot(load_stack_file(stack_file)).sizes
    assert set(sizes) == {"cloud-config", "cloud-config-gzip-base64", "launch-script"}
    assert all(0 < n <= MAX_FIRST_BOOT_BYTES for n in sizes.values()), sizes


def test_linode_payload_decodes_to_the_cloud_config(stack_file) -> None:
    rendered = render_first_boot(load_stack_file(stack_file))
    sent = cloud_config_gzip_base64(rendered.cloud_config)
    assert gzip.decompress(base64.b64decode(sent)).decode() == rendered.cloud_config


def test_rendering_is_deterministic(domain_spec) -> None:
    assert render_first_boot(domain_spec) == render_first_boot(domain_spec)


@pytest.mark.parametrize(("vendor", "region", "limit", "keys"), [
    ("linode", "fr-par", 16384, 20), ("lightsail", "eu-central-1", 16384, 20), ("digitalocean", "fra1", 65536, 80)])
def test_oversized_first_boot_data_is_refused(vendor: str, region: str, limit: int, keys: int) -> None:
    # Many distinct large keys do not compress: each vendor's limit on the form it receives is what trips.
    # (80 keys pass the renderer, not config's length cap: the spec is widened after validation.)
    spec = parse_host_spec(raw_config(vendor=vendor, region=region))
    spec = replace(spec, ssh_keys=tuple(parse_ssh_key(random_rsa_key(i)) for i in range(keys)))
    with pytest.raises(FirstBootTooLarge, match=rf"over {vendor}'s {limit}-byte limit"):
        render_first_boot(spec)


def test_digitalocean_takes_first_boot_data_the_16k_vendors_refuse() -> None:
    """DigitalOcean accepts 64 KiB of user data: a stack only Linode and Lightsail would refuse renders there."""
    keys = [random_rsa_key(i) for i in range(20)]
    rendered = render_first_boot(parse_host_spec(raw_config(sshPublicKeys=keys)))
    assert 16384 < rendered.sizes["cloud-config"] <= 65536


def test_sshd_drop_in_has_the_baseline(domain_spec) -> None:
    files = {f.path: f.content for f in describe_first_boot(domain_spec).files}
    sshd = files["/etc/ssh/sshd_config.d/10-hvps-hardening.conf"]
    settings = dict(line.split(None, 1) for line in sshd.splitlines() if line and not line.startswith("#"))
    expected = {"PermitRootLogin": "no", "PasswordAuthentication": "no", "KbdInteractiveAuthentication": "no",
                "AuthenticationMethods": "publickey", "X11Forwarding": "no", "AllowTcpForwarding": "no",
                "AllowAgentForwarding": "no", "MaxAuthTries": "3", "RequiredRSASize": "3072",
                "AllowGroups": "sshusers", "LogLevel": "VERBOSE"}
    assert {k: settings[k] for k in expected} == expected
    assert settings["KexAlgorithms"].startswith("mlkem768x25519-sha256,")  # debian-13: OpenSSH 10
    assert "ecdsa-sha2-nistp256" not in settings["HostKeyAlgorithms"]


def test_kex_follows_the_images_openssh() -> None:
    spec = parse_host_spec(raw_config(image="debian-12"))
    sshd = next(f.content for f in describe_first_boot(spec).files if f.path.endswith("10-hvps-hardening.conf"))
    assert "mlkem768" not in sshd  # OpenSSH 9.2 would reject the unknown name and sshd would not start


def test_host_firewall_admits_ssh_only_from_the_stack_cidrs(domain_spec) -> None:
    nft = next(f.content for f in describe_first_boot(domain_spec).files if f.path == "/etc/nftables.conf")
    assert "policy drop;" in nft
    assert "ip saddr { 203.0.113.0/24 } tcp dport 22 accept" in nft
    assert "ip6 saddr { 2001:db8::/32 } tcp dport 22 accept" in nft
    opened = re.findall(r"(tcp|udp) dport (\{[^}]*\}|\S+)", nft)
    assert opened == [("udp", "68"), ("udp", "546"), ("tcp", "22"), ("tcp", "22"), ("tcp", "{ 80, 443 }")]


def _accept_rules(nft: str) -> list[str]:
    return [line.strip() for line in nft.splitlines() if line.strip().split(" comment ")[0].endswith(" accept")]


@pytest.mark.parametrize(("vendor", "region", "ipv6", "dhcpv6"), [
    ("digitalocean", "fra1", True, True), ("digitalocean", "fra1", False, False),
    ("lightsail", "eu-central-1", False, False), ("linode", "fr-par", False, True)])
def test_host_firewall_admits_dhcp_server_replies_only(vendor: str, region: str, ipv6: bool, dhcpv6: bool) -> None:
    """UDP is open only to DHCP replies: from the server port to the client port, DHCPv6 from link-local and
    only on a host with IPv6 (every Linode has it). A bare `udp dport 68` would admit any sender's packets."""
    spec = parse_host_spec(raw_config(vendor=vendor, region=region, ipv6=ipv6))
    nft = next(f.content for f in describe_first_boot(spec).files if f.path == "/etc/nftables.conf")
    udp = [rule for rule in _accept_rules(nft) if "udp" in rule]
    v4 = 'meta nfproto ipv4 udp sport 67 udp dport 68 accept comment "DHCPv4 server replies"'
    v6 = 'ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 server replies"'
    assert udp == ([v4, v6] if dhcpv6 else [v4])


def test_tls_only_with_a_domain(domain_spec) -> None:
    plain = {f.path for f in describe_first_boot(parse_host_spec(raw_config())).files}
    with_tls = {f.path: f.content for f in describe_first_boot(domain_spec).files}
    assert "/usr/local/sbin/hvps-tls-issue" not in plain
    issue = with_tls["/usr/local/sbin/hvps-tls-issue"]
    assert "--webroot" in issue and "https://acme-v02.api.letsencrypt.org/directory" in issue
    tls = with_tls["/etc/nginx/snippets/hvps-tls.conf"]
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in tls and "max-age=63072000" in tls
    assert "systemctl reload nginx" in with_tls["/etc/letsencrypt/renewal-hooks/deploy/hvps-reload-nginx"]


def test_digest_tracks_content(domain_spec) -> None:
    base = describe_first_boot(domain_spec).digest
    assert describe_first_boot(replace(domain_spec, swap_size_mb=2048)).digest != base
    assert describe_first_boot(replace(domain_spec, admin_user="ops")).digest != base


@pytest.mark.skipif(shutil.which("cloud-init") is None, reason="Debian package cloud-init not installed")
def test_cloud_config_passes_cloud_init_schema(stack_file, tmp_path) -> None:
    path = tmp_path / "user-data"
    path.write_text(render_first_boot(load_stack_file(stack_file)).cloud_config)
    result = subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "Valid" in result.stdout, result.stdout + result.stderr


def test_cloud_init_schema_check_can_fail(tmp_path) -> None:
    if shutil.which("cloud-init") is None:
        pytest.skip("Debian package cloud-init not installed")
    path = tmp_path / "user-data"
    path.write_text("#cloud-config\nusers: []\nruncmd: 7\n")
    assert subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True).returncode != 0


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_scripts_pass_bash_n_and_shellcheck(tmp_path, domain_spec) -> None:
    rendered = render_first_boot(domain_spec)
    scripts = {"launch-script": rendered.launch_script}
    scripts |= {Path(f.path).name: f.content for f in describe_first_boot(domain_spec).files
                if f.content.startswith("#!/bin/")}
    assert {"launch-script", "hvps-provision", "hvps-tls-issue", "hvps-reload-nginx"} <= set(scripts)
    # both provisioners (first boot's, the converge's), with the converge's code where they source it
    scripts["hvps-provision converging"] = next(f.content for f in converge_files(domain_spec).files
                                                if f.path == "/usr/local/sbin/hvps-provision")
    for name in ("hvps-provision", "hvps-provision converging"):
        scripts[name] = firstboot_support.provisioner_for_lint(scripts[name])
    for name, text in scripts.items():
        path = tmp_path / name
        path.write_text(text)
        shell = "sh" if text.startswith("#!/bin/sh") else "bash"
        assert subprocess.run([shell, "-n", str(path)], capture_output=True).returncode == 0, name
        lint = subprocess.run(["shellcheck", "-s", shell, str(path)], capture_output=True, text=True)
        assert lint.returncode == 0, f"{name}:\n{lint.stdout}"


def test_admin_keys_are_written_verbatim() -> None:
    spec = parse_host_spec(raw_config(sshPublicKeys=[ED25519_KEY, RSA_4096_KEY]))
    keys = next(f for f in describe_first_boot(spec).files if f.path == "/etc/hvps/admin_authorized_keys")
    assert keys.content == f"{ED25519_KEY}\n{RSA_4096_KEY}\n" and keys.mode == "0600"


def test_private_acme_ca_is_trusted_by_certbot_only_when_given() -> None:
    pem = (ROOT / "tests" / "data" / "test-ca.pem").read_text()
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com",
                                      acmeServer="https://10.0.2.2:14000/dir", acmeCaCertificate=pem))
    files = {f.path: f.content for f in describe_first_boot(spec).files}
    assert files["/etc/hvps/acme-ca.pem"] == pem
    issue = files["/usr/local/sbin/hvps-tls-issue"]
    assert "REQUESTS_CA_BUNDLE=/etc/hvps/acme-ca.pem certbot certonly" in issue
    assert "--server https://10.0.2.2:14000/dir -m ops@example.com" in issue
    # renewals (certbot.timer -> certbot.service) trust it too, not only the first issuance
    assert files["/etc/systemd/system/certbot.service.d/hvps-acme-ca.conf"] == (
        "[Service]\nEnvironment=REQUESTS_CA_BUNDLE=/etc/hvps/acme-ca.pem\n")
    plain = {f.path: f.content for f in describe_first_boot(parse_host_spec(
        raw_config(domain="app.example.com", acmeEmail="ops@example.com"))).files}
    assert "/etc/hvps/acme-ca.pem" not in plain and "REQUESTS_CA_BUNDLE" not in plain["/usr/local/sbin/hvps-tls-issue"]
    assert "/etc/systemd/system/certbot.service.d/hvps-acme-ca.conf" not in plain
    with pytest.raises(ConfigError, match="acmeCaCertificate: not a PEM certificate"):
        parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com", acmeCaCertificate="x"))


def _random_ed25519_key(seed: int) -> str:
    return "ssh-ed25519 " + ssh_blob(b"ssh-ed25519", random.Random(seed).randbytes(32)) + f" admin{seed}@example.org"


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("team", ["10 ed25519", "3 rsa-4096"])
def test_example_stacks_leave_room_for_a_team_of_admins(stack_file, team: str) -> None:
    """Each example with 10 more ed25519 admin keys, or 3 more RSA-4096 ones (random: they do not compress),
    still fits its vendor's limit on the form that vendor receives (the 16 KiB of Linode and Lightsail bind)."""
    spec = load_stack_file(stack_file)
    more = ([_random_ed25519_key(i) for i in range(10)] if team.startswith("10")
            else [random_rsa_key(100 + i) for i in range(3)])
    form, limit = firstboot.SENT_FORM_LIMITS[spec.vendor]
    sizes = render_first_boot(replace(spec, ssh_keys=spec.ssh_keys + tuple(map(parse_ssh_key, more)))).sizes
    assert sizes[form] <= limit, (spec.vendor, sizes)


def _apt_dump(parts: Path) -> str:
    """`apt-config dump` of the apt.conf.d files in `parts` alone, in apt's own reading order."""
    cfg = parts.parent / "apt.conf"
    cfg.write_text(f'Dir::Etc::parts "{parts}";\n')
    apt_config = shutil.which("apt-config")
    assert apt_config
    return subprocess.run([apt_config, "dump", "Unattended-Upgrade"], env={"APT_CONFIG": str(cfg)},
                          capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.skipif(shutil.which("apt-config") is None, reason="apt-config is not installed here")
def test_effective_upgrade_origins_are_the_security_pockets_only(tmp_path: Path) -> None:
    """Debian's 50unattended-upgrades, read first, adds the point-release origin (label=Debian): our file clears
    both origin lists, so what apt resolves is exactly the documented list (e2e checks the same on the host)."""
    spec = parse_host_spec(raw_config())
    parts = tmp_path / "apt.conf.d"
    parts.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "debian-50unattended-upgrades", parts / "50unattended-upgrades")
    stock = effective_origins(_apt_dump(parts))
    assert "origin=Debian,codename=${distro_codename},label=Debian" in stock
    ours = next(f for f in describe_first_boot(spec).files if f.path.startswith("/etc/apt/apt.conf.d/52"))
    (parts / Path(ours.path).name).write_text(ours.content)
    assert effective_origins(_apt_dump(parts)) == upgrade_origins(spec)
    assert all("security" in o.lower() for o in upgrade_origins(spec))
    # unattended-upgrades.service is sandboxed on the promise that it never installs at shutdown
    assert 'Unattended-Upgrade::InstallOnShutdown "true"' not in _apt_dump(parts)


def test_the_sample_app_answers_its_page_and_health_path() -> None:
    spec = parse_host_spec(raw_config(appHealthPath="/up"))
    source = next(f.content for f in describe_first_boot(spec).files if f.path == "/etc/hvps/sample_app.py")
    namespace: dict[str, Any] = {}
    exec(compile(source, "sample_app.py", "exec"), namespace)
    for path, kind, expected in (("/up", "application/json", b'{"status": "ok"}'), ("/", "text/html", b"It works")):
        started: list[tuple[str, list[tuple[str, str]]]] = []
        (body,) = namespace["app"]({"PATH_INFO": path}, lambda status, headers, s=started: s.append((status, headers)))
        ((status, headers),) = started
        assert status == "200 OK" and expected in body
        assert dict(headers)["Content-Type"].startswith(kind) and dict(headers)["Content-Length"] == str(len(body))
