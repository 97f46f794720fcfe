"""Shared pieces of the first-boot tests (tests/test_firstboot.py, tests/test_firstboot_templates.py): the
`domain_spec` fixture, a stack with a domain, an ACME e-mail and SSH open to one IPv4 and one IPv6 CIDR.

A test module registers the fixture by assignment (`domain_spec = firstboot_support.domain_spec`): imported by
name, it would read to ruff as an unused import that each test's parameter redefines."""

from __future__ import annotations

import pytest

from components.config import HostSpec, parse_host_spec
from components.firstboot.concerns import CONVERGE_CODE_PATH
from components.firstboot.converge import converge_code
from tests.conftest import raw_config

#: Where the provisioner sources the converge's code from the bundle it staged (a path shellcheck cannot follow).
SOURCE_CONVERGE_CODE = f'  . "$ST"{CONVERGE_CODE_PATH}\n'


def provisioner_for_lint(provisioner: str) -> str:
    """The provisioner with the converge's code where it sources it, so shellcheck reads what bash runs."""
    assert provisioner.count(SOURCE_CONVERGE_CODE) == 1
    return provisioner.replace(SOURCE_CONVERGE_CODE, converge_code().content)


@pytest.fixture(scope="module")
def domain_spec() -> HostSpec:
    return parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com",
                                      sshAllowedCidrs=["203.0.113.0/24", "2001:db8::/32"]))
