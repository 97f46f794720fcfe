"""What the Pulumi CLI runs for `pulumi preview --policy-pack policy`: serve the hardened-vps policies.

Constructing `PolicyPack` starts the analyzer's gRPC server and blocks, so nothing else lives here; the policies
are in the package `policy/hardening_policies/` (one module per idea), importable (and tested) without a server.
"""

import sys
from pathlib import Path

# The CLI runs this file with the pack directory on sys.path; the policies also read the project's catalog
# and first-boot format (`components`), so put the project root first.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.hardening_policies import PACK_DESCRIPTION, PACK_NAME, POLICIES  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,  # each policy sets its own level; this is the fallback
)
