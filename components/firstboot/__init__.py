"""First-boot data: one provider-neutral description of the host, rendered in two forms.

`describe_first_boot(spec)` lists the files to write (rendered from `templates/`, one template per config
file) and the provisioning script that activates them. `render_cloud_config` delivers that description as
cloud-config (DigitalOcean, Linode); `render_launch_script` delivers the very same files and script as a
POSIX sh launch script (AWS Lightsail, which does not honour #cloud-config). Both are pure functions.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import overload

import pulumi

from components.config import HostSpec
from components.firstboot import wire
from components.firstboot.concerns import (
    ACME_CA_PATH,
    ADMIN_KEYS_PATH,
    CERTBOT_CA_DROPIN,
    DEFERRED,
    DO_AGENT_DROPIN,
    HOST_KEY_PATH,
    LOGIN_DEFS,
    MANIFEST_PATH,
    SERVE,
    SSH_GROUP,
    SSH_KEX,
    SSHD_OPTIONS,
    SYSCTL_SETTINGS,
    Concern,
    concerns_for,
)
from components.firstboot.concerns import (
    CONCERNS as CONCERNS,
)
from components.firstboot.wire import BUNDLE_PATH as BUNDLE_PATH  # the wire format's, re-exported
from components.firstboot.wire import PAYLOAD_END as PAYLOAD_END

TEMPLATES = Path(__file__).parent / "templates"
#: Linode's metadata service takes at most 16 KiB of base64-encoded user data, EC2/Lightsail 16 KB raw.
MAX_FIRST_BOOT_BYTES = 16 * 1024
#: Per vendor: the form it receives (a key of RenderedFirstBoot.sizes) and the most bytes it accepts in that
#: form (DigitalOcean 64 KiB, Linode 16 KiB of base64, Lightsail 16 KB raw; vendor API documentation).
SENT_FORM_LIMITS = {"digitalocean": ("cloud-config", 64 * 1024), "linode": ("linode-metadata", MAX_FIRST_BOOT_BYTES),
                    "lightsail": ("launch-script", MAX_FIRST_BOOT_BYTES)}
PROVISION_SCRIPT = "/usr/local/sbin/hvps-provision"
SAMPLE_APP_MODULE = "app:app"
#: What the Pulumi program runs over SSH (as the admin, pinned host key) with base64(converge_bundle(spec)) on stdin.
#: Its own entry point (templates/usr/local/sbin/hvps-converge): on a host made before convergence existed it
#: is missing, so the command fails there instead of running that host's older provisioner.
CONVERGE_COMMAND = "sudo -n /usr/local/sbin/hvps-converge"


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _placeholder_host_key() -> str:
    """A stand-in with the exact layout, size and randomness of an OpenSSH ed25519 private key without comment.

    The size check runs before any cloud call, when the real key (made by the engine) is not known yet: this
    stand-in is an unencrypted openssh-key-v1 blob like the real one (234 bytes: same byte count, same shape
    for the policy pack's host-key check) with random key bytes, so the check measures what will be sent. Its
    two check integers differ, which OpenSSH reads as a wrong passphrase: it is not a usable key (provision.sh
    refuses it), so it can never end up as a server's identity.
    """
    stream = b"".join(hashlib.sha256(b"hardened-vps placeholder host key %d" % i).digest() for i in range(4))
    seed, public, check = stream[:32], stream[32:64], stream[64:68]
    key_type = _ssh_string(b"ssh-ed25519")
    private = (check + bytes([check[0] ^ 0xFF]) + check[1:] + key_type + _ssh_string(public)
               + _ssh_string(seed + public) + _ssh_string(b""))
    private += bytes(range(1, 1 + (-len(private) % 8)))  # padding 1, 2, 3, ... to the cipher block size (8)
    blob = (b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
            + (1).to_bytes(4, "big") + _ssh_string(key_type + _ssh_string(public)) + _ssh_string(private))
    body = base64.b64encode(blob).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----\n"


PLACEHOLDER_HOST_KEY = _placeholder_host_key()

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


@dataclass(frozen=True)
class HostFile:
    """A file first boot writes on the host."""

    path: str
    content: str
    mode: str = "0644"


@dataclass(frozen=True)
class FirstBoot:
    """The provider-neutral first boot: files to write, then the provisioning script to run."""

    files: tuple[HostFile, ...]
    admin_user: str

    @property
    def digest(self) -> str:
        """Stable fingerprint of what first boot does: any template or setting change alters it.

        The host key's content is left out: the digest is a plain output, and the key is a secret.
        """
        h = hashlib.sha256(self.admin_user.encode())
        for f in self.files:
            content = "" if f.path == HOST_KEY_PATH else f.content
            h.update(f"{f.path}\0{f.mode}\0{content}\0".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class RenderedFirstBoot:
    """Both delivery forms of the same first boot."""

    cloud_config: str
    launch_script: str
    digest: str

    def for_vendor(self, form: str) -> str:
        return self.cloud_config if form == "cloud-config" else self.launch_script

    @property
    def sizes(self) -> dict[str, int]:
        """Bytes per form as sent to the vendor (Linode gets the cloud-config gzipped and base64-encoded)."""
        return {"cloud-config": len(self.cloud_config.encode()),
                "linode-metadata": len(linode_user_data(self.cloud_config)),
                "launch-script": len(self.launch_script.encode())}


class FirstBootTooLarge(ValueError):
    """Rendered first-boot data exceeds what a vendor accepts."""


class TemplateError(ValueError):
    """A template or a value that cannot be rendered safely: a bug in this project, never a config problem."""


class Trusted(str):
    """Text built by this module's own code from validated data (rule blocks, script steps): `| raw` takes
    only this type, so a value from the stack can never reach a template unencoded."""


def _refuse(value: str, bad: str, what: str) -> None:
    """Raise when `value` holds a control character (newlines start a new directive or command) or one of `bad`."""
    for ch in value:
        if not ch.isprintable() or ch in bad:
            raise TemplateError(f"{ch!r} cannot be encoded for {what}")


def encode_sh(value: object) -> str:
    """A bash word (shlex.quote; quoting composes inside a word); a sequence becomes several words."""
    words = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    for word in words:
        if "\0" in word:
            raise TemplateError("a NUL byte cannot be passed to a shell command")
    return " ".join(shlex.quote(w) for w in words)


def encode_systemd(value: object) -> str:
    """Part of a word in a systemd unit setting: `%` is escaped (specifiers); characters that split words,
    quote, escape or expand ($VAR in Exec lines) are refused, as the placements have no common quoting."""
    text = str(value)
    _refuse(text, " \t\"'\\$;", "a systemd unit")
    return text.replace("%", "%%")


def encode_nginx(value: object) -> str:
    """One whole nginx token as a double-quoted string; `$` is refused (nginx would expand a variable)."""
    text = str(value)
    _refuse(text, "$", "nginx")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_sshd(value: object) -> str:
    """One sshd_config argument (a name or comma list): nothing that splits, quotes or starts a comment."""
    text = str(value)
    _refuse(text, " \t\"'\\#", "sshd_config")
    if not text:
        raise TemplateError("an empty sshd_config argument would drop the setting")
    return text


_SUDOERS_SPECIAL = "!=:,()\\"


def encode_sudoers(value: object) -> str:
    """A sudoers user name: the manual's special characters backslash-escaped; alias names (ALL) and the
    #uid, %group, +netgroup forms refused, since they would widen who the rule applies to."""
    text = str(value)
    _refuse(text, " \t\"'", "sudoers")
    if not text or text[0] in "#%+&~" or re.fullmatch(r"[A-Z][A-Z0-9_]*", text):
        raise TemplateError(f"{text!r} would not name one user in sudoers")
    return "".join("\\" + ch if ch in _SUDOERS_SPECIAL else ch for ch in text)


def encode_apt(value: object) -> str:
    """An apt.conf double-quoted string, which has no escapes: quotes and backslashes are refused."""
    text = str(value)
    _refuse(text, '"\\', "apt.conf")
    return f'"{text}"'


def encode_py(value: object) -> str:
    """A Python literal (repr of a str or int)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise TemplateError(f"{type(value).__name__} is not encoded as a Python literal")
    return repr(value)


def encode_raw(value: object) -> str:
    """Trusted text only (see `Trusted`); anything else is refused."""
    if not isinstance(value, Trusted):
        raise TemplateError("| raw takes only Trusted text built by the renderer, not a config value")
    return str(value)


#: Placeholder filters: `{{ name | encoder }}`, one per language a template is written in.
ENCODERS: Mapping[str, Callable[[object], str]] = {
    "sh": encode_sh, "systemd": encode_systemd, "nginx": encode_nginx, "sshd": encode_sshd,
    "sudoers": encode_sudoers, "apt": encode_apt, "py": encode_py, "raw": encode_raw,
}
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_PLACEHOLDER_PARTS = re.compile(r"\s*([a-z_]+)\s*\|\s*([a-z]+)\s*")


def template_names() -> list[str]:
    """Every template, named by its path on the host relative to / (`{app_name}` stands for the app's name)."""
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file())


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def render_text(text: str, values: Mapping[str, object], name: str = "<text>") -> str:
    """Fill `{{ name | encoder }}` placeholders, each value encoded for the template's language.

    Fails closed: a placeholder without a known encoder, a value that is missing, or one its encoder
    refuses raises TemplateError naming the template and placeholder.
    """

    def fill(match: re.Match[str]) -> str:
        parts = _PLACEHOLDER_PARTS.fullmatch(match.group(1))
        if not parts or parts.group(2) not in ENCODERS:
            raise TemplateError(f"{name}: placeholder {match.group(0)!r} must name an encoder: "
                                f"{{{{ value | encoder }}}}, encoder one of {', '.join(ENCODERS)}")
        key, encoder = parts.groups()
        if key not in values:
            raise TemplateError(f"{name}: placeholder {key!r} has no value")
        try:
            return ENCODERS[encoder](values[key])
        except TemplateError as err:
            raise TemplateError(f"{name}: {{{{ {key} | {encoder} }}}}: {err}") from None

    out = _PLACEHOLDER.sub(fill, text)
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise TemplateError(f"{name}: an unpaired '{{{{' or '}}}}' (placeholders are {{{{ value | encoder }}}})")
    return out


def render_template(name: str, values: Mapping[str, object]) -> str:
    """Render one template file (see render_text)."""
    return render_text(_template(name), values, name)


#: Templates whose language does not take every whole line starting with its comment prefix as a comment
#: (sudoers has `#include`, the sample app's docstring is data, the login banner is shown as written): rendered
#: as they are. Other Python templates lose their comment lines only while they hold no triple-quoted string.
KEEP_COMMENT_LINES = frozenset({"etc/sudoers.d/90-hvps-admin", "etc/issue.net", "etc/hvps/sample_app.py"})
#: Comment prefix per template where it is not `#` (apt.conf: `//` at the start of a line is always a comment).
COMMENT_PREFIX: Mapping[str, str] = {"etc/apt/apt.conf.d/20auto-upgrades": "//",
                                     "etc/apt/apt.conf.d/52hvps-unattended-upgrades": "//"}
#: What stays of a file's header on the host: its comment prefix and this marker, so the file says who wrote it.
MANAGED_MARKER = "Managed by hardened-vps."


def without_comment_lines(text: str, prefix: str = "#") -> str:
    """A file without its comment lines: only a `#!` first line and the header's marker stay, shortened to
    `<prefix> Managed by hardened-vps.` (see MANAGED_MARKER). The templates keep their comments for readers of
    the repository; on the host every byte counts against the 16 KiB user-data limit of Linode and Lightsail.
    Only whole comment lines go, and only in files where such a line is never data (see KEEP_COMMENT_LINES)."""
    kept: list[str] = []
    marked = False
    for i, line in enumerate(text.splitlines(keepends=True)):
        stripped = line.lstrip()
        if (i == 0 and line.startswith("#!")) or not stripped.startswith(prefix):
            kept.append(line)
        elif not marked and MANAGED_MARKER in line:
            lead = stripped[:len(stripped) - len(stripped.lstrip(prefix[0]))]  # `#`, `##` or `//`
            kept.append(f"{lead} {MANAGED_MARKER}\n")
            marked = True
    return "".join(kept)


def render_host_file(name: str, values: Mapping[str, object]) -> str:
    """A template rendered as it is written on the host: comment lines dropped but the marker (see above)."""
    text = render_template(name, values)
    if name in KEEP_COMMENT_LINES:
        return text
    if name.endswith(".py") and ('"""' in text or "'''" in text):
        raise TemplateError(f"{name}: a `#` line may be inside a triple-quoted string: add it to KEEP_COMMENT_LINES")
    return without_comment_lines(text, COMMENT_PREFIX.get(name, "#"))


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
    """The host gets IPv6: where the stack asks for it, and always on Linode (every Linode has an address)."""
    return spec.ipv6 or spec.vendor == "linode"


def dhcp_firewall_rules(spec: HostSpec) -> Trusted:
    """nftables rules admitting DHCP server replies only (server port to client port), v6 only with IPv6."""
    rules = ['    meta nfproto ipv4 udp sport 67 udp dport 68 accept comment "DHCPv4 server replies"']
    if has_ipv6(spec):
        rules.append('    ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 server replies"')
    return Trusted("\n".join(rules))


def packages_for(spec: HostSpec, phase: str | None = None) -> tuple[str, ...]:
    """The packages the stack's concerns need, in concern order (only those installed in `phase` if given)."""
    return tuple(p for c in concerns_for(spec) if phase in (None, c.package_phase) for p in c.packages)


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


def template_values(spec: HostSpec) -> dict[str, object]:
    """Every placeholder value the templates and concern steps use, derived from the spec.

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
        "ssh_rules": ssh_firewall_rules(spec),
        "dhcp_rules": dhcp_firewall_rules(spec),
        "upgrade_origins": Trusted("\n".join(f'  "{o}";' for o in upgrade_origins(spec))),
        "auto_reboot": "true" if spec.reboot_window else "false",
        "reboot_time": spec.reboot_window or "04:00",
        "swap_mb": spec.swap_size_mb,
        "workers": spec.workers,
        "host_unpack": wire.HOST_UNPACK,
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
    }
    values["concern_functions"] = Trusted("".join(concern_functions(c, values) for c in concerns_for(spec)))
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


def concern_digest(concern: Concern, values: Mapping[str, object]) -> str:
    """Fingerprint of what activating the concern runs: convergence re-activates a concern when it changed."""
    return hashlib.sha256(concern_functions(concern, values).encode()).hexdigest()[:12]


def concern_paths(concern: Concern, spec: HostSpec) -> tuple[str, ...]:
    """The host paths of the concern's files for this stack."""
    return tuple(f.host_path(spec) for f in concern.files if f.applies(spec))


def manifest(spec: HostSpec, values: Mapping[str, object]) -> str:
    """The concern list as the provisioner reads it: `name phases digest path...`, one concern a line, in order."""
    return "".join(f"{c.name} {','.join(c.phases)} {concern_digest(c, values)} {' '.join(concern_paths(c, spec))}\n"
                   for c in concerns_for(spec))


def _stack_file(path: str, spec: HostSpec) -> str:
    """Content of the files that come from the stack itself rather than from a template."""
    if path == ADMIN_KEYS_PATH:
        return "".join(k.line + "\n" for k in spec.ssh_keys)
    if path == ACME_CA_PATH:
        return spec.acme_ca_certificate or ""
    if path == CERTBOT_CA_DROPIN:
        # renewals run from Debian's certbot.timer/certbot.service: they must trust the private ACME server too
        return f"[Service]\nEnvironment=REQUESTS_CA_BUNDLE={ACME_CA_PATH}\n"
    if path == DO_AGENT_DROPIN:
        # do-agent reads the metadata service, which nftables.conf keeps from everyone but root and this group.
        return ("# Managed by hardened-vps. DigitalOcean's monitoring agent may reach the metadata service.\n"
                "[Service]\nGroup=hvps-metadata\n")
    raise TemplateError(f"no content for {path}")


def concern_files(concern: Concern, spec: HostSpec, values: Mapping[str, object],
                  host_key: str = PLACEHOLDER_HOST_KEY) -> tuple[HostFile, ...]:
    """The files one concern writes for this stack, rendered on their own (its templates, or the stack's data)."""
    rendered = []
    for f in concern.files:
        if not f.applies(spec):
            continue
        path = f.host_path(spec)
        if path == MANIFEST_PATH:
            content = manifest(spec, values)
        elif f.template:
            content = render_host_file(f.path.lstrip("/"), values)
        else:
            content = _stack_file(path, spec)
        rendered.append(HostFile(path, content, f.mode))
    if concern.name == "admin-and-ssh":
        rendered.append(HostFile(HOST_KEY_PATH, host_key, "0600"))
    return tuple(rendered)


def describe_first_boot(spec: HostSpec, host_key: str = PLACEHOLDER_HOST_KEY) -> FirstBoot:
    """The files first boot writes: every applying concern's files, rendered from their templates, in order.

    host_key: the OpenSSH private ed25519 host key the deploy connections pin (its stand-in for sizing).
    """
    values = template_values(spec)
    files = tuple(f for concern in concerns_for(spec) for f in concern_files(concern, spec, values, host_key))
    return FirstBoot(files, spec.admin_user)


def bundle(first_boot: FirstBoot) -> bytes:
    """The files in the wire format (see wire.py), compressed: same input, same bytes."""
    return wire.compress(wire.pack(wire.Entry(f.path, int(f.mode, 8), f.content.encode()) for f in first_boot.files))


#: How many hex digits of a file's SHA-256 name its content in the converge triggers and the plan.
SHORT_DIGEST = 12


def converge_files(spec: HostSpec) -> FirstBoot:
    """The files a converge writes: first boot's, without the host's private key (never rotated by a converge,
    and never sent in plain text: the converge bundle is an ordinary, non-secret input)."""
    every = describe_first_boot(spec)
    return FirstBoot(tuple(f for f in every.files if f.path != HOST_KEY_PATH), every.admin_user)


def converge_bundle(spec: HostSpec) -> bytes:
    """The bundle `hvps-provision --converge` reads (base64) on stdin: reproducible, like first boot's bundle."""
    return bundle(converge_files(spec))


def short_digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()[:SHORT_DIGEST]


def file_digest(f: HostFile) -> str:
    """A host file's short SHA-256 over its mode and content: what the converge triggers and the plan show."""
    return short_digest(f"{f.mode}\0{f.content}")


def converge_digests(spec: HostSpec) -> dict[str, str]:
    """{host path: file_digest}: the converge's triggers, so a preview's diff names the files an edit changes."""
    return {f.path: file_digest(f) for f in converge_files(spec).files}


def form_header(first_boot: FirstBoot, form: str) -> str:
    """The form's header comment (wire.header_comment): what the bundle holds, for a reader on the host."""
    return wire.header_comment(first_boot.digest, form, len(first_boot.files), PROVISION_SCRIPT)


def render_cloud_config(first_boot: FirstBoot) -> str:
    """cloud-config form: cloud-init writes the bundle, then unpacks it and runs the provisioning script."""
    bundle_file, unpack = wire.cloud_config_parts(bundle(first_boot))
    document = {
        "disable_root": True,
        "ssh_pwauth": False,
        # Naming the admin here keeps cloud-init from creating the distro's default user; the provisioning
        # script adds the groups and keys, as it does in the launch-script form.
        "users": [{"name": first_boot.admin_user, "shell": "/bin/bash", "lock_passwd": True}],
        "write_files": [bundle_file],
        "runcmd": [unpack, [PROVISION_SCRIPT]],
    }
    return wire.cloud_config_text(form_header(first_boot, "cloud-config"), document)


def render_launch_script(first_boot: FirstBoot) -> str:
    """Launch-script form: POSIX sh unpacks the same bundle, then hands over to the bash provisioning script.

    Lightsail runs user data after lines of its own, so our `#!` line may be a mere comment and the whole
    script run by /bin/sh (dash on Debian and Ubuntu). Only POSIX sh belongs here: `set -o pipefail` alone
    would stop dash before first boot starts. The provisioning script is bash by its own `#!/bin/bash`.
    """
    return wire.launch_script_text(form_header(first_boot, "launch-script"), bundle(first_boot),
                                   before=["set -eu"], after=[f"exec {PROVISION_SCRIPT}"])


@overload
def linode_user_data(cloud_config: str) -> str: ...


@overload
def linode_user_data(cloud_config: pulumi.Output[str]) -> pulumi.Output[str]: ...


def linode_user_data(cloud_config: str | pulumi.Output[str]) -> str | pulumi.Output[str]:
    """Linode metadata wants base64; gzip first (cloud-init unpacks gzip user data) to stay far below 16 KiB.

    The host sends its first boot as a secret Output (it carries the host key): that maps to a secret Output.
    """
    if isinstance(cloud_config, pulumi.Output):
        return cloud_config.apply(linode_user_data)
    return wire.linode_metadata(cloud_config)


def render_first_boot(spec: HostSpec, host_key: str = PLACEHOLDER_HOST_KEY) -> RenderedFirstBoot:
    """Render both forms and refuse the data when the spec's vendor would reject the form it receives for size.

    Without `host_key` the size-equal stand-in is used: the check runs before the engine made the real key.
    """
    first_boot = describe_first_boot(spec, host_key)
    rendered = RenderedFirstBoot(render_cloud_config(first_boot), render_launch_script(first_boot),
                                 first_boot.digest)
    form, limit = SENT_FORM_LIMITS[spec.vendor]
    size = rendered.sizes[form]
    if size > limit:
        raise FirstBootTooLarge(
            f"first-boot data is over {spec.vendor}'s {limit}-byte limit ({form} {size} bytes); fewer or shorter "
            "sshPublicKeys, tags or settings would shrink it")
    return rendered
