"""The benchmark as the host receives it: the bash script (hvps-bench.sh) with the host-side Python laid out
inside it, and the argv naming this stack's plan, region, image and app. Pure: the same text for the Pulumi
command and for the VM proof, which runs it over its own SSH connection."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from components.config import HostSpec
from components.firstboot import AS_ROOT

HERE = Path(__file__).parent
#: The whole run is cut after this (the script's own steps take about 10 s each, 8 steps, plus apt); its clean-up
#: (the purge) then has CLEANUP_S before the run is killed.
TOTAL_TIMEOUT_S = 600
CLEANUP_S = 180
SECONDS_EACH = 10
CONCURRENCY = 16
DISK_MB = 256
_MODULES = ("parse.py", "collect.py")
_MARK = "__HVPS_BENCH_PYTHON__"


@dataclass(frozen=True)
class HostScript:
    """text: the script, sent on stdin. argv: its arguments. command: what runs it as the admin over SSH
    (stdin saved to a private temporary file, run as root (AS_ROOT) under the total timeout, the file removed)."""

    text: str
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        run = f'{AS_ROOT} timeout -k {CLEANUP_S} {TOTAL_TIMEOUT_S} bash "$f" {shlex.join(self.argv)}'
        return f'f=$(mktemp) && cat >"$f" && {run}; rc=$?; rm -f "$f"; exit $rc'


def script_text() -> str:
    """hvps-bench.sh with parse.py and collect.py written out by quoted here-documents (nothing expands)."""
    blocks = []
    for name in _MODULES:
        source = (HERE / name).read_text()
        end = f"HVPS_{name.upper().replace('.', '_')}"
        if f"\n{end}\n" in source:
            raise ValueError(f"{name} holds its own here-document end marker {end}")
        blocks.append(f"cat >\"$W/components/benchmark/{name}\" <<'{end}'\n{source}{end}")
    template = (HERE / "hvps-bench.sh").read_text()
    if template.count(_MARK) != 1:
        raise ValueError(f"hvps-bench.sh must hold {_MARK} once")
    return template.replace(_MARK, "\n".join(blocks))


def host_argv(spec: HostSpec, seconds: int = SECONDS_EACH, concurrency: int = CONCURRENCY,
              disk_mb: int = DISK_MB) -> tuple[str, ...]:
    """The script's arguments for this stack's host: through HTTPS with a domain (HTTP until its certificate)."""
    services = ",".join(["nginx", "ssh", "fail2ban", "unattended-upgrades", "auditd",
                         *(["postgresql@*"] if spec.database == "postgresql" else [])])
    return ("--vendor", spec.vendor, "--plan", spec.size.slug, "--region", spec.region, "--image", spec.image,
            "--app-name", spec.app_name, "--host-header", spec.domain or "localhost", "--path", spec.app_health_path,
            "--scheme", "https" if spec.domain else "http", "--services", services, "--seconds", str(seconds),
            "--concurrency", str(concurrency), "--disk-mb", str(disk_mb))


def host_script(spec: HostSpec, **kwargs: int) -> HostScript:
    """The benchmark for this stack's host: the text to send on stdin and the argv (see HostScript.command)."""
    return HostScript(script_text(), host_argv(spec, **kwargs))
