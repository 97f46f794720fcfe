"""First-boot data: one provider-neutral description of the host, rendered in two forms.

`describe_first_boot(spec)` lists the files to write (rendered from `templates/`, one template per config
file) and the provisioning script that activates them. `render_cloud_config` delivers that description as
cloud-config (DigitalOcean, Linode); `render_launch_script` delivers the very same files and script as a
POSIX sh launch script (AWS Lightsail, which does not honour #cloud-config). Both are pure functions.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import ipaddress
import re
import shlex
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import overload

import pulumi
import yaml

from components.config import HostSpec

TEMPLATES = Path(__file__).parent / "templates"
#: Linode's metadata service takes at most 16 KiB of base64-encoded user data, EC2/Lightsail 16 KB raw.
MAX_FIRST_BOOT_BYTES = 16 * 1024
#: Per vendor: the form it receives (a key of RenderedFirstBoot.sizes) and the most bytes it accepts in that
#: form (DigitalOcean 64 KiB, Linode 16 KiB of base64, Lightsail 16 KB raw; vendor API documentation).
SENT_FORM_LIMITS = {"digitalocean": ("cloud-config", 64 * 1024), "linode": ("linode-metadata", MAX_FIRST_BOOT_BYTES),
                    "lightsail": ("launch-script", MAX_FIRST_BOOT_BYTES)}
PROVISION_SCRIPT = "/usr/local/sbin/hvps-provision"
CERTBOT_CA_DROPIN = "/etc/systemd/system/certbot.service.d/hvps-acme-ca.conf"
ACME_CA_PATH = "/etc/hvps/acme-ca.pem"  # trusted by certbot for a private ACME server (acmeCaCertificate)
SAMPLE_APP_MODULE = "app:app"
#: Where the bundle drops the program's ed25519 host key; provision.sh installs it as sshd's only host key.
HOST_KEY_PATH = "/etc/hvps/ssh_host_ed25519_key"
DO_AGENT_DROPIN = "/etc/systemd/system/do-agent.service.d/hvps-metadata.conf"


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

BASE_PACKAGES = ("nginx", "fail2ban", "python3-systemd", "nftables", "unattended-upgrades", "gunicorn", "python3-venv",
                 "git", "curl", "sudo", "openssh-server", "systemd-timesyncd", "libpam-tmpdir", "needrestart",
                 "apt-listchanges", "auditd", "aide", "debsums", "libpam-pwquality", "acct", "sysstat")

# Security pockets that unattended-upgrades may install from (Debian wiki UnattendedUpgrades; Ubuntu docs).
_UPGRADE_ORIGINS = {
    "debian": ('"origin=Debian,codename=${distro_codename},label=Debian-Security";',
               '"origin=Debian,codename=${distro_codename}-security,label=Debian-Security";'),
    "ubuntu": ('"origin=${distro_id},archive=${distro_codename}-security";',),
}

# Key exchange per image: post-quantum hybrids first where that image's OpenSSH has them (ssh-audit guide).
# curve25519 stays as the one fallback, for clients without them (Paramiko, older Go x/crypto as used by
# deploy tools, PuTTY < 0.78); ssh-audit warns about it, accepted in e2e/run.py. The finite-field DH groups
# of the ssh-audit guide are dropped: every client that lacks curve25519 is older than a decade.
_KEX_COMMON = "curve25519-sha256,curve25519-sha256@libssh.org"
_SSH_KEX = {
    "debian-13": "mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
    "debian-12": "sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
    "ubuntu-24.04": "sntrup761x25519-sha512@openssh.com," + _KEX_COMMON,
}


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


def sh_double_quoted(value: str) -> str:
    """The inside of a bash "..." string (for log lines the plan reads back): \\ " $ ` escaped."""
    _refuse(value, "", "a shell string")
    return re.sub(r'([\\"$`])', r"\\\1", value)


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


