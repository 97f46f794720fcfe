"""The vendor registry: the one list of supported vendors. Everything vendor-specific lives in the vendor's own
folder (`components/vendors/<name>/`); the rest of the project iterates this list. Importing it imports no
vendor SDK: each adapter is loaded only when a stack asks for its vendor (`host_class`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from components.vendors import digitalocean, hetzner, lightsail, linode, vultr
from components.vendors.model import Vendor

if TYPE_CHECKING:
    from components.host import WebHost

#: Every supported vendor, in the order tables and defaults list them.
VENDORS: tuple[Vendor, ...] = (digitalocean.VENDOR, linode.VENDOR, lightsail.VENDOR, vultr.VENDOR, hetzner.VENDOR)
BY_NAME: Mapping[str, Vendor] = MappingProxyType({v.name: v for v in VENDORS})


def host_class(vendor: str) -> type[WebHost]:
    """The host component class for a vendor, importing that vendor's SDK only now."""
    return BY_NAME[vendor].host_class()
