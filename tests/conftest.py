"""Shared fixtures: a real ed25519 key, raw config builders, the stack files and their policy cases.

Stack files come in two sets. STACK_FILES are the examples this repository ships, named here: tests that know a
stack by name, and the golden plans, use only these. ALL_STACK_FILES is whatever stacks/ holds at test time,
the examples and any stack a user added (README, "Add a stack"); the `stack_file` fixture runs the generic
checks over every one of them, so a user's own stack is tested and never breaks the suite by being there.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import random
import shutil
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STACKS_DIR = ROOT / "stacks"
EXAMPLE_STACKS = ("do-dev", "hetzner-dev", "lightsail-dev", "linode-dev", "prod", "vultr-dev")
STACK_FILES = [STACKS_DIR / f"Pulumi.{name}.yaml" for name in EXAMPLE_STACKS]


def all_stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    """Every stack file in the directory, examples first, then the others by name."""
    found = sorted(stacks_dir.glob("Pulumi.*.yaml"))
    examples = [stacks_dir / p.name for p in STACK_FILES]
    return [p for p in examples if p in found] + [p for p in found if p not in examples]


ALL_STACK_FILES = all_stack_files()


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


def config_problems(**overrides: object) -> list[str]:
    """The problems parse_host_spec reports for raw_config with these overrides (it must refuse them)."""
    from components.config import ConfigError, parse_host_spec

    with pytest.raises(ConfigError) as err:
        parse_host_spec(raw_config(**overrides))
    return err.value.problems


def full_config(**overrides: object) -> dict[str, str]:
    """raw_config with the project namespace, ready for pulumi.runtime.set_all_config."""
    return {f"hardened-vps:{k}": v for k, v in raw_config(**overrides).items()}


def pytest_configure(config: pytest.Config) -> None:
    """The fast suite runs the program, which writes app archives to the user's cache: give it a cache of its
    own so a test run leaves nothing in ~/.cache. The VM tests (`-m vm`) keep the real cache: it holds the
    built image and the package cache."""
    if "not vm" in (config.getoption("markexpr") or "not vm"):
        cache = tempfile.mkdtemp(prefix="hvps-test-cache-")
        os.environ["XDG_CACHE_HOME"] = cache
        atexit.register(shutil.rmtree, cache, True)


@pytest.fixture(params=ALL_STACK_FILES, ids=lambda p: p.name)
def stack_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture(scope="session")
def plans() -> dict[Path, tuple[Any, Any]]:
    """Each stack's offline plan (tools.plan), built once for every plan test, with a run of its own to compare
    against: {stack file: (plan.Document, mockrun.StackRun)}."""
    from components.testing import mockrun
    from tools import plan

    return {path: (plan.build_plan(path), mockrun.run_stack_file(path)) for path in ALL_STACK_FILES}


@pytest.fixture(scope="session")
def stacks() -> dict[str, Any]:
    """Each example stack run once for every policy test (tests/test_policy_*.py), as the engine would hand it to
    a policy pack (policy/offline.py): {stack: StackCase}, each registration with its URN, options and property
    dependencies. Tests derive changed copies (dataclasses.replace) and never edit these."""
    from policy.offline import run_stack_file_case
    from tests.policy_support import DEV_STACKS, PROD

    cases = {}
    for path in STACK_FILES:
        _, case = run_stack_file_case(path)
        assert len({r.urn for r in case.resources}) == len(case.resources), "duplicate URNs"
        cases[case.stack] = case
    assert set(cases) == {*DEV_STACKS, PROD}
    return cases
