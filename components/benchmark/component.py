"""HostBenchmark: the opt-in benchmark (`benchmark: true`), run once per server over SSH by pulumi-command.

A child of the host component like HostConfig: a remote.Command that connects as the admin (pinning the
server's host key) after the first-boot readiness wait and the converge, sends the benchmark script on stdin and
runs it with sudo under a total timeout. `triggers` holds the server's identity only, so it runs once per
server: a rebuilt server is benchmarked again, an unchanged one never (no `update`, no `delete`: removing it, or
turning the key off, runs nothing on the host). Its stdout, one JSON document, is the `result` output, with the
one figure the host cannot measure added: from the vendor's creation time of the server to its kernel start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components import ssh
from components.benchmark.parse import with_creation
from components.benchmark.script import CLEANUP_S, TOTAL_TIMEOUT_S, host_script
from components.config import HostSpec
from components.options import dependencies

#: The engine's limit for the run: the script's own total timeout and clean-up, plus the SSH dial and the upload.
RUN_TIMEOUT = f"{(TOTAL_TIMEOUT_S + CLEANUP_S) // 60 + 5}m"


def parse_result(stdout: str | None, created_at: str | None = None) -> Any:
    """The script's JSON document (None before it ran, as under a preview), with `kernel_after_create` from the
    server's creation time (parse.with_creation)."""
    return with_creation(json.loads(stdout), created_at) if stdout else None


@dataclass
class HostBenchmarkArgs:
    """spec: the validated host spec (plan, region, image, app name and path go to the script).
    host, host_key, server_identity, private_key: as for HostConfigArgs. created_at: the server's creation time as
    the vendor's API reports it (ISO 8601; None where the SDK has none). What must run first (the readiness wait,
    the converge, an app release) goes in `opts.depends_on`."""

    spec: HostSpec
    host: pulumi.Input[str]
    host_key: pulumi.Input[str]
    server_identity: pulumi.Input[str]
    private_key: pulumi.Input[str] | None = None
    created_at: pulumi.Input[str | None] = None


class HostBenchmark(pulumi.ComponentResource):
    """Child: `run` (remote.Command). Output `result`: the benchmark's JSON document, parsed."""

    result: pulumi.Output[Any]
    """The benchmark's JSON document (components/benchmark/parse.py), with the creation figure the program adds;
    None until the run has happened (a preview)."""

    type_token = "hardened-vps:index:HostBenchmark"

    def __init__(self, name: str, args: HostBenchmarkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.type_token, name, None, opts)
        script = host_script(args.spec)
        self.run = ssh.command(f"{name}-run", args.spec, args.host, args.host_key, args.private_key,
                               create=script.command, stdin=script.text, triggers=[args.server_identity],
                               parent=self, depends_on=dependencies(opts), timeout=RUN_TIMEOUT)
        self.result = pulumi.Output.all(self.run.stdout, args.created_at).apply(lambda got: parse_result(*got))
        self.register_outputs({"result": self.result})
