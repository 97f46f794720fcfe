"""`python -m tools.urns`: print a stack's URNs, check or refresh the pinned ones."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path

from components.config import stack_name_of
from tools.golden import add_golden_arguments
from tools.urns.goldens import GOLDEN_DIR, STACKS_DIR, check_golden, stack_files, update_golden
from tools.urns.registrations import stack_urns


def main(argv: Sequence[str] | None = None) -> int:
    from tools import urns  # the package's docstring is the command's help

    parser = argparse.ArgumentParser(
        prog="python -m tools.urns", description=urns.__doc__.split("\n\n")[0] if urns.__doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_golden_arguments(parser, STACKS_DIR, GOLDEN_DIR, "tests/golden/urns-*.txt")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the vendor SDKs are noisy on import

    if args.update_golden:
        changed = update_golden(args.stacks_dir, args.golden_dir)
        print("\n".join(f"updated {name}" for name in changed) or "pinned URNs are up to date")
        return 0
    if args.check_golden:
        problems = check_golden(args.stacks_dir, args.golden_dir)
        print("\n\n".join(problems) or "pinned URNs are up to date")
        return 1 if problems else 0
    if not args.stack:
        parser.error("give a STACK, --check-golden or --update-golden")
    path = Path(args.stack)
    if not path.exists():
        path = args.stacks_dir / f"Pulumi.{args.stack}.yaml"
    if not path.exists():
        parser.error(f"no stack file {path}; stacks: "
                     + ", ".join(stack_name_of(p) for p in stack_files(args.stacks_dir)))
    print("\n".join(stack_urns(path)))
    return 0
