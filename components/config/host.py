"""The host section: which vendor, plan, region and image, and the server's name and tags."""

from __future__ import annotations

from typing import Any

from components import catalog
from components.config.problems import Collector, allowed
from components.config.schema import DEFAULT_REGIONS, KEYS_BY_NAME, PROJECT


def validate(c: Collector, stack: str) -> dict[str, Any]:
    """HostSpec's host fields (vendor None when it is unusable: the problem is collected)."""
    vendor = _vendor(c)
    size = _size(c, vendor)
    region = c.string("region") or (DEFAULT_REGIONS.get(vendor.name) if vendor else None) or ""
    if vendor and region not in vendor.regions:
        c.fail("region", f"{region!r} is not a {vendor.name} region; allowed: {allowed(vendor.open_regions)}")
    elif vendor and region in vendor.closed_regions:
        c.fail("region", f"{region!r} {vendor.closed_regions[region]}; allowed: {allowed(vendor.open_regions)}")
    image = _image(c, vendor)
    host_name = c.string("hostName") or f"{PROJECT}-{stack}".lower()
    if not KEYS_BY_NAME["hostName"].matches(host_name):
        c.fail("hostName", f"{host_name!r} is not a valid name; allowed: 2-63 lowercase letters, digits and "
                           "hyphens, starting with a letter")
    elif vendor and (why := vendor.host_name_objection(host_name)):
        c.fail("hostName", f"{host_name!r} {why}")
    tags = c.array("tags")
    for tag in tags:
        if not KEYS_BY_NAME["tags"].matches(tag):
            c.fail("tags", f"{tag!r} is not a valid tag; allowed: lowercase letters, digits, - _ :, "
                           "up to 64 characters")
        elif vendor and (why := vendor.tag_objection(tag)):
            c.fail("tags", f"{tag!r} {why}")
    return dict(vendor=vendor.name if vendor else None, size=size, region=region, image=image, host_name=host_name,
                ipv6=c.boolean("ipv6"), tags=tuple(tags))


def _vendor(c: Collector) -> catalog.Vendor | None:
    name = c.string("vendor")
    choices = KEYS_BY_NAME["vendor"].choices
    if name is None:
        c.fail("vendor", f"missing; allowed: {allowed(choices)}")
    elif name not in choices:
        c.fail("vendor", f"{name!r} is not supported; allowed: {allowed(choices)}")
    else:
        return catalog.vendor(name)
    return None


def _size(c: Collector, vendor: catalog.Vendor | None) -> catalog.Size | None:
    name = c.text("size")
    if vendor is None:
        return None
    size = vendor.size_for(name) if name in catalog.TIERS else vendor.size_by_slug(name)
    if size is None:
        if name in catalog.TIERS:
            c.fail("size", f"tier {name!r} is not offered by {vendor.name}; allowed tiers: "
                           f"{allowed(vendor.tiers)}; or a plan: {allowed([s.slug for s in vendor.sizes])}")
        else:
            c.fail("size", f"{name!r} is not a {vendor.name} plan; allowed: tiers {allowed(vendor.tiers)} "
                           f"or plans {allowed([s.slug for s in vendor.sizes])}")
    return size


def _image(c: Collector, vendor: catalog.Vendor | None) -> str:
    image = c.string("image") or (vendor.default_image if vendor else catalog.DEFAULT_IMAGE)
    choices = KEYS_BY_NAME["image"].choices
    if image not in choices:
        c.fail("image", f"{image!r} is not supported; allowed: {allowed(choices)}")
    elif vendor and image not in vendor.images:
        why = f" ({vendor.withheld_images[image]})" if image in vendor.withheld_images else ""
        c.fail("image", f"{image!r} is not offered by {vendor.name}{why}; allowed: {allowed(list(vendor.images))}")
    elif vendor and (objection := vendor.image_objection(vendor.images[image])):
        usable = [name for name, slug in vendor.images.items() if not vendor.image_objection(slug)]
        c.fail("image", f"{image!r} ({vendor.images[image]}) {objection}; allowed: {allowed(usable)}")
    return image
