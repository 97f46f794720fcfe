"""What the policy pack says about the stack, as `pulumi preview --policy-pack policy` would report it."""

from __future__ import annotations

from collections.abc import Sequence

from policy import hardening_policies as hp
from policy import offline
from tools.plan.document import Block, Bullets, Para


def violation_count(n: int, level: str) -> str:
    return f"{n} {level} policy violation{'s' if n != 1 else ''}"


def policy_blocks(violations: Sequence[offline.Violation], policies: int = len(hp.POLICIES)) -> list[Block]:
    """What `pulumi preview --policy-pack policy` would report: each violation, or that every policy passes."""
    if not violations:
        return [Para(f"All {policies} policies pass (the policy pack in policy/, as `pulumi preview --policy-pack "
                     "policy` runs it).")]
    failing = len({v.policy for v in violations})
    mandatory = sum(v.mandatory for v in violations)
    advisory = len(violations) - mandatory
    counts = ", ".join(violation_count(n, level)
                       for n, level in ((mandatory, "mandatory"), (advisory, "advisory")) if n)
    blocks: list[Block] = [
        Para(f"{policies - failing} of {policies} policies pass; {counts} (the policy pack in policy/, as "
             "`pulumi preview --policy-pack policy` runs it):"),
        Bullets([f"[{v.level}] {v.policy} on {v.resource}: {v.message}" for v in violations]),
    ]
    if mandatory:
        blocks.append(Para("Refused: `pulumi preview --policy-pack policy` would fail on this stack, and `pulumi up "
                           "--policy-pack policy` would refuse the violating resources. Fix every mandatory "
                           "violation before deploying."))
    else:
        blocks.append(Para("Advisory violations are warnings: the preview and the update go ahead."))
    return blocks
