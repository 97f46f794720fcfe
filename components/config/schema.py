"""The config keys: the one place each key's type, default, allowed values, section and meaning are written.

Validation (the section modules), `HostSpec`'s defaults, Pulumi.yaml's typed schema and the README's
configuration reference all read them from here (tools/generate.py writes the last two).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components import catalog

PROJECT = "hardened-vps"
#: A stack file's encrypted (`secure:`) value as read without the passphrase: never needed to build the spec.
SECRET_PLACEHOLDER = "[secret]"
#: Region per vendor when the stack names none (a per-vendor default, so not a ConfigKey default).
DEFAULT_REGIONS: Mapping[str, str] = {v.name: v.default_region for v in catalog.CATALOG.values()}
#: Longest raw value of a key unless it says otherwise (characters, as Pulumi hands it over): nothing legitimate
#: comes close, and a cap keeps absurd input from reaching parsers (Python's int-string limit, file-name limits).
MAX_CHARS_DEFAULT = 256
#: The sections of the configuration, in the order they are validated; each has its module in this package.
SECTIONS = ("host", "ssh", "tls", "operations", "data", "app", "lifecycle")


@dataclass(frozen=True)
class ConfigKey:
    """One project config key: the single source for validation, HostSpec's defaults, Pulumi.yaml and the README.

    default None: no default (required or optional as `required` says). choices, range (inclusive) and pattern
    (a whole value; each item of an array) are what validation allows; the section module words the message.
    """

    name: str
    type: str  # string | integer | boolean | array (Pulumi.yaml config types)
    description: str
    default: Any = None
    required: bool = False
    # Read with get_secret; its value never enters HostSpec or a message. Not declared in Pulumi.yaml: the CLI
    # applies a declared key's default as a plain value and refuses it, and a key without default is required.
    secret: bool = False
    section: str = ""
    choices: tuple[str, ...] = ()
    range: tuple[int, int] | None = None
    pattern: str | None = None
    max_chars: int = MAX_CHARS_DEFAULT

    def matches(self, value: str) -> bool:
        """Whether `value` has the key's shape (a key without pattern takes any)."""
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None


def _section(name: str, *keys: ConfigKey) -> tuple[ConfigKey, ...]:
    return tuple(dataclasses.replace(k, section=name) for k in keys)


_UNIX_USER = r"[a-z_][a-z0-9_-]{0,30}"

