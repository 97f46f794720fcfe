"""OpenSSH public keys: parsed and checked the way sshd on the host will read them, so a key that would lock the
admin out (a short RSA key, a pasted line break) is refused before anything is created."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

SSH_KEY_TYPES = ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-rsa", "ecdsa-sha2-nistp256",
                 "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com")
MIN_RSA_BITS = 3072  # sshd's RequiredRSASize in our drop-in (ssh-audit guide): smaller keys would lock you out


@dataclass(frozen=True)
class SshKey:
    """A parsed OpenSSH public key."""

    type: str
    blob: str
    comment: str = ""

    @property
    def line(self) -> str:
        return " ".join(p for p in (self.type, self.blob, self.comment) if p)


def parse_ssh_key(text: str) -> SshKey:
    """Parse one OpenSSH public key line; ValueError says what is wrong with it."""
    text = text.strip()
    if not text.isprintable():
        # a newline would start a second authorized_keys line that nothing here checked (options, short keys)
        raise ValueError("contains a control character (newline, tab, ...); give one key per list entry")
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise ValueError("expected '<type> <base64> [comment]'")
    key_type, blob = parts[0], parts[1]
    if key_type not in SSH_KEY_TYPES:
        raise ValueError(f"key type {key_type!r} is not accepted; allowed: {', '.join(SSH_KEY_TYPES)}")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key body is not valid base64") from None
    fields = _ssh_fields(raw)
    if not fields or fields[0] != key_type.encode():
        raise ValueError("the key body does not match its type (truncated or pasted wrong?)")
    if key_type == "ssh-rsa":
        modulus = fields[2] if len(fields) > 2 else b""
        bits = int.from_bytes(modulus, "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise ValueError(f"RSA key has {bits} bits; at least {MIN_RSA_BITS} are required (or use ed25519)")
    return SshKey(key_type, blob, parts[2].strip() if len(parts) > 2 else "")


def _ssh_fields(raw: bytes) -> list[bytes]:
    """Split an SSH wire-format blob into its length-prefixed fields (empty list when malformed)."""
    out: list[bytes] = []
    pos = 0
    while pos < len(raw):
        if pos + 4 > len(raw):
            return []
        (n,) = struct.unpack(">I", raw[pos:pos + 4])
        pos += 4
        if pos + n > len(raw):
            return []
        out.append(raw[pos:pos + n])
        pos += n
    return out
