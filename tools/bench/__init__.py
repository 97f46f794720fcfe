"""Benchmark results side by side: `python -m tools.bench report FILE... [--markdown] [--chart out.png]`.

Each FILE is one run's JSON document (the `benchmark` stack output of a stack with `benchmark: true`, saved
with `pulumi stack output benchmark --json > run.json`). The report puts each vendor, plan and region in a
column with the list price, every figure and price-performance; `--chart` also writes a PNG of the
price-performance. A malformed file stops it with the file and field named (exit 2).

`host_script(spec)` is the benchmark as the host receives it (the script text and its argv): the VM proof
runs exactly it over its own SSH connection.
"""

from components.benchmark import HostScript, host_script

__all__ = ["HostScript", "host_script"]
