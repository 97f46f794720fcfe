"""Shared fixtures: a real ed25519 key, raw config builders and the stack files."""

from __future__ import annotations

import base64
import json
import random
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))


def ssh_blob(*fields: bytes) -> str:
    return base64.b64encode(b"".join(struct.pack(">I", len(f)) + f for f in fields)).decode()


#: Syntactically real keys built from their wire format (no private half exists anywhere).
ED25519_KEY = "ssh-ed25519 " + ssh_blob(b"ssh-ed25519", bytes(range(32))) + " test@example"
RSA_2048_KEY = "ssh-rsa " + ssh_blob(b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xc3" * 256) + " old@example"
RSA_4096_KEY = "ssh-rsa " + ssh_blob(b"ssh-rsa", b"\x01\x00\x01", b"\x00" + b"\xc3" * 512) + " new@example"


def random_rsa_key(seed: int) -> str:
    """A well-formed 4096-bit RSA public key that does not compress (to exceed the size limit)."""
    modulus = bytes([0]) + random.Random(seed).randbytes(512)
    return "ssh-rsa " + ssh_blob(b"ssh-rsa", bytes([1, 0, 1]), modulus) + f" k{seed}"


def raw_config(**overrides: object) -> dict[str, str]:
    """Minimal valid raw config (strings, as Pulumi hands them), with overrides; None removes a key."""
    values: dict[str, object] = {"vendor": "digitalocean", "sshPublicKeys": [ED25519_KEY]}
    values.update(overrides)
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def full_config(**overrides: object) -> dict[str, str]:
    """raw_config with the project namespace, ready for pulumi.runtime.set_all_config."""
    return {f"hardened-vps:{k}": v for k, v in raw_config(**overrides).items()}


@pytest.fixture(params=STACK_FILES, ids=lambda p: p.name)
def stack_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path
