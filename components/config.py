"""Provider-neutral host description, built and validated from stack config.

Everything here is pure: `parse_host_spec` takes the raw strings Pulumi hands the program (or a stack
file's values) and either returns a `HostSpec` or raises one `ConfigError` listing every problem, each
naming the key, the bad value and what is allowed. Nothing touches a cloud.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import struct
import urllib.parse
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import catalog, envfile

PROJECT = "hardened-vps"
SECRET_PLACEHOLDER = "[secret]"
PROJECT_DIR = Path(__file__).resolve().parents[1]  # a relative appSource is relative to the project
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
DEFAULT_REGIONS = {"digitalocean": "fra1", "linode": "fr-par", "lightsail": "eu-central-1"}


class ConfigError(ValueError):
    """Bad stack configuration; `problems` lists each one, ready to print."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        plural = "s" if len(problems) != 1 else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem{plural}):\n{lines}")


@dataclass(frozen=True)
class ConfigKey:
    """One project config key: the single source for validation, Pulumi.yaml and the README."""

    name: str
    type: str  # string | integer | boolean | array (Pulumi.yaml config types)
    description: str
    default: Any = None  # None: no default (required or optional as `required` says)
    required: bool = False
    # Read with get_secret; its value never enters HostSpec or a message. Not declared in Pulumi.yaml: the CLI
    # applies a declared key's default as a plain value and refuses it, and a key without default is required.
    secret: bool = False


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("vendor", "string", "Cloud vendor: digitalocean, linode or lightsail.", required=True),
    ConfigKey("size", "string", "Portable tier (nano, small, medium, large) or an exact vendor plan slug.", "small"),
    ConfigKey("region", "string", "Vendor region slug; default per vendor: fra1, fr-par, eu-central-1. Regions "
                                  "closed to new servers, and Linode regions without Metadata, are refused."),
    ConfigKey("image", "string", "OS image: debian-13, debian-12 or ubuntu-24.04; default per vendor: "
              + ", ".join(v.default_image for v in catalog.CATALOG.values()) + "."),
    ConfigKey("hostName", "string", "Server name (and label/tag base); default <project>-<stack>."),
    ConfigKey("adminUser", "string", "Login of the admin account (key-only SSH, sudo).", "deploy"),
    ConfigKey("sshPublicKeys", "array", "OpenSSH public keys of the admin (at least one; RSA >= 3072 bits).",
              required=True),
    ConfigKey("sshAllowedCidrs", "array", "Source CIDRs allowed to reach SSH (port 22).", ["0.0.0.0/0", "::/0"]),
    ConfigKey("domain", "string", "Domain name served over HTTPS (A/AAAA records made at the vendor)."),
    ConfigKey("acmeEmail", "string", "Contact e-mail for the ACME account; required with domain."),
    ConfigKey("acmeServer", "string", "ACME directory URL (staging or a test server for trials).", LETS_ENCRYPT),
    ConfigKey("acmeCaCertificate", "string", "PEM root certificate to trust for a private ACME server "
                                             "(step-ca, pebble); unset for public CAs."),
    ConfigKey("manageDns", "boolean", "Create A/AAAA records for domain in a zone hosted at the vendor.", True),
    ConfigKey("dnsZone", "string", "The vendor-hosted DNS zone holding domain; default: domain minus its first "
                                   "label (app.example.com -> example.com), or domain itself with two labels."),
    ConfigKey("backups", "boolean", "Turn on the vendor's automatic backups (extra cost).", False),
    ConfigKey("monitoring", "boolean", "Install the vendor's free monitoring agent (DigitalOcean only).", True),
    ConfigKey("ipv6", "boolean", "Give the server a public IPv6 address where the vendor makes it optional.", True),
    ConfigKey("growDisk", "boolean", "Let a size change grow the disk for good (DigitalOcean resize_disk; a "
                                     "grown disk blocks any later downsize). Off: CPU and RAM change only.", False),
    ConfigKey("swapSizeMb", "integer", "Swap file size in MiB; 0 disables swap.", 1024),
    ConfigKey("rebootWindow", "string", "Time (HH:MM, UTC) for reboots after security updates, or 'off'.", "04:00"),
    ConfigKey("tags", "array", "Tags for the server and its resources (lowercase, digits, - _ :).", []),
    ConfigKey("appName", "string", "System user and unit name of the web app.", "app"),
    ConfigKey("appHealthPath", "string", "HTTP path that answers 200 when the app is healthy.", "/healthz"),
    ConfigKey("appSource", "string", "Your app: a local directory (relative to the project) or a git URL; "
                                     "unset deploys the built-in sample app."),
    ConfigKey("appRef", "string", "Git tag or commit to deploy (required with a git appSource)."),
    ConfigKey("appModule", "string", "WSGI/ASGI entry point, module:callable.", "app:app"),
    ConfigKey("appServer", "string", "wsgi (gunicorn) or asgi (gunicorn with uvicorn workers).", "wsgi"),
    ConfigKey("appEnv", "array", "Plain environment variables for the app, as KEY=value (value taken literally).",
              []),
    ConfigKey("appSecrets", "string", "Secret environment (dotenv lines KEY=value, each value taken literally); "
                                      "set it with `pulumi config set --secret`. Kept with its release "
                                      "(secrets.env, 0640), so a rollback restores the old secrets too.", secret=True),
    ConfigKey("appWorkers", "integer", "gunicorn workers; 0 sizes them to the plan's RAM (one per 512 MiB, 2-8).", 0),
    ConfigKey("appKeepReleases", "integer", "How many releases to keep on the host for rollback.", 5),
    ConfigKey("deployPrivateKey", "string", "Private key Pulumi uses to deploy releases over SSH (secret); "
                                            "default: your ssh-agent.", secret=True),
    ConfigKey("production", "boolean", "Declare this stack production (policies demand backups, protect).", False),
    ConfigKey("protect", "boolean", "Protect the server from deletion and replacement (pulumi protect).", False),
    ConfigKey("reprovision", "boolean",
              "Allow a first-boot data change to REPLACE the server (default: keep the running server).", False),
)
KEYS_BY_NAME: Mapping[str, ConfigKey] = {k.name: k for k in CONFIG_KEYS}


