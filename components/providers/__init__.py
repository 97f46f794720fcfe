"""Vendor adapters. Each lives in its own module so a stack imports only the SDK of the vendor it uses."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from components.host import WebHost

#: When the vendor's scheduled backups start (UTC hour), where the vendor lets us choose (DigitalOcean, Lightsail).
BACKUP_HOUR_UTC = 4

ADAPTERS = {
    "digitalocean": ("components.providers.digitalocean", "DigitalOceanHost"),
    "linode": ("components.providers.linode", "LinodeHost"),
    "lightsail": ("components.providers.lightsail", "LightsailHost"),
}


def host_class(vendor: str) -> type[WebHost]:
    """The host component class for a vendor, importing that vendor's SDK only now."""
    module_name, class_name = ADAPTERS[vendor]
    cls: type[WebHost] = getattr(importlib.import_module(module_name), class_name)
    return cls