_HOST = _section(
    "host",
    ConfigKey("vendor", "string", f"Cloud vendor: {', '.join(catalog.VENDORS[:-1])} or {catalog.VENDORS[-1]}.",
              required=True,
              choices=catalog.VENDORS),
    ConfigKey("size", "string", f"Portable tier ({', '.join(catalog.TIERS)}) or an exact vendor plan slug.", "small"),
    ConfigKey("region", "string", f"Vendor region slug; default per vendor: {', '.join(DEFAULT_REGIONS.values())}. "
                                  "Regions closed to new servers, and "
                                  + " and ".join(v.closed_region_note for v in catalog.CATALOG.values()
                                                 if v.closed_region_note) + ", are refused."),
    ConfigKey("image", "string", "OS image: debian-13, debian-12 or ubuntu-24.04; default per vendor: "
              + ", ".join(v.default_image for v in catalog.CATALOG.values()) + ".", choices=catalog.IMAGES),
    ConfigKey("hostName", "string", "Server name (and label/tag base); default <project>-<stack>.",
              pattern=r"[a-z][a-z0-9-]{0,61}[a-z0-9]"),
    ConfigKey("ipv6", "boolean", "Give the server a public IPv6 address where the vendor makes it optional.", True),
    ConfigKey("tags", "array", "Tags for the server and its resources (lowercase, digits, - _ :).", [],
              pattern=r"[a-z0-9][a-z0-9:_-]{0,63}", max_chars=2048),
)
_SSH = _section(
    "ssh",
    ConfigKey("adminUser", "string", "Login of the admin account (key-only SSH; root through hvps-root).", "deploy",
              pattern=_UNIX_USER),
    ConfigKey("sshPublicKeys", "array", "OpenSSH public keys of the admin (at least one; RSA >= 3072 bits).",
              required=True, max_chars=32768),
    ConfigKey("sshAllowedCidrs", "array", "Source CIDRs allowed to reach SSH (port 22).", ["0.0.0.0/0", "::/0"],
              max_chars=4096),
    ConfigKey("deployPrivateKey", "string", "Private key Pulumi uses to deploy releases over SSH (secret); "
                                            "default: your ssh-agent.", secret=True, max_chars=16384),
)
_TLS = _section(
    "tls",
    ConfigKey("domain", "string", "Domain name served over HTTPS (A/AAAA records made at the vendor)."),
    ConfigKey("acmeEmail", "string", "Contact e-mail for the ACME account; required with domain."),
    ConfigKey("acmeServer", "string", "ACME directory URL (staging or a test server for trials).",
              "https://acme-v02.api.letsencrypt.org/directory", max_chars=512),
    ConfigKey("acmeCaCertificate", "string", "PEM root certificate to trust for a private ACME server "
                                             "(step-ca, pebble); unset for public CAs.",
              pattern=r"(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n)+",
              max_chars=16384),
    ConfigKey("manageDns", "boolean", "Create A/AAAA records for domain in a zone hosted at the vendor.", True),
    ConfigKey("dnsZone", "string", "The vendor-hosted DNS zone holding domain; default: domain minus its first "
                                   "label (app.example.com -> example.com), or domain itself with two labels."),
)
_OPERATIONS = _section(
    "operations",
    ConfigKey("backups", "boolean", "Turn on the vendor's automatic backups (extra cost).", False),
    ConfigKey("monitoring", "boolean", "Install the vendor's free monitoring agent ("
              + ", ".join(v.title for v in catalog.CATALOG.values() if v.monitoring_agent) + " only).", True),
    ConfigKey("swapSizeMb", "integer", "Swap file size in MiB; 0 disables swap.", 1024, range=(0, 16384),
              max_chars=16),
    ConfigKey("rebootWindow", "string", "Time (HH:MM, UTC) for reboots after security updates, or 'off'.", "04:00",
              pattern=r"off|([01][0-9]|2[0-3]):[0-5][0-9]"),
    ConfigKey("benchmark", "boolean", "Benchmark the server once (CPU, memory, disk, web through nginx, boot timeline, "
                                      "footprint; a few minutes) over SSH; the result is the stack output "
                                      "`benchmark`.", False),
)
_DATA = _section(
    "data",
    ConfigKey("dataVolumeGb", "integer", "Size in GB of the data volume (the app's data, the database, local backups), "
                                         "kept when the server is replaced; 0: no volume. Limits per vendor.", 0,
              range=(0, 16384), max_chars=16),
    ConfigKey("keepDataVolume", "boolean", "Keep the data volume when the stack or server is deleted (protected, "
                                           "retained on delete); false lets `pulumi destroy` delete it.", True),
    ConfigKey("database", "string", "A database for the app on the data volume: none or postgresql (unix socket "
                                    "only; DATABASE_URL in the app's environment).", "none",
              choices=("none", "postgresql")),
    ConfigKey("backupGenerations", "integer", "Daily backups kept on the data volume (and off the host when "
                                              "backupBucket is set).", 7, range=(1, 90), max_chars=16),
    ConfigKey("backupBucket", "string", "S3-compatible bucket that receives each backup encrypted to backupRecipient; "
                                        "unset: backups stay on the volume.",
              pattern=r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    ConfigKey("backupEndpoint", "string", "The bucket's S3 endpoint ("
              + ", ".join(v.object_storage_endpoint for v in catalog.CATALOG.values() if v.object_storage_endpoint)
              + "); required with backupBucket.",
              pattern=r"https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?"),
    ConfigKey("backupRecipient", "string", "age public key (age1...) the off-host copies are encrypted to; you keep "
                                           "its private key. Required with backupBucket.",
              pattern=r"age1[02-9ac-hj-np-z]{58}"),
    ConfigKey("backupAccessKeyId", "string", "Access key id for backupBucket (secret).", secret=True),
    ConfigKey("backupSecretAccessKey", "string", "Secret access key for backupBucket (secret).", secret=True),
)
_APP = _section(
    "app",
    ConfigKey("appName", "string", "System user and unit name of the web app.", "app", pattern=_UNIX_USER),
    ConfigKey("appHealthPath", "string", "HTTP path that answers 200 when the app is healthy.", "/healthz",
              pattern=r"/[A-Za-z0-9._~/-]*"),
    ConfigKey("appSource", "string", "Your app: a local directory (relative to the project) or a git URL; "
                                     "unset deploys the built-in sample app.", max_chars=1024),
    ConfigKey("appRef", "string", "Git tag or commit to deploy (required with a git appSource).",
              pattern=r"[A-Za-z0-9._/-]{1,100}"),
    ConfigKey("appModule", "string", "WSGI/ASGI entry point, module:callable.", "app:app",
              pattern=r"[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.()]*"),
    ConfigKey("appServer", "string", "wsgi (gunicorn) or asgi (gunicorn with uvicorn workers).", "wsgi",
              choices=("wsgi", "asgi")),
    ConfigKey("appEnv", "array", "Plain environment variables for the app, as KEY=value (value taken literally).",
              [], max_chars=16384),
    ConfigKey("appSecrets", "string", "Secret environment (dotenv lines KEY=value, each value taken literally); "
                                      "set it with `pulumi config set --secret`. Kept with its release "
                                      "(secrets.env, 0640), so a rollback restores the old secrets too.", secret=True,
              max_chars=65536),
    ConfigKey("appWorkers", "integer", "gunicorn workers; 0 sizes them to the plan's RAM (one per 512 MiB, 2-8).", 0,
              range=(0, 32), max_chars=16),
    ConfigKey("appKeepReleases", "integer", "How many releases to keep on the host for rollback.", 5, range=(2, 50),
              max_chars=16),
)
_LIFECYCLE = _section(
    "lifecycle",
    ConfigKey("growDisk", "boolean", "Let a size change grow the disk for good ("
              + ", ".join(f"{v.title} {v.grow_disk_input}" for v in catalog.CATALOG.values() if v.grow_disk_input)
              + "; a grown disk blocks any later downsize). Off: CPU and RAM change only.", False),
    ConfigKey("production", "boolean", "Declare this stack production (policies demand backups, protect).", False),
    ConfigKey("protect", "boolean", "Protect the server from deletion and replacement (pulumi protect).", False),
    ConfigKey("reprovision", "boolean",
              "Allow a first-boot data change to REPLACE the server (default: keep the running server).", False),
)

#: Section by section: the order of validation, of Pulumi.yaml's schema and of the README's reference.
CONFIG_KEYS: tuple[ConfigKey, ...] = (*_HOST, *_SSH, *_TLS, *_OPERATIONS, *_DATA, *_APP, *_LIFECYCLE)
KEYS_BY_NAME: Mapping[str, ConfigKey] = {k.name: k for k in CONFIG_KEYS}


def default_of(name: str) -> Any:
    """The default of key `name`, as the schema writes it (a list stays a list)."""
    return KEYS_BY_NAME[name].default


def max_chars(key: str) -> int:
    """The length cap of a config key's raw value."""
    return KEYS_BY_NAME[key].max_chars if key in KEYS_BY_NAME else MAX_CHARS_DEFAULT
