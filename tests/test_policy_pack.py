"""The policy pack's contract: the policies `policy/__main__.py` serves, by name, kind and enforcement level.

Stacks, CI and `--policy-pack-config` name these policies; a rename or a changed level is a breaking change and
must show here, not slip through a refactoring of the modules behind the pack.
"""

from __future__ import annotations

import ast

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy.hardening_policies import PACK_NAME, POLICIES
from tests.conftest import ROOT

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
#: (name, kind, level) of every policy, in the order the pack serves them.
PACK = [
    ("server-firewall-attached", StackValidationPolicy, MANDATORY),
    ("resource-types-allowed", StackValidationPolicy, MANDATORY),
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
