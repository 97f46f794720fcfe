"""HostSpec, the vendor-neutral host description, and `parse_host_spec`, which builds it from the raw strings
Pulumi hands the program (or a stack file's values): each section's module validates its keys, and every problem
of every section is reported at once, each naming the key, the bad value and what is allowed. Pure: nothing
touches a cloud."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import catalog
from components.config import app, data, host, lifecycle, operations, ssh, tls
from components.config.app import AppSpec
from components.config.problems import Collector, ConfigError, allowed
from components.config.schema import CONFIG_KEYS, KEYS_BY_NAME, PROJECT, default_of
from components.config.ssh_keys import SshKey


def _default(key: str) -> Any:
    """A HostSpec field's default: the schema's (a list default becomes the field's tuple)."""
    value = default_of(key)
    return field(default_factory=lambda: tuple(value)) if isinstance(value, list) else field(default=value)


@dataclass(frozen=True, kw_only=True)
class HostSpec:
    """Everything the host needs, vendor-neutral; adapters translate it, renderers turn it into first boot.

    Each default is the schema's (components/config/schema.py); parse_host_spec is the way to build one from
    config, direct construction is for tools that describe a host without a stack.
    """

    vendor: str
    size: catalog.Size
    region: str
    image: str
    host_name: str
    admin_user: str = _default("adminUser")
    ssh_keys: tuple[SshKey, ...]
    ssh_allowed_cidrs: tuple[str, ...] = _default("sshAllowedCidrs")
    domain: str | None = None
    acme_email: str | None = None
    acme_server: str = _default("acmeServer")
    acme_ca_certificate: str | None = None
    manage_dns: bool = _default("manageDns")
    dns_zone: str | None = None
    backups: bool = _default("backups")
    monitoring: bool = _default("monitoring")
    ipv6: bool = _default("ipv6")
    swap_size_mb: int = _default("swapSizeMb")
    reboot_window: str | None = _default("rebootWindow")  # None: reboots off
    benchmark: bool = _default("benchmark")
    data_volume_gb: int = _default("dataVolumeGb")  # 0: no data volume
    keep_data_volume: bool = _default("keepDataVolume")
    database: str = _default("database")
    backup_generations: int = _default("backupGenerations")
    backup_bucket: str | None = None
    backup_endpoint: str | None = None
    backup_recipient: str | None = None
    tags: tuple[str, ...] = _default("tags")
    app_name: str = _default("appName")
    app_health_path: str = _default("appHealthPath")
    production: bool = _default("production")
    protect: bool = _default("protect")
    reprovision: bool = _default("reprovision")
    grow_disk: bool = _default("growDisk")
    app: AppSpec | None = None
    app_workers: int = _default("appWorkers")
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
    def has_data_volume(self) -> bool:
        return self.data_volume_gb > 0

    @property
    def data_volume_name(self) -> str:
        """The data volume's name at the vendor (and so its device name where the vendor names devices by
        volume: Vendor.volume_devices)."""
        return self.host_name + data.VOLUME_SUFFIX

    @property
    def data_volume_devices(self) -> tuple[str, ...]:
        """Where the attached data volume may appear on the server, most specific first."""
        return self.vendor_info.volume_devices(self.data_volume_name) if self.has_data_volume else ()

    @property
    def os_family(self) -> str:
        return "ubuntu" if self.image.startswith("ubuntu") else "debian"


def parse_host_spec(raw: Mapping[str, Any], stack: str = "dev", base_dir: Path | None = None,
                    secret_keys: Collection[str] | None = None) -> HostSpec:
    """Validate raw config values (strings, as Pulumi gives them) into a HostSpec, or raise ConfigError.

    base_dir: where a local appSource is resolved (the project directory; default: the current one).
    secret_keys: the keys (without namespace) whose values are encrypted in the stack; when given, a secret key
    stored in plain text is refused (the CLI does not check keys Pulumi.yaml leaves undeclared).
    """
    c = Collector(raw)
    for key in sorted(set(raw) - set(KEYS_BY_NAME)):
        c.fail(key, f"unknown key; known keys: {allowed(k.name for k in CONFIG_KEYS)}")
    if secret_keys is not None:
        for key in plain_secret_keys(raw, secret_keys):
            c.fail(key, f"stored in plain text, but it is a secret; encrypt it with: pulumi config set --secret "
                        f"{PROJECT}:{key} <value> (or remove it from the stack file)")
    host_fields = host.validate(c, stack)
    ssh_fields = ssh.validate(c)
    fields = {**host_fields, **ssh_fields, **tls.validate(c), **operations.validate(c),
              **data.validate(c, host_fields["vendor"], host_fields["host_name"]),
              **app.validate(c, ssh_fields["admin_user"], base_dir), **lifecycle.validate(c)}
    if c.problems or host_fields["vendor"] is None or host_fields["size"] is None:
        raise ConfigError(c.problems)
    return HostSpec(**fields)


def plain_secret_keys(raw: Mapping[str, Any], secret_keys: Collection[str]) -> list[str]:
    """Secret keys given a value that is not encrypted (an empty value counts as unset)."""
    return [k.name for k in CONFIG_KEYS if k.secret and raw.get(k.name) not in (None, "")
            and k.name not in secret_keys]
