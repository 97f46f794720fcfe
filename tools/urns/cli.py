"""`python -m tools.urns`: print a stack's URNs, check or refresh the pinned ones."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path

from components.config import stack_name_of
from tools.urns.goldens import GOLDEN_DIR, STACKS_DIR, check_golden, stack_files, update_golden
from tools.urns.registrations import stack_urns


def main(argv: Sequence[str] | None = None) -> int:
    from tools import urns  # the package's docstring is the command's help

    parser = argparse.ArgumentParser(
        prog="python -m tools.urns", description=urns.__doc__.split("\n\n")[0] if urns.__doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<STACK>.yaml) or stack file path")
    parser.add_argument("--check-golden", action="store_true", help="compare with tests/golden/; exit 1 on a diff")
    parser.add_argument("--update-golden", action="store_true", help="rewrite tests/golden/urns-*.txt")
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--golden-dir", type=Path, default=GOLDEN_DIR, help=argparse.SUPPRESS)
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
