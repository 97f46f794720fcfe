"""What the templates are filled with: every placeholder value of a stack, and the concerns' steps as bash.

The rule and script blocks built here are `Trusted` text, with every spec value inside them already encoded.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from components import catalog, envfile
from components.config import HostSpec, default_of
from components.firstboot import progress, wire
from components.firstboot.concerns import (
    ACME_CA_PATH,
    CONVERGE_CODE_PATH,
    DEFERRED,
    SERVE,
    Concern,
    concerns_for,
)
from components.firstboot.settings import (
    HARDENED_MOUNTS,
    LOGIN_DEFS,
    SSH_GROUP,
    SSH_KEX,
    SSHD_OPTIONS,
    SYSCTL_SETTINGS,
    postgresql_settings,
)
from components.firstboot.templating import TemplateError, Trusted, encode_sh, encode_sshd, render_text

#: The sample app's WSGI entry point (module:attribute), served until the user deploys an app of their own.
SAMPLE_APP_MODULE = default_of("appModule")  # the sample app is written to the default entry point

# Security pockets that unattended-upgrades may install from (Debian wiki UnattendedUpgrades; Ubuntu docs): the
# whole effective list. apt reads apt.conf.d in name order and Debian's 50unattended-upgrades, read before ours,
# also lists the point-release origin (label=Debian): our file starts with `#clear` of both origin lists.
_UPGRADE_ORIGINS = {
    "debian": ("origin=Debian,codename=${distro_codename},label=Debian-Security",
               "origin=Debian,codename=${distro_codename}-security,label=Debian-Security"),
    "ubuntu": ("origin=${distro_id},archive=${distro_codename}-security",),
}


def upgrade_origins(spec: HostSpec) -> list[str]:
    """The origin patterns unattended-upgrades may install from on this host: the whole effective list."""
    return list(_UPGRADE_ORIGINS[spec.os_family])


def effective_origins(apt_config_dump: str) -> list[str]:
    """The origins unattended-upgrades would use, from `apt-config dump` (every apt.conf.d file read; both lists)."""
    return re.findall(r'^Unattended-Upgrade::(?:Origins-Pattern|Allowed-Origins):: "(.*)";$', apt_config_dump, re.M)


def ssh_firewall_rules(spec: HostSpec) -> Trusted:
    """nftables rules admitting SSH from the stack's CIDRs only (re-parsed here: the block goes in raw)."""
    v4, v6 = spec.ssh_cidrs_by_family
    rules = []
    if v4:
        rules.append(f"    ip saddr {{ {', '.join(str(ipaddress.IPv4Network(c)) for c in v4)} }} tcp dport 22 accept")
    if v6:
        rules.append(f"    ip6 saddr {{ {', '.join(str(ipaddress.IPv6Network(c)) for c in v6)} }} tcp dport 22 accept")
    return Trusted("\n".join(rules))


def has_ipv6(spec: HostSpec) -> bool:
    """The host gets IPv6: where the stack asks for it, and always where the vendor gives every server an address."""
    return spec.ipv6 or catalog.vendor(spec.vendor).always_ipv6


def dhcp_firewall_rules(spec: HostSpec) -> Trusted:
    """nftables rules admitting DHCP server replies only (server port to client port), v6 only with IPv6."""
    rules = ['    meta nfproto ipv4 udp sport 67 udp dport 68 accept comment "DHCPv4 server replies"']
    if has_ipv6(spec):
        rules.append('    ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 server replies"')
    return Trusted("\n".join(rules))


def packages_for(spec: HostSpec, phase: str | None = None) -> tuple[str, ...]:
    """The packages the stack's concerns need, in concern order (only those installed in `phase` if given): a
    concern's packages in its package phase, its later packages in the deferred phase."""
    return tuple(p for c in concerns_for(spec) for p in (
        *(c.packages if phase in (None, c.package_phase) else ()),
        *(c.later_packages if phase in (None, DEFERRED) else ())))


def sysctl_settings() -> Trusted:
    """The sysctl drop-in's lines, from SYSCTL_SETTINGS (keys and values are this module's own constants)."""
    for key, value in SYSCTL_SETTINGS:
        if not re.fullmatch(r"[a-z0-9_.-]+", key) or not re.fullmatch(r"[0-9]+", value):
            raise TemplateError(f"sysctl setting {key!r} = {value!r} is not a key and a number")
    return Trusted("\n".join(f"{key} = {value}" for key, value in SYSCTL_SETTINGS))


def sshd_options(spec: HostSpec) -> Trusted:
    """The sshd drop-in's lines, from SSHD_OPTIONS with the image's key exchange and the SSH group filled in."""
    fill = {"{kex}": SSH_KEX[spec.image], "{group}": SSH_GROUP}
    return Trusted("\n".join(f"{keyword} {encode_sshd(fill.get(value, value))}" for keyword, value in SSHD_OPTIONS))


