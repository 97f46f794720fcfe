"""The opt-in host benchmark (`benchmark: true`): what it measures and how it reaches the host.

`hvps-bench.sh` (the bash script run over SSH) with `collect.py` (the host-side Python it lays out: footprint,
load generator, report) and `parse.py` (pure parsers and the figures' names and units); `script` assembles them
with this stack's arguments (`host_script`, also what the VM proof runs); `component` is the Pulumi resource.
The report across runs and vendors is tools.bench.
"""

from components.benchmark.component import RUN_TIMEOUT, HostBenchmark, HostBenchmarkArgs, parse_result
from components.benchmark.script import TOTAL_TIMEOUT_S, HostScript, host_argv, host_script, script_text

__all__ = ["RUN_TIMEOUT", "TOTAL_TIMEOUT_S", "HostBenchmark", "HostBenchmarkArgs", "HostScript", "host_argv",
           "host_script", "parse_result", "script_text"]
