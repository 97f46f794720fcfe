"""The command line of `python -m tools.plan` (its usage is the package's docstring)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from components import catalog
from components.config import ConfigError, load_stack_file, stack_name_of
from components.firstboot import FirstBootTooLarge
from policy import offline
from tools.bench.results import ResultError, load_results
from tools.golden import add_golden_arguments
from tools.plan.compare import DEFAULT_NEAR, build_compare
from tools.plan.document import render
from tools.plan.goldens import GOLDEN_DIR, REFRESH_COMMAND, check_golden, update_golden
from tools.plan.policy_checks import violation_count
from tools.plan.stack_plan import plan_and_violations
from tools.plan.stacks import STACKS_DIR, find_stack


def main(argv: Sequence[str] | None = None) -> int:
    import tools.plan  # the package's docstring is the command's usage

    usage = tools.plan.__doc__
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=usage.split("\n\n")[0] if usage else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_golden_arguments(parser, STACKS_DIR, GOLDEN_DIR, "tests/golden/")
    parser.add_argument("--format", choices=("text", "markdown"), default="text", help="output format")
    parser.add_argument("--compare", action="store_true", help="the same host at the same tier on every vendor")
    parser.add_argument("--tier", choices=catalog.TIERS, help="tier to compare (default: the stack's, or small)")
    parser.add_argument("--near", metavar="REGION",
                        help=f"region slug or city to rank regions by (default: the stack's, or {DEFAULT_NEAR})")
    parser.add_argument("--results", nargs="+", type=Path, metavar="FILE",
                        help="benchmark result files: measured rows beside the list prices (with --compare)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the vendor SDKs are noisy on import

    if args.check_golden or args.update_golden:
        if args.update_golden:
            changed = update_golden(args.stacks_dir, args.golden_dir)
            print("\n".join(f"updated {name}" for name in changed) or "golden files are up to date")
            return 0
        problems = check_golden(args.stacks_dir, args.golden_dir)
        if problems:
            print("\n".join(problems))
            print(f"\nThe plan changed. Review the diff above; if it is intended, run: {REFRESH_COMMAND}",
                  file=sys.stderr)
            return 1
        print("golden files are up to date")
        return 0
    if (args.tier or args.near or args.results) and not args.compare:
        parser.error("--tier, --near and --results go with --compare")
    if not args.stack and not args.compare:
        parser.error("give a STACK, or --compare")
    violations: list[offline.Violation] = []  # --compare does not run the policy pack
    try:
        path = find_stack(args.stack, args.stacks_dir) if args.stack else None
        if args.compare:
            spec = load_stack_file(path) if path else None
            results = load_results(args.results) if args.results else []
            doc = build_compare(args.tier, args.near, spec, stack_name_of(path) if path else None, results)
        else:
            assert path is not None
            doc, violations = plan_and_violations(path)
    except ResultError as err:
        print(f"compare: {err}", file=sys.stderr)
        return 2
    except (ConfigError, FirstBootTooLarge, ValueError) as err:
        print(f"plan: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(render(doc, args.format))
    refused = sum(v.mandatory for v in violations)
    if refused:
        print(f"plan: {violation_count(refused, 'mandatory')}: `pulumi preview --policy-pack policy` would refuse this "
              "stack (see Policy checks)", file=sys.stderr)
        return 1
    return 0