#: Templates whose language does not take every whole line starting with `#` as a comment (sudoers has
#: `#include`, Python has strings, apt.conf and the login banner are kept as written): rendered as they are.
KEEP_COMMENT_LINES = frozenset({"sudoers_admin", "issue.net", "auto_upgrades.conf", "unattended_upgrades.conf",
                                "gunicorn.conf.py", "sample_app.py"})


def without_comment_lines(text: str) -> str:
    """A file without its comment lines below the header (the first line and the comment block right below it
    stay, so the file still says what it is). The templates keep their comments for readers of the repository;
    on the host every byte counts against the 16 KiB user-data limit of Linode and Lightsail. Only whole `#`
    lines go, and only in files where such a line is never data (no here-documents, see KEEP_COMMENT_LINES)."""
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if i and not line.startswith("#")), len(lines))
    return "".join(lines[:header] + [line for line in lines[header:] if not line.lstrip().startswith("#")])


def render_host_file(name: str, values: Mapping[str, object]) -> str:
    """A template rendered as it is written on the host: comment lines below its header dropped (see above)."""
    text = render_template(name, values)
    return text if name in KEEP_COMMENT_LINES else without_comment_lines(text)


def ssh_firewall_rules(spec: HostSpec) -> Trusted:
    """nftables rules admitting SSH from the stack's CIDRs only (re-parsed here: the block goes in raw)."""
    v4, v6 = spec.ssh_cidrs_by_family
    rules = []
    if v4:
        rules.append(f"    ip saddr {{ {', '.join(str(ipaddress.IPv4Network(c)) for c in v4)} }} tcp dport 22 accept")
    if v6:
        rules.append(f"    ip6 saddr {{ {', '.join(str(ipaddress.IPv6Network(c)) for c in v6)} }} tcp dport 22 accept")
    return Trusted("\n".join(rules))


def packages_for(spec: HostSpec) -> tuple[str, ...]:
    return BASE_PACKAGES + (("certbot",) if spec.domain else ())


def template_values(spec: HostSpec) -> dict[str, object]:
    """Every placeholder value the templates use, derived from the spec.

    Plain values are encoded by the placeholder's encoder; `Trusted` ones are script or rule text built here,
    with every spec value inside them already encoded for its language.
    """
    tls_steps = Trusted("")
    if spec.domain:
        note = f"TLS certificate for {spec.domain} (retried by hvps-tls.timer until DNS points here)"
        tls_steps = Trusted(f'log "{sh_double_quoted(note)}"\nsystemctl enable --now hvps-tls.timer\n')
    live = f"/etc/letsencrypt/live/{spec.domain or '_'}"
    return {
        "admin_user": spec.admin_user,
        "app_name": spec.app_name,
        "app_module": SAMPLE_APP_MODULE,
        "host_name": spec.host_name,
        "ssh_group": "sshusers",
        "ssh_kex": _SSH_KEX[spec.image],
        "ssh_rules": ssh_firewall_rules(spec),
        "upgrade_origins": Trusted("\n".join(f"  {o}" for o in _UPGRADE_ORIGINS[spec.os_family])),
        "auto_reboot": "true" if spec.reboot_window else "false",
        "reboot_time": spec.reboot_window or "04:00",
        "swap_mb": spec.swap_size_mb,
        "workers": spec.workers,
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
        "packages": packages_for(spec),
        "tls_steps": tls_steps,
    }


