"""The tls section: domain, ACME account and server, private CA, DNS zone; strict shapes, since these values
reach nginx, certbot and a shell on the host."""

from __future__ import annotations

import pytest

from components.config import parse_host_spec
from tests.conftest import config_problems as problems
from tests.conftest import raw_config


@pytest.mark.parametrize("domain", ["localhost", "-bad.example.com", "exa mple.com", "a..b.com", "1.2.3.4",
                                    "under_score.example.com"])
def test_malformed_domain(domain: str) -> None:
    found = problems(domain=domain, acmeEmail="ops@example.com")
    assert any(p.startswith("hardened-vps:domain:") and "not a valid domain name" in p for p in found)


def test_domain_needs_acme_email() -> None:
    (msg,) = problems(domain="app.example.com")
    assert msg == "hardened-vps:acmeEmail: missing; required when domain is set (the ACME account contact)"


def test_dns_zone_defaults_and_must_contain_domain() -> None:
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com"))
    assert (spec.dns_zone, spec.dns_record_name) == ("example.com", "app")
    apex = parse_host_spec(raw_config(domain="example.com", acmeEmail="ops@example.com"))
    assert (apex.dns_zone, apex.dns_record_name) == ("example.com", "@")
    (msg,) = problems(domain="app.example.com", acmeEmail="ops@example.com", dnsZone="other.org")
    assert "hardened-vps:dnsZone: 'other.org' does not contain domain" in msg


def test_without_a_domain_the_certificate_and_zone_are_unset() -> None:
    spec = parse_host_spec(raw_config(dnsZone="example.com", acmeCaCertificate=PEM))
    assert (spec.domain, spec.dns_zone, spec.acme_ca_certificate) == (None, None, None)


@pytest.mark.parametrize("email", ["$(touch${IFS}/tmp/x)@example.com", "`id`@example.com", "a'b@example.com",
                                   "ops@localhost", ".ops@example.com", "o..ps@example.com", "ops@exa$mple.com",
                                   "ops@@example.com", "ops\n@example.com", "öps@example.com"])
def test_acme_email_is_a_strict_address(email: str) -> None:
    (msg,) = problems(domain="app.example.com", acmeEmail=email)
    assert msg.startswith("hardened-vps:acmeEmail:") and "allowed: name@example.com" in msg


def test_acme_email_accepts_ordinary_addresses() -> None:
    for email in ("ops+tls@example.com", "First.Last@Example.COM", "o_p-s%x@mail.example.co.uk"):
        assert parse_host_spec(raw_config(domain="app.example.com", acmeEmail=email)).acme_email == email


@pytest.mark.parametrize(("url", "why"), [
    ("http://acme.example.com/dir", "not an https"),
    ("https://user:pw@acme.example.com/dir", "user name or password"),
    ("https://acme.example.com/dir?x=1", "query or fragment"),
    ("https://acme.example.com/dir#x", "query or fragment"),
    ("https://acme.example.com/$(touch${IFS}x)", "path with characters"),
    ("https://acme.example.com/`id`", "path with characters"),
    ("https://acme.example.com/a b", "spaces, control"),
    ("https://acme.example.com/di\tr", "spaces, control"),
    ("https://localhost/dir", "no valid host"),
    ("https://[acme.example.com]/dir", "no valid host"),
    ("https://acme.example.com:0/dir", "invalid port"),
    ("https://acme.example.com:70000/dir", "invalid port"),
])
def test_acme_server_is_a_plain_https_url(url: str, why: str) -> None:
    (msg,) = problems(acmeServer=url)
    assert msg.startswith("hardened-vps:acmeServer:") and why in msg


def test_acme_server_accepts_public_and_private_directories() -> None:
    for url in ("https://acme-v02.api.letsencrypt.org/directory", "https://10.0.2.2:14000/dir",
                "https://[2001:db8::1]:9000/acme/acme/directory", "https://ca.example.com"):
        assert parse_host_spec(raw_config(acmeServer=url)).acme_server == url


PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"


def test_acme_ca_certificate_is_pem_blocks() -> None:
    spec = parse_host_spec(raw_config(domain="app.example.com", acmeEmail="ops@example.com",
                                      acmeCaCertificate=PEM + "\n\n"))
    assert spec.acme_ca_certificate == PEM + "\n"
    (msg,) = problems(domain="app.example.com", acmeEmail="ops@example.com",
                      acmeCaCertificate=PEM.replace("MIIB", "$(id)"))
    assert msg == "hardened-vps:acmeCaCertificate: not a PEM certificate; allowed: -----BEGIN CERTIFICATE----- " \
                  "... blocks"
