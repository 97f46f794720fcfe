"""Pure parsers of what the benchmark's tools print, and the result document's figures (name, unit, meaning).

Shipped to the host inside the benchmark script (standard library only, Python 3.11) and imported here by
tools.bench, so the host and the report agree on every figure's name and unit.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Sequence
from typing import Any

SCHEMA = "hvps-bench/1"

#: figure -> (unit, what it is). Every result holds each one, as {"value": number or null, "unit": unit}.
FIGURES: dict[str, tuple[str, str]] = {
    "cpu_single": ("events/s", "sysbench cpu, 1 thread"),
    "cpu_all": ("events/s", "sysbench cpu, one thread per vCPU"),
    "memory_bandwidth": ("MiB/s", "sysbench memory, 1 thread, 1 MiB blocks, write"),
    "disk_rand_read": ("IOPS", "fio 4k random read, direct I/O"),
    "disk_rand_write": ("IOPS", "fio 4k random write, direct I/O"),
    "disk_seq_read": ("MB/s", "fio 1M sequential read, direct I/O"),
    "disk_seq_write": ("MB/s", "fio 1M sequential write, direct I/O"),
    "web_rps": ("req/s", "successful requests per second through nginx to the app, on the host"),
    "web_p50": ("ms", "median latency of the successful requests"),
    "web_p99": ("ms", "99th percentile latency of the successful requests"),
    "web_failed": ("requests", "requests without a 2xx answer (nginx's per-address limit answers 503)"),
    "kernel_after_create": ("s", "the vendor's creation time of the server (its API's created-at) to kernel start; "
                                 "added by the program, null where the vendor's SDK gives none"),
    "boot_kernel": ("s", "kernel start to userspace (systemd-analyze)"),
    "boot_userspace": ("s", "userspace start to the default target (systemd-analyze)"),
    "cloud_init_done": ("s", "kernel start to cloud-init finished (status.json), first boot only"),
    "first_boot_done": ("s", "kernel start to first boot complete (the provisioner's state file), first boot only"),
    "ssh_ready": ("s", "kernel start to ssh.service active, this boot"),
    "app_ready": ("s", "kernel start to the app's service active, this boot"),
    "rss_stack": ("MiB", "sum of the resident memory of the stack's services at idle"),
    "memory_used": ("MiB", "MemTotal - MemAvailable at idle"),
    "memory_available": ("MiB", "MemAvailable at idle"),
}


def figure(name: str, value: float | int | None) -> dict[str, Any]:
    """One figure as the document holds it (rounded to 3 significant decimals; NaN becomes null)."""
    if value is not None and (isinstance(value, float) and not math.isfinite(value)):
        value = None
    return {"value": None if value is None else round(float(value), 3), "unit": FIGURES[name][0]}


def with_creation(document: Any, created_at: str | None) -> Any:
    """The host's document with `kernel_after_create`: its kernel start (environment.kernel_start, epoch seconds)
    less the server's creation time as the vendor's API reports it (ISO 8601). The host cannot know the latter, so
    the program adds it. None stays None (a preview), and so does the figure where either time is missing or the
    two clocks disagree (kernel start before creation)."""
    if not isinstance(document, dict) or not isinstance(document.get("figures"), dict):
        return document
    kernel_start = (document.get("environment") or {}).get("kernel_start")
    seconds = None
    if created_at and isinstance(kernel_start, (int, float)):
        try:
            created = datetime.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        except ValueError:
            created = None
        if created is not None and created.tzinfo is not None and kernel_start >= created.timestamp():
            seconds = kernel_start - created.timestamp()
    return {**document, "figures": {**document["figures"], "kernel_after_create": figure("kernel_after_create",
                                                                                           seconds)}}


def _number_after(label: str, text: str) -> float:
    found = re.search(re.escape(label) + r"\s*([0-9]+(?:\.[0-9]+)?)", text)
    if found is None:
        raise ValueError(f"no {label!r} in the output")
    return float(found.group(1))


def sysbench_cpu(text: str) -> float:
    """events/s of a `sysbench cpu run`."""
    return _number_after("events per second:", text)


def sysbench_memory(text: str) -> float:
    """MiB/s of a `sysbench memory run` (its "(N MiB/sec)")."""
    found = re.search(r"MiB transferred \(([0-9]+(?:\.[0-9]+)?) MiB/sec\)", text)
    if found is None:
        raise ValueError("no 'MiB transferred (... MiB/sec)' in the output")
    return float(found.group(1))


def fio_job(text: str) -> dict[str, float]:
    """IOPS and MB/s (10^6 bytes) of a one-job `fio --output-format=json` run: read and write added up."""
    job = json.loads(text)["jobs"][0]
    if job.get("error"):
        raise ValueError(f"fio job {job.get('jobname')!r} failed with error {job['error']}")
    iops = float(job["read"]["iops"]) + float(job["write"]["iops"])
    mbps = (float(job["read"]["bw_bytes"]) + float(job["write"]["bw_bytes"])) / 1e6
    return {"iops": iops, "mb_per_s": mbps}


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(min|ms|us|s|h)")
_SCALE = {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}


def systemd_duration(text: str) -> float:
    """Seconds of a systemd time span as systemd-analyze prints it ("1min 2.345s", "850ms")."""
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        raise ValueError(f"not a systemd time span: {text!r}")
    return sum(float(n) * _SCALE[unit] for n, unit in parts)


def systemd_analyze(text: str) -> dict[str, float]:
    """kernel and userspace seconds of `systemd-analyze time` ("Startup finished in 1.2s (kernel) + ...")."""
    found = {}
    for span, what in re.findall(r"((?:[0-9.]+(?:min|ms|us|s|h) ?)+) \((\w+)\)", text):
        found[what] = systemd_duration(span.strip())
    if "kernel" not in found or "userspace" not in found:
        raise ValueError("no kernel and userspace times in systemd-analyze's output")
    return {"kernel": found["kernel"], "userspace": found["userspace"]}


def cloud_init_finished(text: str) -> float | None:
    """When cloud-init's last stage finished, from its status.json, in the stages' own clock (see
    cloud_init_done); None while a stage that started has not finished, or before the final stage ran. Some
    releases list stages no boot runs ("modules-init": start and finished null), so only the stages that started
    count."""
    stages = {name: stage for name, stage in json.loads(text)["v1"].items() if isinstance(stage, dict)}
    started = [stage for stage in stages.values() if stage.get("start") is not None]
    finished = [stage.get("finished") for stage in started]
    if "modules-final" not in stages or stages["modules-final"].get("start") is None or None in finished:
        return None
    return max(float(t) for t in finished if t is not None)


#: Below this a status.json time is seconds since boot, above it seconds since the epoch (2001-09-09).
EPOCH_FLOOR = 1e9


def cloud_init_done(finished: float | None, boot: float, written: float | None) -> float | None:
    """Seconds from kernel start (`boot`, epoch) to cloud-init's finish (cloud_init_finished). cloud-init 25.1
    (Debian 13's) records its stages in seconds since boot, older releases in epoch seconds. A status.json
    written (`written`: its mtime) before this boot is an earlier boot's: None, as for a first-boot step."""
    if finished is None or written is None or written < boot:
        return None
    return finished if finished < EPOCH_FLOOR else since_boot(finished, boot)


def since_boot(moment: float | None, boot: float) -> float | None:
    """Seconds from kernel start (`boot`, epoch) to `moment` (epoch), when it happened in this boot."""
    return None if moment is None or moment < boot else moment - boot


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of `values`; None when there is none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def meminfo(text: str) -> dict[str, float]:
    """MemTotal and MemAvailable in MiB, from /proc/meminfo."""
    kib = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+):\s+([0-9]+) kB$", text, re.M)}
    return {"total": kib["MemTotal"] / 1024, "available": kib["MemAvailable"] / 1024}


def rss_kib(status: str) -> int:
    """VmRSS in KiB from a /proc/<pid>/status (0 for a kernel thread, which has none)."""
    found = re.search(r"^VmRSS:\s+([0-9]+) kB$", status, re.M)
    return int(found.group(1)) if found else 0
