"""The tls section: the domain served over HTTPS, its ACME account and CA, and its DNS records at the vendor.

The shapes are strict on purpose: these values reach nginx, certbot and a shell on the host.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Any

from components.config.problems import Collector
from components.config.schema import KEYS_BY_NAME, default_of

_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9._%+-]{1,64}")
_ACME_PATH = re.compile(r"(/[A-Za-z0-9._~-]*)*")


def validate(c: Collector) -> dict[str, Any]:
    """HostSpec's domain, certificate and DNS fields (all unset without a domain)."""
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
    acme_server = c.text("acmeServer")
    server_problem = acme_directory_problem(acme_server)
    if server_problem:
        c.fail("acmeServer", f"{acme_server!r} {server_problem}; e.g. {default_of('acmeServer')}")
    acme_ca = c.string("acmeCaCertificate")
    if acme_ca is not None:
        acme_ca = acme_ca.strip() + "\n"
        if not KEYS_BY_NAME["acmeCaCertificate"].matches(acme_ca):
            c.fail("acmeCaCertificate", "not a PEM certificate; allowed: -----BEGIN CERTIFICATE----- ... blocks")
    return dict(domain=domain, acme_email=acme_email, acme_server=acme_server,
                acme_ca_certificate=acme_ca if domain else None, manage_dns=c.boolean("manageDns"),
                dns_zone=zone if domain else None)


def is_valid_domain(name: str) -> bool:
    """A DNS name of lowercase ASCII labels (at least two, the last not numeric)."""
    labels = name.split(".")
    return (len(name) <= 253 and len(labels) >= 2 and all(_DOMAIN_LABEL.match(lbl) for lbl in labels)
            and not labels[-1].isdigit())


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
