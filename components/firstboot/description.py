"""The vendor-neutral first boot: the files every applying concern writes, in order, and their bundle.

`describe_first_boot(spec)` renders each concern's files (its templates, or the stack's own data) and the manifest
the provisioner reads; `bundle` packs them in the wire format (wire.py) that both delivery forms carry.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from components.config import HostSpec
from components.firstboot import wire
from components.firstboot.concerns import (
    ACME_CA_PATH,
    ADMIN_KEYS_PATH,
    CERTBOT_CA_DROPIN,
    DO_AGENT_DROPIN,
    HOST_KEY_PATH,
    MANIFEST_PATH,
    Concern,
    concerns_for,
)
from components.firstboot.templating import TemplateError, render_host_file
from components.firstboot.values import concern_functions, template_values


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _placeholder_host_key() -> str:
    """A stand-in with the exact layout, size and randomness of an OpenSSH ed25519 private key without comment.

    The size check runs before any cloud call, when the real key (made by the engine) is not known yet: this
    stand-in is an unencrypted openssh-key-v1 blob like the real one (234 bytes: same byte count, same shape
    for the policy pack's host-key check) with random key bytes, so the check measures what will be sent. Its
    two check integers differ, which OpenSSH reads as a wrong passphrase: it is not a usable key (provision.sh
    refuses it), so it can never end up as a server's identity.
    """
    stream = b"".join(hashlib.sha256(b"hardened-vps placeholder host key %d" % i).digest() for i in range(4))
    seed, public, check = stream[:32], stream[32:64], stream[64:68]
    key_type = _ssh_string(b"ssh-ed25519")
    private = (check + bytes([check[0] ^ 0xFF]) + check[1:] + key_type + _ssh_string(public)
               + _ssh_string(seed + public) + _ssh_string(b""))
    private += bytes(range(1, 1 + (-len(private) % 8)))  # padding 1, 2, 3, ... to the cipher block size (8)
    blob = (b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
            + (1).to_bytes(4, "big") + _ssh_string(key_type + _ssh_string(public)) + _ssh_string(private))
    body = base64.b64encode(blob).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----\n"


PLACEHOLDER_HOST_KEY = _placeholder_host_key()


@dataclass(frozen=True)
class HostFile:
    """A file first boot writes on the host."""

    path: str
    content: str
    mode: str = "0644"


@dataclass(frozen=True)
class FirstBoot:
    """The vendor-neutral first boot: files to write, then the provisioning script to run."""

    files: tuple[HostFile, ...]
    admin_user: str

    @property
    def digest(self) -> str:
        """Stable fingerprint of what first boot does: any template or setting change alters it.

        The host key's content is left out: the digest is a plain output, and the key is a secret.
        """
        h = hashlib.sha256(self.admin_user.encode())
        for f in self.files:
            content = "" if f.path == HOST_KEY_PATH else f.content
            h.update(f"{f.path}\0{f.mode}\0{content}\0".encode())
        return h.hexdigest()



def concern_digest(concern: Concern, values: Mapping[str, object]) -> str:
    """Fingerprint of what activating the concern runs: convergence re-activates a concern when it changed."""
    return hashlib.sha256(concern_functions(concern, values).encode()).hexdigest()[:12]


def concern_paths(concern: Concern, spec: HostSpec) -> tuple[str, ...]:
    """The host paths of the concern's files for this stack."""
    return tuple(f.host_path(spec) for f in concern.files if f.applies(spec))


def manifest(spec: HostSpec, values: Mapping[str, object], converge: bool = False) -> str:
    """The concern list as the provisioner reads it: `name phases digest path...`, one concern a line, in order."""
    return "".join(f"{c.name} {','.join(c.phases)} {concern_digest(c, values)} {' '.join(concern_paths(c, spec))}\n"
                   for c in concerns_for(spec, converge))


def _stack_file(path: str, spec: HostSpec) -> str:
    """Content of the files that come from the stack itself rather than from a template."""
    if path == ADMIN_KEYS_PATH:
        return "".join(k.line + "\n" for k in spec.ssh_keys)
    if path == ACME_CA_PATH:
        return spec.acme_ca_certificate or ""
    if path == CERTBOT_CA_DROPIN:
        # renewals run from Debian's certbot.timer/certbot.service: they must trust the private ACME server too
        return f"[Service]\nEnvironment=REQUESTS_CA_BUNDLE={ACME_CA_PATH}\n"
    if path == DO_AGENT_DROPIN:
        # do-agent reads the metadata service, which nftables.conf keeps from everyone but root and this group.
        return ("# Managed by hardened-vps. DigitalOcean's monitoring agent may reach the metadata service.\n"
                "[Service]\nGroup=hvps-metadata\n")
    raise TemplateError(f"no content for {path}")


def concern_files(concern: Concern, spec: HostSpec, values: Mapping[str, object],
                  host_key: str = PLACEHOLDER_HOST_KEY, converge: bool = False) -> tuple[HostFile, ...]:
    """The files one concern writes for this stack, rendered on their own (its templates, or the stack's data)."""
    rendered = []
    for f in concern.files:
        if not f.applies(spec):
            continue
        path = f.host_path(spec)
        if path == MANIFEST_PATH:
            content = manifest(spec, values, converge)
        elif f.template:
            content = render_host_file(f.path.lstrip("/"), values)
        else:
            content = _stack_file(path, spec)
        rendered.append(HostFile(path, content, f.mode))
    if concern.name == "admin-and-ssh":
        rendered.append(HostFile(HOST_KEY_PATH, host_key, "0600"))
    return tuple(rendered)


def describe_first_boot(spec: HostSpec, host_key: str = PLACEHOLDER_HOST_KEY, converge: bool = False) -> FirstBoot:
    """The files first boot writes: every applying concern's files, rendered from their templates, in order.

    host_key: the OpenSSH private ed25519 host key the deploy connections pin (its stand-in for sizing).
    converge: with the concerns only the converge delivers (the data volume's), as the converge writes them.
    """
    values = template_values(spec, converge)
    files = tuple(f for concern in concerns_for(spec, converge)
                  for f in concern_files(concern, spec, values, host_key, converge))
    return FirstBoot(files, spec.admin_user)


def bundle(first_boot: FirstBoot) -> bytes:
    """The files in the wire format (see wire.py), compressed: same input, same bytes."""
    return wire.compress(wire.pack(wire.Entry(f.path, int(f.mode, 8), f.content.encode()) for f in first_boot.files))
