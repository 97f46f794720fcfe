"""The SSH host key: the one bundled file the config does not determine, held to the program's key shape."""

from __future__ import annotations

import base64
import binascii
import re

# --- the SSH host key: the one bundled file the config does not determine --------------------------------------
_KEY_BEGIN, _KEY_END = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
_KEY_BODY_LINE = re.compile(r"[A-Za-z0-9+/]{1,76}={0,2}")
_ED25519 = b"ssh-ed25519"


class _Wire:
    """Reads the big-endian uint32 and length-prefixed strings of the SSH wire format."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise ValueError("truncated")
        self.at += n
        return self.data[self.at - n:self.at]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    @property
    def rest(self) -> bytes:
        return self.data[self.at:]


def host_key_problem(text: str) -> str | None:
    """Why `text` is not exactly one unencrypted OpenSSH ed25519 private key without comment, as the program's
    tls.PrivateKey makes it (None when it is). Layout: OpenSSH PROTOCOL.key (openssh-key-v1: cipher and KDF
    "none", one key, then the private section: two check integers, key type, public key, 64-byte private key
    ending in the public key, comment, padding 1, 2, 3, ...). The check integers are not compared: they only
    detect a wrong passphrase, and a key whose integers differ is refused by provision.sh (as the size check's
    stand-in is). Messages describe, never quote: the content is a secret."""
    lines = text.split("\n")
    body = lines[1:-2]
    if len(lines) < 4 or lines[0] != _KEY_BEGIN or lines[-2:] != [_KEY_END, ""] or any("-" in x for x in body):
        return "is not one PEM block 'OPENSSH PRIVATE KEY' ending in a newline"
    if not all(_KEY_BODY_LINE.fullmatch(line) for line in body) or any(len(x) != len(body[0]) for x in body[:-1]):
        return "has a body that is not base64 wrapped at one width"
    try:
        blob = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return "has a body that is not base64"
    wire = _Wire(blob)
    try:
        if wire.take(15) != b"openssh-key-v1\0":
            return "is not an openssh-key-v1 key"
        cipher, kdf, kdf_options, count = wire.string(), wire.string(), wire.string(), wire.uint32()
        if cipher != b"none" or kdf != b"none" or kdf_options:
            return "is encrypted (its cipher is not none): provision.sh cannot install it unattended"
        if count != 1:
            return f"holds {count} keys, not one"
        public = _Wire(wire.string())
        if public.string() != _ED25519:
            return "is not an ed25519 key"
        point = public.string()
        private = _Wire(wire.string())
        if len(point) != 32 or public.rest or wire.rest:
            return "has a malformed public key or bytes after the key"
        if len(private.data) % 8:
            return "has a private section that is not padded to whole blocks"
        private.take(8)  # the two check integers
        if private.string() != _ED25519 or private.string() != point:
            return "has a private section that is not the ed25519 key its public half names"
        secret = private.string()
        if len(secret) != 64 or secret[32:] != point:
            return "has a private key that is not 64 bytes ending in its public key"
        if private.string():
            return "has a comment (the program's keys have none)"
        if len(private.rest) >= 8 or private.rest != bytes(range(1, len(private.rest) + 1)):
            return "has padding other than 1, 2, 3, ..."
    except ValueError:
        return "is truncated"
    return None