@dataclass(frozen=True)
class SshKey:
    """A parsed OpenSSH public key."""

    type: str
    blob: str
    comment: str = ""

    @property
    def line(self) -> str:
        return " ".join(p for p in (self.type, self.blob, self.comment) if p)


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


@dataclass(frozen=True)
class HostSpec:
    """Everything the host needs, vendor-neutral; adapters translate it, renderers turn it into first boot."""

    vendor: str
    size: catalog.Size
    region: str
    image: str
    host_name: str
    admin_user: str
    ssh_keys: tuple[SshKey, ...]
    ssh_allowed_cidrs: tuple[str, ...]
    domain: str | None = None
    acme_email: str | None = None
    acme_server: str = LETS_ENCRYPT
    acme_ca_certificate: str | None = None
    manage_dns: bool = True
    dns_zone: str | None = None
    backups: bool = False
    monitoring: bool = True
    ipv6: bool = True
    swap_size_mb: int = 1024
    reboot_window: str | None = "04:00"
    tags: tuple[str, ...] = field(default_factory=tuple)
    app_name: str = "app"
    app_health_path: str = "/healthz"
    production: bool = False
    protect: bool = False
    reprovision: bool = False
    grow_disk: bool = False
    app: AppSpec | None = None
    app_workers: int = 0
    deploy_key_given: bool = False

    @property
    def workers(self) -> int:
        """gunicorn workers: as configured, or about one per 512 MiB of RAM (2 to 8)."""
        return self.app_workers or max(2, min(8, self.size.ram_mb // 512))

    @property
    def vendor_info(self) -> catalog.Vendor:
        return catalog.vendor(self.vendor)

    @property
    def image_slug(self) -> str:
        return self.vendor_info.images[self.image]

    @property
    def ssh_cidrs_by_family(self) -> tuple[list[str], list[str]]:
        """SSH source CIDRs split into (IPv4, IPv6): vendor firewalls and nftables list the families apart."""
        return ([c for c in self.ssh_allowed_cidrs if ":" not in c],
                [c for c in self.ssh_allowed_cidrs if ":" in c])

    @property
    def dns_record_name(self) -> str:
        """The record's name inside its zone: "@" for the apex."""
        if not self.domain or not self.dns_zone or self.domain == self.dns_zone:
            return "@"
        return self.domain[: -len(self.dns_zone) - 1]

    @property
    def os_family(self) -> str:
        return "ubuntu" if self.image.startswith("ubuntu") else "debian"


_NAME = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
# A Linode instance's label is the host name: 3-50 characters in the Linode provider (the API allows 64), and the
# API refuses two separators in a row.
LINODE_LABEL_MIN, LINODE_LABEL_MAX = 3, 50
_UNIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+-]{1,64}")
_TAG = re.compile(r"^[a-z0-9][a-z0-9:_-]{0,63}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_GIT_URL = re.compile(r"^(https://[^\s]+|git@[^\s:]+:[^\s]+|ssh://[^\s]+)$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.()]*$")
_GIT_REF = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")
_RESERVED_USERS = frozenset({"root", "daemon", "bin", "sys", "sync", "nobody", "www-data", "admin", "ubuntu",
                             "debian", "sshd", "systemd-network", "_apt", "nginx"})
SSH_KEY_TYPES = ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-rsa", "ecdsa-sha2-nistp256",
                 "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com")
MIN_RSA_BITS = 3072  # sshd's RequiredRSASize in our drop-in (ssh-audit guide): smaller keys would lock you out
_ACME_PATH = re.compile(r"(/[A-Za-z0-9._~-]*)*")
#: Longest raw value per key (characters, as Pulumi hands it over): nothing legitimate comes close, and a
#: cap keeps absurd input from reaching parsers (Python's int-string limit, the OS's file-name limit).
MAX_CHARS_DEFAULT = 256
MAX_CHARS: Mapping[str, int] = {
    "sshPublicKeys": 32768, "sshAllowedCidrs": 4096, "acmeServer": 512, "acmeCaCertificate": 16384,
    "tags": 2048, "appSource": 1024, "appEnv": 16384, "appSecrets": 65536, "deployPrivateKey": 16384,
    "swapSizeMb": 16, "appWorkers": 16, "appKeepReleases": 16,
}


def max_chars(key: str) -> int:
    """The length cap of a config key's raw value."""
    return MAX_CHARS.get(key, MAX_CHARS_DEFAULT)


def _allowed(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


def parse_ssh_key(text: str) -> SshKey:
    """Parse one OpenSSH public key line; ValueError says what is wrong with it."""
    text = text.strip()
    if not text.isprintable():
        # a newline would start a second authorized_keys line that nothing here checked (options, short keys)
        raise ValueError("contains a control character (newline, tab, ...); give one key per list entry")
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise ValueError("expected '<type> <base64> [comment]'")
    key_type, blob = parts[0], parts[1]
    if key_type not in SSH_KEY_TYPES:
        raise ValueError(f"key type {key_type!r} is not accepted; allowed: {_allowed(SSH_KEY_TYPES)}")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key body is not valid base64") from None
    fields = _ssh_fields(raw)
    if not fields or fields[0] != key_type.encode():
        raise ValueError("the key body does not match its type (truncated or pasted wrong?)")
    if key_type == "ssh-rsa":
        modulus = fields[2] if len(fields) > 2 else b""
        bits = int.from_bytes(modulus, "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise ValueError(f"RSA key has {bits} bits; at least {MIN_RSA_BITS} are required (or use ed25519)")
    return SshKey(key_type, blob, parts[2].strip() if len(parts) > 2 else "")


def is_valid_email(address: str) -> bool:
    """A strict addr-spec subset: local part of [A-Za-z0-9._%+-] (no leading, trailing or double dot),
    a domain as `is_valid_domain` takes it. Nothing that a shell, a unit file or certbot would read twice."""
    local, at, domain = address.rpartition("@")
    return (bool(at) and bool(_EMAIL_LOCAL.fullmatch(local)) and not local.startswith(".")
            and not local.endswith(".") and ".." not in local and is_valid_domain(domain.lower()))


def acme_directory_problem(url: str) -> str | None:
    """Why `url` is not an ACME directory URL this project accepts, or None: https, a host that is a valid
    domain or IP address, an optional port, a path of safe characters; no userinfo, query or fragment."""
    if not re.fullmatch(r"[\x21-\x7e]+", url):  # urlsplit silently drops tabs and newlines: check first
        return "contains spaces, control or non-ASCII characters"
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # e.g. brackets around something that is not an IPv6 address
        return "has no valid host; allowed: a domain name or an IP address, e.g. https://acme.example.com/dir"
    if parts.scheme != "https":
        return "is not an https:// URL"
    if "@" in parts.netloc:
        return "has a user name or password; allowed: https://host[:port]/path"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "has a query or fragment; allowed: https://host[:port]/path"
    netloc = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?", parts.netloc)
    host = netloc.group(1) if netloc else ""
    if not (_is_ip(host[1:-1]) if host.startswith("[") else _is_ip(host) or is_valid_domain(host.lower())):
        return "has no valid host; allowed: a domain name or an IP address, e.g. https://acme.example.com/dir"
    if netloc and netloc.group(2) is not None and not 1 <= int(netloc.group(2)) <= 65535:
        return "has an invalid port; allowed: 1 to 65535"
    if not _ACME_PATH.fullmatch(parts.path):
        return "has a path with characters other than letters, digits and . _ ~ - /"
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ssh_fields(raw: bytes) -> list[bytes]:
    """Split an SSH wire-format blob into its length-prefixed fields (empty list when malformed)."""
    out: list[bytes] = []
    pos = 0
    while pos < len(raw):
        if pos + 4 > len(raw):
            return []
        (n,) = struct.unpack(">I", raw[pos:pos + 4])
        pos += 4
        if pos + n > len(raw):
            return []
        out.append(raw[pos:pos + n])
        pos += n
    return out


def is_valid_domain(name: str) -> bool:
    """A DNS name of lowercase ASCII labels (at least two, the last not numeric)."""
    labels = name.split(".")
    return (len(name) <= 253 and len(labels) >= 2 and all(_DOMAIN_LABEL.match(lbl) for lbl in labels)
            and not labels[-1].isdigit())


class _Collector:
    """Collects problems so one run reports all of them."""

    def __init__(self, raw: Mapping[str, Any]):
        self.problems: list[str] = []
        self.too_long: set[str] = set()
        for key, value in raw.items():
            if key in KEYS_BY_NAME and len(str(value)) > max_chars(key):
                self.fail(key, f"{len(str(value))} characters is too long; allowed: at most {max_chars(key)}")
                self.too_long.add(key)
        # a value that was too long counts as unset: one problem for it, not a cascade
        self.raw = {k: v for k, v in raw.items() if k not in self.too_long}

    def fail(self, key: str, message: str) -> None:
        if key not in getattr(self, "too_long", ()):
            self.problems.append(f"{PROJECT}:{key}: {message}")

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            default = KEYS_BY_NAME[key].default
            return default if isinstance(default, str) else None
        return str(value).strip()

    def boolean(self, key: str) -> bool:
        value = self.raw.get(key)
        if value is None or value == "":
            return bool(KEYS_BY_NAME[key].default)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        self.fail(key, f"{value!r} is not a boolean; allowed: true, false")
        return bool(KEYS_BY_NAME[key].default)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.raw.get(key)
        default = int(KEYS_BY_NAME[key].default)
        if value is None or value == "":
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(key, f"{value!r} is not a whole number; allowed: {low} to {high}")
            return default
        if not low <= number <= high:
            self.fail(key, f"{number} is out of range; allowed: {low} to {high}")
            return default
        return number

    def array(self, key: str, strip: bool = True) -> list[str]:
        """A list of strings; strip=False keeps each item exactly as given (environment values)."""
        value = self.raw.get(key)
        if value is None or value == "":
            return list(KEYS_BY_NAME[key].default or [])
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:  # JSONDecodeError, or digits beyond Python's int-string limit
                value = [value]  # a single value given as plain text
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{value!r} is not a list of strings")
            return []
        return [v.strip() for v in value] if strip else list(value)


def parse_host_spec(raw: Mapping[str, Any], stack: str = "dev", base_dir: Path | None = None,
                    secret_keys: Collection[str] | None = None) -> HostSpec:
    """Validate raw config values (strings, as Pulumi gives them) into a HostSpec, or raise ConfigError.

    base_dir: where a local appSource is resolved (the project directory; default: the current one).
    secret_keys: the keys (without namespace) whose values are encrypted in the stack; when given, a secret key
    stored in plain text is refused (the CLI does not check keys Pulumi.yaml leaves undeclared).
    """
    c = _Collector(raw)
    unknown = sorted(set(raw) - set(KEYS_BY_NAME))
    for key in unknown:
        c.fail(key, f"unknown key; known keys: {_allowed([k.name for k in CONFIG_KEYS])}")
    if secret_keys is not None:
        for key in plain_secret_keys(raw, secret_keys):
            c.fail(key, f"stored in plain text, but it is a secret; encrypt it with: pulumi config set --secret "
                        f"{PROJECT}:{key} <value> (or remove it from the stack file)")

    vendor_name = c.string("vendor")
    vendor: catalog.Vendor | None = None
    if vendor_name is None:
        c.fail("vendor", f"missing; allowed: {_allowed(catalog.VENDORS)}")
    elif vendor_name not in catalog.CATALOG:
        c.fail("vendor", f"{vendor_name!r} is not supported; allowed: {_allowed(catalog.VENDORS)}")
    else:
        vendor = catalog.vendor(vendor_name)

    size = _parse_size(c, vendor)
    region = c.string("region") or (DEFAULT_REGIONS.get(vendor.name) if vendor else None) or ""
    if vendor and region not in vendor.regions:
        c.fail("region", f"{region!r} is not a {vendor.name} region; allowed: {_allowed(vendor.open_regions)}")
    elif vendor and region in vendor.closed_regions:
        c.fail("region", f"{region!r} {vendor.closed_regions[region]}; allowed: {_allowed(vendor.open_regions)}")
    image = c.string("image") or (vendor.default_image if vendor else catalog.DEFAULT_IMAGE)
    if image not in catalog.IMAGES:
        c.fail("image", f"{image!r} is not supported; allowed: {_allowed(catalog.IMAGES)}")
    elif vendor and image not in vendor.images:
        why = f" ({vendor.withheld_images[image]})" if image in vendor.withheld_images else ""
        c.fail("image", f"{image!r} is not offered by {vendor.name}{why}; allowed: {_allowed(list(vendor.images))}")
    elif vendor and vendor.name == "linode" and not catalog.linode_image_has_metadata(vendor.images[image]):
        usable = [name for name, slug in vendor.images.items() if catalog.linode_image_has_metadata(slug)]
        c.fail("image", f"{image!r} ({vendor.images[image]}) cannot read first-boot data from Linode's Metadata "
                        f"service; allowed: {_allowed(usable)}")

    host_name = c.string("hostName") or f"{PROJECT}-{stack}".lower()
    if not _NAME.match(host_name):
        c.fail("hostName", f"{host_name!r} is not a valid name; allowed: 2-63 lowercase letters, digits and "
                           "hyphens, starting with a letter")
    elif vendor and vendor.name == "linode" and ("--" in host_name
                                                 or not LINODE_LABEL_MIN <= len(host_name) <= LINODE_LABEL_MAX):
        c.fail("hostName", f"{host_name!r} cannot be a linode label; allowed on linode: "
                           f"{LINODE_LABEL_MIN}-{LINODE_LABEL_MAX} characters, no '--' (single hyphens only)")

    admin = c.string("adminUser") or "deploy"
    app_name = c.string("appName") or "app"
    for key, user in (("adminUser", admin), ("appName", app_name)):
        if not _UNIX_USER.match(user) or user in _RESERVED_USERS:
            c.fail(key, f"{user!r} is not a usable account name; allowed: lowercase letters, digits, _ and -, "
                        f"up to 31 characters, not one of {_allowed(sorted(_RESERVED_USERS))}")
    if admin == app_name:
        c.fail("appName", f"{app_name!r} must differ from adminUser: the app runs without login or sudo")

    keys: list[SshKey] = []
    key_lines = c.array("sshPublicKeys")
    if not key_lines:
        c.fail("sshPublicKeys", "missing; give at least one OpenSSH public key (e.g. the contents of "
                                "~/.ssh/id_ed25519.pub); password login is disabled")
    first_entry: dict[str, int] = {}  # key body -> entry: adapters name key resources by the key
    for i, line in enumerate(key_lines):
        try:
            parsed = parse_ssh_key(line)
        except ValueError as err:
            c.fail("sshPublicKeys", f"entry {i} ({line[:24]!r}...) is malformed: {err}")
            continue
        if parsed.blob in first_entry:
            c.fail("sshPublicKeys", f"entry {i} is the same key as entry {first_entry[parsed.blob]}; "
                                    "list each key once")
            continue
        first_entry[parsed.blob] = i
        keys.append(parsed)

    cidrs: list[str] = []
    for cidr in c.array("sshAllowedCidrs"):
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as err:
            c.fail("sshAllowedCidrs", f"{cidr!r} is not a CIDR ({err}); allowed: e.g. 203.0.113.7/32, "
                                      "2001:db8::/48, 0.0.0.0/0")
            continue
        if "/" not in cidr:  # ip_network reads a bare address as /32: "0.0.0.0" would admit nobody
            if network.network_address.is_unspecified:
                intent = f"{network.network_address}/0 for anywhere"
            else:
                intent = f"{network} for this one address"
            c.fail("sshAllowedCidrs", f"{cidr!r} has no prefix length; write it out, e.g. {intent}")
            continue
        cidrs.append(str(network))
    if not cidrs and not any(p.startswith(f"{PROJECT}:sshAllowedCidrs") for p in c.problems):
        c.fail("sshAllowedCidrs", "empty: nobody could reach SSH; give at least one CIDR")

    domain = c.string("domain")
    if domain is not None:
        domain = domain.lower().rstrip(".")
        if not is_valid_domain(domain):
            c.fail("domain", f"{domain!r} is not a valid domain name; allowed: e.g. app.example.com "
                             "(letters, digits, hyphens, at least two labels)")
    zone = c.string("dnsZone")
    if zone is not None:
        zone = zone.lower().rstrip(".")
        if not is_valid_domain(zone):
            c.fail("dnsZone", f"{zone!r} is not a valid domain name; allowed: e.g. example.com")
        elif domain and not (domain == zone or domain.endswith("." + zone)):
            c.fail("dnsZone", f"{zone!r} does not contain domain {domain!r}; allowed: {domain} or a parent of it")
    elif domain and is_valid_domain(domain):
        zone = domain.split(".", 1)[1] if domain.count(".") >= 2 else domain
    acme_email = c.string("acmeEmail")
    if acme_email is not None and not is_valid_email(acme_email):
        c.fail("acmeEmail", f"{acme_email!r} is not an e-mail address; allowed: name@example.com (letters, "
                            "digits and . _ % + - before the @, a domain name after it)")
    if domain and not acme_email:
        c.fail("acmeEmail", "missing; required when domain is set (the ACME account contact)")
    acme_server = c.string("acmeServer") or LETS_ENCRYPT
    server_problem = acme_directory_problem(acme_server)
    if server_problem:
        c.fail("acmeServer", f"{acme_server!r} {server_problem}; e.g. {LETS_ENCRYPT}")

    acme_ca = c.string("acmeCaCertificate")
    if acme_ca is not None:
        acme_ca = acme_ca.strip() + "\n"
        if not re.fullmatch(r"(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n)+", acme_ca):
            c.fail("acmeCaCertificate", "not a PEM certificate; allowed: -----BEGIN CERTIFICATE----- ... blocks")
    reboot = c.string("rebootWindow") or "04:00"
    if reboot != "off" and not _TIME.match(reboot):
        c.fail("rebootWindow", f"{reboot!r} is not a time; allowed: HH:MM (24 h, UTC) or off")

    tags = c.array("tags")
    for tag in tags:
        if not _TAG.match(tag):
            c.fail("tags", f"{tag!r} is not a valid tag; allowed: lowercase letters, digits, - _ :, "
                           "up to 64 characters")
    health = c.string("appHealthPath") or "/healthz"
    if not _PATH.match(health):
        c.fail("appHealthPath", f"{health!r} is not an absolute URL path; allowed: e.g. /healthz")

    app = _parse_app(c, base_dir)
    workers = c.integer("appWorkers", 0, 32)

    flags = {k: c.boolean(k) for k in ("manageDns", "backups", "monitoring", "ipv6", "production", "protect",
                                       "reprovision", "growDisk")}
    swap = c.integer("swapSizeMb", 0, 16384)

    if c.problems or vendor is None or size is None:
        raise ConfigError(c.problems)
    return HostSpec(
        vendor=vendor.name, size=size, region=region, image=image, host_name=host_name, admin_user=admin,
        ssh_keys=tuple(keys), ssh_allowed_cidrs=tuple(cidrs), domain=domain, acme_email=acme_email,
        acme_server=acme_server, acme_ca_certificate=acme_ca if domain else None,
        manage_dns=flags["manageDns"], dns_zone=zone if domain else None,
        backups=flags["backups"],
        monitoring=flags["monitoring"], ipv6=flags["ipv6"], swap_size_mb=swap,
        reboot_window=None if reboot == "off" else reboot, tags=tuple(tags), app_name=app_name,
        app_health_path=health, production=flags["production"], protect=flags["protect"],
        reprovision=flags["reprovision"], grow_disk=flags["growDisk"], app=app, app_workers=workers,
        deploy_key_given=bool(raw.get("deployPrivateKey")),
    )


def plain_secret_keys(raw: Mapping[str, Any], secret_keys: Collection[str]) -> list[str]:
    """Secret keys given a value that is not encrypted (an empty value counts as unset)."""
    return [k.name for k in CONFIG_KEYS if k.secret and raw.get(k.name) not in (None, "")
            and k.name not in secret_keys]


def parse_env_lines(lines: list[str], key: str, c: _Collector, reveal: bool) -> list[tuple[str, str]]:
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


def _parse_app(c: _Collector, base_dir: Path | None) -> AppSpec | None:
    env = parse_env_lines(c.array("appEnv", strip=False), "appEnv", c, reveal=True)
    secret_text = c.raw.get("appSecrets") or ""
    if secret_text == SECRET_PLACEHOLDER:  # an encrypted stack-file value read without the passphrase
        secret_text = ""
    secret_names = [n for n, _ in parse_env_lines(envfile.split_lines(str(secret_text)), "appSecrets", c, reveal=False)]
    module = c.string("appModule") or "app:app"
    if not _MODULE.match(module):
        c.fail("appModule", f"{module!r} is not an entry point; allowed: module:callable, "
                            "e.g. myproject.wsgi:application")
    server = c.string("appServer") or "wsgi"
    if server not in ("wsgi", "asgi"):
        c.fail("appServer", f"{server!r} is not supported; allowed: wsgi, asgi")
    keep = c.integer("appKeepReleases", 2, 50)
    source = c.string("appSource")
    ref = c.string("appRef")
    if source is None:
        if ref:
            c.fail("appRef", "set, but appSource is not; give appSource too")
        return None
    if _GIT_URL.match(source):
        if not ref:
            c.fail("appRef", "missing; required with a git appSource (a tag or commit: branches move silently)")
        elif not _GIT_REF.match(ref):
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


def _parse_size(c: _Collector, vendor: catalog.Vendor | None) -> catalog.Size | None:
    name = c.string("size") or "small"
    if vendor is None:
        return None
    size = vendor.size_for(name) if name in catalog.TIERS else vendor.size_by_slug(name)
    if size is None:
        if name in catalog.TIERS:
            c.fail("size", f"tier {name!r} is not offered by {vendor.name}; allowed tiers: "
                           f"{_allowed(vendor.tiers)}; or a plan: {_allowed([s.slug for s in vendor.sizes])}")
        else:
            c.fail("size", f"{name!r} is not a {vendor.name} plan; allowed: tiers {_allowed(vendor.tiers)} "
                           f"or plans {_allowed([s.slug for s in vendor.sizes])}")
    return size


def stack_config_values(document: Mapping[str, Any],
                        project: str = PROJECT) -> tuple[dict[str, str], dict[str, str]]:
    """Split a stack file's `config:` into (project values, other namespaces' values) as Pulumi strings.

    Pulumi hands a program every value as a string: lists and maps as JSON, booleans as true/false.
    Encrypted `secure:` values are kept as an opaque marker (they are never needed to build the spec).
    """
    mine: dict[str, str] = {}
    other: dict[str, str] = {}
    for full_key, value in (document.get("config") or {}).items():
        namespace, _, key = str(full_key).partition(":")
        text = _pulumi_string(value)
        if namespace == project and key:
            mine[key] = text
        else:
            other[str(full_key)] = text
    return mine, other


def _pulumi_string(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


class StackFileError(ConfigError):
    """A stack file that cannot be read as YAML config; one line naming the file (and line, when known)."""

    def __init__(self, where: str, message: str):
        self.problems = [f"{where}: {message}"]
        ValueError.__init__(self, f"invalid stack file {where}: {message}")


def read_stack_document(path: str | Path) -> dict[str, Any]:
    """A stack file's YAML document, or StackFileError naming the file and line (never a parser traceback)."""
    import yaml  # imported here: the Pulumi program itself never needs PyYAML

    class Loader(yaml.SafeLoader):
        """SafeLoader whose over-long integers fail at their line (int() refuses beyond 4300 digits)."""

    def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        try:
            return yaml.SafeLoader.construct_yaml_int(loader, node)
        except ValueError:
            raise yaml.constructor.ConstructorError(None, None, "a number too long to read",
                                                    node.start_mark) from None

    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    path = Path(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader) or {}  # a SafeLoader subclass
    except (OSError, UnicodeDecodeError) as err:
        raise StackFileError(str(path), f"cannot be read ({err.__class__.__name__}: {err})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise StackFileError(where, f"not valid YAML: {problem}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(str(path), "expected a mapping with a `config:` mapping of key: value")
    return document


def load_stack_file(path: str | Path, override: Callable[[dict[str, str]], None] | None = None) -> HostSpec:
    """Build the HostSpec of a `stacks/Pulumi.<stack>.yaml` file (for tests, the plan and the VM proof)."""
    path = Path(path)
    values, _ = stack_config_values(read_stack_document(path))
    if override:
        override(values)
    encrypted = [key for key, value in values.items() if value == SECRET_PLACEHOLDER]
    return parse_host_spec(values, stack=stack_name_of(path), base_dir=PROJECT_DIR, secret_keys=encrypted)


def stack_name_of(path: str | Path) -> str:
    """`stacks/Pulumi.prod.yaml` -> `prod`."""
    name = Path(path).name
    return name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") else Path(path).stem
