"""Servers (as pulumi-policy-aws's compute policies): production backups and protection, catalog sizes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
)

from components.config import PROJECT
from policy.hardening_policies.resources import (
    DATA_VOLUMES,
    SERVER_VENDORS,
    describe,
    is_production,
    text,
    vendor_of,
)


def server_backups_on(resource_type: str, props: Mapping[str, Any]) -> bool:
    vendor = vendor_of(resource_type)
    return vendor is not None and vendor.resources.backups_on(props)


def validate_production_safety(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    who = describe(args.resource_type, args.name)
    if args.resource_type in DATA_VOLUMES and not args.opts.protect:
        report(f"{who} is a production stack's data volume but is not protected from deletion. Fix: set "
               f"{PROJECT}:keepDataVolume: true in the stack file (Pulumi then refuses to delete or replace it, "
               "and a destroy leaves it at the vendor).", None)
    if args.resource_type not in SERVER_VENDORS:
        return
    if not server_backups_on(args.resource_type, args.props):
        report(f"{who} is in a production stack but has no automatic backups. Fix: set {PROJECT}:backups: true "
               "in the stack file.", None)
    if not args.opts.protect:
        report(f"{who} is in a production stack but is not protected from deletion. Fix: set {PROJECT}:protect: "
               "true in the stack file (Pulumi then refuses to delete or replace it).", None)


def validate_size(args: ResourceValidationArgs, report: ReportViolation) -> None:
    vendor = vendor_of(args.resource_type)
    if vendor is None:
        return
    size_input = vendor.resources.size_input
    slug = text(args.props.get(size_input))
    if vendor.size_by_slug(slug) is None:
        report(f"{describe(args.resource_type, args.name)} uses {size_input} "
               f"{slug or '(unset)'!r}, which is not in the project's catalog (components/catalog.py). Fix: set "
               f"{PROJECT}:size to a tier ({', '.join(vendor.tiers)}) or a catalog plan "
               f"({', '.join(s.slug for s in vendor.sizes)}), or add the plan with its price to the catalog.", None)