def describe_first_boot(spec: HostSpec, host_key: str = PLACEHOLDER_HOST_KEY) -> FirstBoot:
    """The files first boot writes, each rendered from its template.

    host_key: the OpenSSH private ed25519 host key the deploy connections pin (its stand-in for sizing).
    """
    v = template_values(spec)
    app = spec.app_name
    files = [
        ("/etc/ssh/sshd_config.d/10-hvps-hardening.conf", "sshd_hardening.conf", "0600"),
        ("/etc/sysctl.d/90-hvps-hardening.conf", "sysctl_hardening.conf", "0644"),
        ("/etc/modprobe.d/hvps-blacklist.conf", "modprobe_blacklist.conf", "0644"),
        ("/etc/security/limits.d/90-hvps-no-core.conf", "limits_no_core.conf", "0644"),
        ("/etc/systemd/coredump.conf.d/hvps.conf", "coredump.conf", "0644"),
        ("/etc/systemd/journald.conf.d/hvps.conf", "journald.conf", "0644"),
        ("/etc/systemd/resolved.conf.d/hvps.conf", "resolved.conf", "0644"),
        ("/etc/sudoers.d/90-hvps-admin", "sudoers_admin", "0440"),
        ("/etc/issue.net", "issue.net", "0644"),
        ("/etc/apt/apt.conf.d/20auto-upgrades", "auto_upgrades.conf", "0644"),
        ("/etc/apt/apt.conf.d/52hvps-unattended-upgrades", "unattended_upgrades.conf", "0644"),
        ("/etc/fail2ban/jail.local", "fail2ban_jail.local", "0644"),
        ("/etc/profile.d/hvps.sh", "profile_hvps.sh", "0644"),
        ("/etc/audit/rules.d/hvps.rules", "audit.rules", "0640"),
        ("/etc/aide/aide.conf", "aide.conf", "0600"),
        ("/etc/systemd/system/hvps-integrity.service", "hvps-integrity.service", "0644"),
        ("/etc/systemd/system/hvps-integrity.timer", "hvps-integrity.timer", "0644"),
        ("/etc/systemd/system/hvps-provision.service", "hvps-provision.service", "0644"),
        ("/etc/systemd/system/hvps-provision.timer", "hvps-provision.timer", "0644"),
        ("/etc/nftables.conf", "nftables.conf", "0755"),
        ("/etc/nginx/conf.d/hvps-hardening.conf", "nginx_hardening.conf", "0644"),
        ("/etc/nginx/snippets/hvps-security-headers.conf", "nginx_security_headers.conf", "0644"),
        ("/etc/nginx/snippets/hvps-app-locations.conf", "nginx_app_locations.conf", "0644"),
        ("/etc/hvps/nginx-site-http.conf", "nginx_site_http.conf", "0644"),
        (f"/etc/systemd/system/{app}.socket", "app.socket", "0644"),
        (f"/etc/systemd/system/{app}.service", "app.service", "0644"),
        ("/etc/hvps/gunicorn.conf.py", "gunicorn.conf.py", "0644"),
        ("/etc/hvps/sample_app.py", "sample_app.py", "0644"),
    ]
    if spec.domain:
        files += [
            ("/etc/nginx/snippets/hvps-tls.conf", "nginx_tls.conf", "0644"),
            ("/etc/hvps/nginx-site-https.conf", "nginx_site_https.conf", "0644"),
            ("/usr/local/sbin/hvps-tls-issue", "tls_issue.sh", "0755"),
            ("/etc/letsencrypt/renewal-hooks/deploy/hvps-reload-nginx", "tls_reload_hook.sh", "0755"),
            ("/etc/systemd/system/hvps-tls.service", "hvps-tls.service", "0644"),
            ("/etc/systemd/system/hvps-tls.timer", "hvps-tls.timer", "0644"),
        ]
    rendered = [HostFile(path, render_host_file(name, v), mode) for path, name, mode in files]
    if spec.domain and spec.acme_ca_certificate:
        rendered.append(HostFile(ACME_CA_PATH, spec.acme_ca_certificate, "0644"))
        # renewals run from Debian's certbot.timer/certbot.service: they must trust the private ACME server too
        rendered.append(HostFile(CERTBOT_CA_DROPIN, f"[Service]\nEnvironment=REQUESTS_CA_BUNDLE={ACME_CA_PATH}\n",
                                 "0644"))
    if spec.vendor == "digitalocean" and spec.monitoring:
        # do-agent reads the metadata service, which nftables.conf keeps from everyone but root and this group.
        rendered.append(HostFile(DO_AGENT_DROPIN, "# Managed by hardened-vps. DigitalOcean's monitoring agent may "
                                 "reach the metadata service.\n[Service]\nGroup=hvps-metadata\n", "0644"))
    keys = "".join(k.line + "\n" for k in spec.ssh_keys)
    rendered.append(HostFile("/etc/hvps/admin_authorized_keys", keys, "0600"))
    rendered.append(HostFile(HOST_KEY_PATH, host_key, "0600"))
    rendered.append(HostFile(PROVISION_SCRIPT, render_host_file("provision.sh", v), "0700"))
    return FirstBoot(tuple(rendered), spec.admin_user)


