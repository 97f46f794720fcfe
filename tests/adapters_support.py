"""Shared pieces of the adapter tests (tests/test_adapters.py, tests/test_adapters_linode_labels.py): a region per
vendor, and `build`, which builds one host component directly under mocks."""

from __future__ import annotations

from typing import Any

import pulumi

from components import catalog
from components.config import parse_host_spec
from components.config.schema import KEYS_BY_NAME
from components.host import WebHost, WebHostArgs
from components.testing.mockrun import run_program
from components.vendors import host_class
from tests.conftest import raw_config

REGIONS = {"digitalocean": "nyc3", "linode": "us-iad", "lightsail": "us-east-1", "vultr": "ewr", "hetzner": "fsn1"}
#: The size a stack gets when it names none.
DEFAULT_SIZE = str(KEYS_BY_NAME["size"].default)


def sized(vendor: str) -> dict[str, str]:
    """The size override a vendor needs: its smallest tier where it offers no plan in the default one (from the
    catalog), else none."""
    offer = catalog.vendor(vendor)
    return {} if offer.size_for(DEFAULT_SIZE) else {"size": offer.tiers[0]}


def build(vendor: str, **overrides: object) -> tuple[WebHost, dict[str, pulumi.ResourceOptions], Any]:
    """Build one host component directly under mocks; returns it, its children's options, and the run."""
    spec = parse_host_spec(raw_config(vendor=vendor, region=REGIONS[vendor], **{**sized(vendor), **overrides}),
                           stack="unit")
    options: dict[str, pulumi.ResourceOptions] = {}
    built: list[WebHost] = []

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        if args.name != "web":  # the component's own transformation also sees the component
            options[args.name] = args.opts

    def program() -> None:
        built.append(host_class(vendor)("web", WebHostArgs(spec),
                                        opts=pulumi.ResourceOptions(transformations=[record])))

    run = run_program({}, stack="unit", program=program)
    return built[0], options, run
