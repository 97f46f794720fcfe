"""The policy pack's contract: the policies `policy/__main__.py` serves, by name, kind and enforcement level.

Stacks, CI and `--policy-pack-config` name these policies; a rename or a changed level is a breaking change and
must show here, not slip through a refactoring of the modules behind the pack. Its files and pins resolve, and
every example stack passes every mandatory policy (each server and firewall checked).
"""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy.hardening_policies import PACK_NAME, POLICIES
from policy.hardening_policies.resources import FIREWALL_TYPES, SERVER_VENDORS
from policy.offline import StackCase
from tests.conftest import ROOT
from tests.policy_support import (
    DEV_STACKS,
    FIREWALL_OF,
    PROD,
    SERVER_OF,
    VULTR_FIREWALL,
    VULTR_RULE,
    all_messages,
    names_resource_and_fix,
    ssh_rules_of,
)

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
#: (name, kind, level) of every policy, in the order the pack serves them.
PACK = [
    ("server-firewall-attached", StackValidationPolicy, MANDATORY),
    ("resource-types-allowed", StackValidationPolicy, MANDATORY),
    ("ssh-open-to-internet-across-rules", StackValidationPolicy, ADVISORY),
    ("production-ssh-restricted-across-rules", StackValidationPolicy, MANDATORY),
    ("firewall-inbound-ports", ResourceValidationPolicy, MANDATORY),
    ("ssh-open-to-internet", ResourceValidationPolicy, ADVISORY),
    ("production-ssh-restricted", ResourceValidationPolicy, MANDATORY),
    ("server-first-boot-data", ResourceValidationPolicy, MANDATORY),
    ("first-boot-no-secrets", ResourceValidationPolicy, MANDATORY),
    ("remote-commands-are-the-products", ResourceValidationPolicy, MANDATORY),
    ("production-backups-and-protection", ResourceValidationPolicy, MANDATORY),
    ("server-size-in-catalog", ResourceValidationPolicy, MANDATORY),
]


def test_the_pack_serves_the_same_policies_with_the_same_names_and_levels() -> None:
    assert PACK_NAME == "hardened-vps-guardrails"
    assert [(p.name, type(p), p.enforcement_level) for p in POLICIES] == PACK


def test_the_entry_point_serves_the_packages_policies() -> None:
    """policy/__main__.py builds its PolicyPack from policy.hardening_policies' POLICIES and nothing else."""
    tree = ast.parse((ROOT / "policy" / "__main__.py").read_text())
    imported = {(node.module, a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for a in node.names}
    assert ("policy.hardening_policies", "POLICIES") in imported
    (pack,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    policies = next(k.value for k in pack.keywords if k.arg == "policies")
    assert ast.unparse(policies) == "list(POLICIES)"


# --- the pack itself ---------------------------------------------------------------------------------------------
def test_pack_files_and_policy_set() -> None:
    pack = (ROOT / "policy" / "PulumiPolicy.yaml").read_text()
    assert re.search(r"^runtime:\n  name: python$", pack, re.MULTILINE)
    assert [p.name for p in POLICIES] == [
        "server-firewall-attached", "resource-types-allowed", "ssh-open-to-internet-across-rules",
        "production-ssh-restricted-across-rules", "firewall-inbound-ports", "ssh-open-to-internet",
        "production-ssh-restricted",
        "server-first-boot-data", "first-boot-no-secrets", "remote-commands-are-the-products",
        "production-backups-and-protection", "server-size-in-catalog"]
    levels = {p.name: p.enforcement_level.value for p in POLICIES if p.enforcement_level}
    assert levels.pop("ssh-open-to-internet") == levels.pop("ssh-open-to-internet-across-rules") == "advisory"
    assert set(levels.values()) == {"mandatory"}
    main = (ROOT / "policy" / "__main__.py").read_text()
    assert "PolicyPack(" in main and "def " not in main  # thin: policies live in the importable module


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def test_pack_pins_resolve_with_pulumi_policy_and_the_project() -> None:
    pack = _pins(ROOT / "policy" / "requirements.txt")
    # The pack's pins are written once, there; the checks' environment includes them (tests/test_requirements.py).
    assert "-r policy/requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    for name in ("pulumi-policy", "grpcio", "protobuf"):
        assert metadata.version(name) == pack[name], f"{name} installed differs from the pin"
    pins = {**_pins(ROOT / "requirements.txt"), **pack}
    for dist in ("pulumi-policy", "pulumi"):
        for text in metadata.requires(dist) or []:
            req = Requirement(text)
            if req.name.lower() in pins and (req.marker is None or req.marker.evaluate()):
                assert req.specifier.contains(pins[req.name.lower()]), f"{dist} needs {req}, pinned {pins[req.name]}"


# --- every stack passes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
def test_every_stack_passes_every_mandatory_policy(stacks: dict[str, StackCase], stack: str) -> None:
    case = stacks[stack]
    found = all_messages(case)
    advisory = found.pop("ssh-open-to-internet")
    assert {k: v for k, v in found.items() if v} == {}
    if stack == PROD:
        assert advisory == []  # SSH only from the office and VPN ranges
    else:
        # Dev stacks keep the default sshAllowedCidrs (anywhere): a warning, never a failure.
        # Dev stacks keep the default sshAllowedCidrs (anywhere): a warning, never a failure; where each rule is
        # a resource of its own, one per rule (IPv4 and IPv6).
        message = advisory[0]
        assert len(advisory) == (2 if FIREWALL_OF[stack] == VULTR_FIREWALL else 1)
        assert names_resource_and_fix(message, ssh_rules_of(case))
        assert "sshAllowedCidrs" in message


def test_every_server_is_checked(stacks: dict[str, StackCase]) -> None:
    """The stacks really exercise each policy: one server and one firewall per stack, of the known types."""
    for name, case in stacks.items():
        assert [r.type for r in case.resources if r.type in SERVER_VENDORS] == [SERVER_OF[name]]
        rules = {VULTR_RULE} if FIREWALL_OF[name] == VULTR_FIREWALL else set()
        assert {r.type for r in case.resources if r.type in FIREWALL_TYPES} == {FIREWALL_OF[name], *rules}
        assert len([r for r in case.resources if r.type == FIREWALL_OF[name]]) == 1