BUNDLE_PATH = "/var/lib/hvps/first-boot.tar.gz"
#: Ends the launch script's base64 heredoc. The '.' is in neither base64 alphabet, so nothing reading the
#: script (the policy pack's secrets scan decodes base64 blocks, URL-safe included) takes it for payload.
PAYLOAD_END = "HVPS.EOF"


def bundle(first_boot: FirstBoot) -> bytes:
    """The files as a reproducible tar.gz (fixed order, owner root, mtime 0): same input, same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for f in first_boot.files:
            data = f.content.encode()
            info = tarfile.TarInfo(f.path.lstrip("/"))
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), int(f.mode, 8), 0, 0, 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def _header(first_boot: FirstBoot, form: str) -> list[str]:
    """Comment lines naming what the opaque bundle holds, so the data explains itself on the host."""
    return [f"# hardened-vps first boot {first_boot.digest[:16]}, {form} form (rendered by components/firstboot).",
            f"# Unpacks {len(first_boot.files)} files (templates in components/firstboot/templates), "
            f"then runs {PROVISION_SCRIPT}."]


def render_cloud_config(first_boot: FirstBoot) -> str:
    """cloud-config form: cloud-init writes the bundle, then unpacks it and runs the provisioning script."""
    document = {
        "disable_root": True,
        "ssh_pwauth": False,
        # Naming the admin here keeps cloud-init from creating the distro's default user; the provisioning
        # script adds the groups and keys, as it does in the launch-script form.
        "users": [{"name": first_boot.admin_user, "shell": "/bin/bash", "lock_passwd": True}],
        "write_files": [{"path": BUNDLE_PATH, "encoding": "b64", "permissions": "0600", "owner": "root:root",
                         "content": base64.b64encode(bundle(first_boot)).decode()}],
        "runcmd": [["tar", "-xzf", BUNDLE_PATH, "-C", "/"], [PROVISION_SCRIPT]],
    }
    lines = ["#cloud-config", *_header(first_boot, "cloud-config")]
    return "\n".join(lines) + "\n" + yaml.safe_dump(document, sort_keys=False, width=100_000)


def render_launch_script(first_boot: FirstBoot) -> str:
    """Launch-script form: POSIX sh unpacks the same bundle, then hands over to the bash provisioning script.

    Lightsail runs user data after lines of its own, so our `#!` line may be a mere comment and the whole
    script run by /bin/sh (dash on Debian and Ubuntu). Only POSIX sh belongs here: `set -o pipefail` alone
    would stop dash before first boot starts. The provisioning script is bash by its own `#!/bin/bash`.
    """
    payload = base64.encodebytes(bundle(first_boot)).decode().rstrip("\n")
    lines = [
        "#!/bin/sh",
        *_header(first_boot, "launch-script"),
        "set -eu",
        "# POSIX sh up to the exec: Lightsail may run this after its own lines with sh; bash starts there.",
        f"install -d -m 0700 {shlex.quote(str(Path(BUNDLE_PATH).parent))}",
        f"base64 -d >{BUNDLE_PATH} <<'{PAYLOAD_END}'",
        payload,
        PAYLOAD_END,
        f"tar -xzf {BUNDLE_PATH} -C /",
        f"exec {PROVISION_SCRIPT}",
    ]
    return "\n".join(lines) + "\n"


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
    return base64.b64encode(gzip.compress(cloud_config.encode(), compresslevel=9, mtime=0)).decode()


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
