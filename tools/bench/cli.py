"""The command line of `python -m tools.bench` (its usage is the package's docstring)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.bench.chart import draw_chart
from tools.bench.report import build_report, columns
from tools.bench.results import ResultError, load_results
from tools.plan.document import render


def main(argv: Sequence[str] | None = None) -> int:
    import tools.bench  # the package's docstring is the command's usage

    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=(tools.bench.__doc__ or "").split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="the runs side by side, with price-performance")
    report.add_argument("files", nargs="+", type=Path, metavar="FILE", help="result JSON files")
    report.add_argument("--markdown", action="store_true", help="Markdown instead of aligned text")
    report.add_argument("--chart", type=Path, metavar="OUT.png", help="also write the price-performance chart")
    args = parser.parse_args(argv)
    try:
        results = load_results(args.files)
    except ResultError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(render(build_report(results), "markdown" if args.markdown else "text"))
    if args.chart:
        try:
            args.chart.write_bytes(draw_chart(columns(results)))
        except OSError as err:
            print(f"bench: cannot write {args.chart}: {err.strerror}", file=sys.stderr)
            return 2
    return 0
