"""Offline plan and vendor comparison: what a stack creates and costs, with no Pulumi CLI, plugin or credential.

    python -m tools.plan STACK [--format text|markdown]
    python -m tools.plan [STACK] --compare [--tier TIER] [--near REGION] [--format text|markdown]
    python -m tools.plan --check-golden        # exit 1 and print a diff when a golden file is out of date
    python -m tools.plan --update-golden       # rewrite tests/golden/ after reviewing the change

STACK is a stack name (stacks/Pulumi.<STACK>.yaml) or the path of a stack file. The plan runs `__main__.py`
under Pulumi mocks (components.testing.mockrun) and prints the resource tree with every input, the outputs, a summary
of the first-boot data and the monthly cost. Values the vendor assigns at deploy time are shown as
<resource.attribute>, never as the mocks' stand-ins; secret values are masked. The same run goes through the
policy pack (policy/, via policy.offline): the plan lists its violations and exits 1 on a mandatory one, as
`pulumi preview --policy-pack policy` would refuse the stack.

One idea per module: `document` (the model and its text/Markdown rendering), `values` (masking and naming
recorded values), `stacks` (stack files and their config), `resources` (the resource tree and outputs),
`firstboot` (first boot and the converge), `policy_checks`, `config_changes`, `cost`, `stack_plan` (a stack's
plan, section by section), `compare` (the vendors side by side), `goldens` (tests/golden/) and `cli`.
"""

from tools.plan.cli import main
from tools.plan.compare import DEFAULT_NEAR, build_compare, tier_of
from tools.plan.cost import usd
from tools.plan.document import Document, render, render_markdown, render_text, section_text_lines
from tools.plan.firstboot import bundled_files, phase_steps
from tools.plan.goldens import GOLDEN_DIR, REFRESH_COMMAND, check_golden, golden_documents, update_golden
from tools.plan.stack_plan import build_plan, plan_and_violations, plan_document
from tools.plan.stacks import STACKS_DIR, config_rows, find_stack, stack_files

__all__ = [
    "DEFAULT_NEAR", "GOLDEN_DIR", "REFRESH_COMMAND", "STACKS_DIR", "Document", "build_compare", "build_plan",
    "bundled_files", "check_golden", "config_rows", "find_stack", "golden_documents", "main", "phase_steps",
    "plan_and_violations", "plan_document", "render", "render_markdown", "render_text", "section_text_lines",
    "stack_files", "tier_of", "update_golden", "usd",
]