def postgresql_lines(spec: HostSpec) -> Trusted:
    """The cluster's settings file, from settings.py sized for the plan (keys and values are this project's own)."""
    settings = postgresql_settings(spec.size.ram_mb)
    for key, value in settings:
        if not re.fullmatch(r"[a-z_]+", key) or not re.fullmatch(r"''|[0-9]+(MB)?|[a-z0-9-]+", value):
            raise TemplateError(f"postgresql setting {key!r} = {value!r} is not a name and a plain value")
    return Trusted("\n".join(f"{key} = {value}" for key, value in settings))


def database_url(spec: HostSpec) -> str:
    """The app's DATABASE_URL: its own database over the unix socket, peer authentication (no password)."""
    return f"postgresql:///{spec.app_name}?host=/run/postgresql"


def template_values(spec: HostSpec, converge: bool = False) -> dict[str, object]:
    """Every placeholder value the templates and concern steps use, derived from the spec (converge: with the
    steps of the concerns only the converge delivers).

    Plain values are encoded by the placeholder's encoder; `Trusted` ones are script or rule text built here,
    with every spec value inside them already encoded for its language.
    """
    live = f"/etc/letsencrypt/live/{spec.domain or '_'}"
    values: dict[str, object] = {
        "admin_user": spec.admin_user,
        "app_name": spec.app_name,
        "app_module": SAMPLE_APP_MODULE,
        "host_name": spec.host_name,
        "ssh_group": SSH_GROUP,
        "sshd_options": sshd_options(spec),
        "sysctl_settings": sysctl_settings(),
        "login_defs": tuple(f"{k} {v}" for k, v in LOGIN_DEFS),
        "hardened_mounts": tuple(" ".join(m) for m in HARDENED_MOUNTS),
        "ssh_rules": ssh_firewall_rules(spec),
        "dhcp_rules": dhcp_firewall_rules(spec),
        "upgrade_origins": Trusted("\n".join(f'  "{o}";' for o in upgrade_origins(spec))),
        "auto_reboot": "true" if spec.reboot_window else "false",
        "reboot_time": spec.reboot_window or default_of("rebootWindow"),  # read only when reboots are on
        "swap_mb": spec.swap_size_mb,
        "workers": spec.workers,
        "host_unpack": wire.HOST_UNPACK,
        "progress_file": progress.PROGRESS_FILE,
        "converge_code_path": CONVERGE_CODE_PATH,
        "health_path": spec.app_health_path,
        "server_name": spec.domain or "_",
        "domain": spec.domain or "",
        "tls_certificate": f"{live}/fullchain.pem",
        "tls_certificate_key": f"{live}/privkey.pem",
        "static_dir": f"/srv/{spec.app_name}/current/static/",
        "app_upstream": f"http://unix:/run/{spec.app_name}.sock",
        "acme_email": spec.acme_email or "",
        "acme_server": spec.acme_server,
        "acme_ca_env": Trusted(f"REQUESTS_CA_BUNDLE={encode_sh(ACME_CA_PATH)} " if spec.acme_ca_certificate else ""),
        "serve_packages": packages_for(spec, SERVE),
        "deferred_packages": packages_for(spec, DEFERRED),
        "data_volume_gb": spec.data_volume_gb,
        "data_volume_devices": spec.data_volume_devices,
        "database": spec.database,
        "backup_generations": spec.backup_generations,
        "backup_bucket": spec.backup_bucket or "",
        "backup_endpoint": spec.backup_endpoint or "",
        "backup_recipient": spec.backup_recipient or "",
        "postgresql_settings": postgresql_lines(spec),
        "database_env": Trusted(envfile.encode_line("DATABASE_URL", database_url(spec))),
    }
    values["concern_functions"] = Trusted("".join(concern_functions(c, values) for c in concerns_for(spec, converge)))
    return values


#: The bash functions a concern's steps become (validate and health: every line must succeed).
_STEPS = (("once", "\n"), ("validate", " &&\n"), ("activate", "\n"), ("health", " &&\n"))


def concern_functions(concern: Concern, values: Mapping[str, object]) -> str:
    """The concern's steps as bash functions (`activate_<name>`, ...), placeholders filled like a template's."""
    out = []
    for step, joiner in _STEPS:
        text = getattr(concern, step)
        if text:
            lines = [line for line in text.splitlines() if line.strip()]
            body = render_text(joiner.join(lines), values, f"{concern.name} {step}")
            out.append(f"{step}_{concern.function}() {{\n{body}\n}}\n")
    return "".join(out)
