"""The host side of the benchmark, run by the benchmark script as root: `idle` (footprint at rest), `web` (a load
generator through nginx to the app) and `report` (every raw output parsed into ONE JSON document on stdout).

Standard library only (Python 3.11, as on Debian 12 and 13): the script lays this file and `parse.py` out on the
host under their package path and runs `python3 -m components.benchmark.collect`. HVPS_ROOT prefixes the files
it reads (tests run it against a fake root).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from components.benchmark import parse

ROOT = Path(os.environ.get("HVPS_ROOT", "/"))
STATE_FILE = "var/lib/hvps/first-boot.state"
CLOUD_INIT_STATUS = "var/lib/cloud/data/status.json"
#: Loopback source addresses the load rotates over: nginx limits each address (20 r/s, burst 40), so one
#: address would measure the limit, not the host. 250 addresses allow about 5000 req/s before it shows.
SOURCES = 250
NGINX_LIMIT = "20 r/s per address, burst 40 (limit_req perip)"


def arguments(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hvps-bench")
    p.add_argument("mode", choices=("idle", "web", "report"))
    p.add_argument("workdir", type=Path)
    for name in ("vendor", "plan", "region", "image", "app-name", "host-header", "path"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--scheme", choices=("http", "https"), default="http")
    p.add_argument("--port", type=int, default=0, help="nginx's port; default 80 (http) or 443 (https)")
    p.add_argument("--services", default="nginx,ssh,fail2ban,unattended-upgrades,auditd")
    for name, default in (("seconds", 10), ("concurrency", 16), ("disk-mb", 256)):
        p.add_argument(f"--{name}", type=int, default=default)
    return p.parse_args(argv)


def _read(relative: str) -> str | None:
    try:
        return (ROOT / relative).read_text()
    except OSError:
        return None


def _systemctl(unit: str, prop: str) -> str:
    done = subprocess.run(["systemctl", "show", "--value", "-p", prop, unit], capture_output=True, text=True,
                          check=False)
    return done.stdout.strip()


def _cgroup_procs(cgroup: str) -> str | None:
    """The processes of a unit's cgroup: cgroup v2 (Debian 13, Ubuntu 24.04), else a hybrid host's unified or
    systemd hierarchy (an older host, or a container on one)."""
    for mount in ("sys/fs/cgroup", "sys/fs/cgroup/unified", "sys/fs/cgroup/systemd"):
        procs = _read(f"{mount}{cgroup}/cgroup.procs")
        if procs is not None:
            return procs
    return None


def _units(name: str) -> list[str]:
    """The units a name stands for: itself, or for a pattern (PostgreSQL's cluster runs as postgresql@17-main;
    postgresql.service only starts it) every loaded unit it matches."""
    if "*" not in name:
        return [name]
    listed = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--type=service", name],
                            capture_output=True, text=True, check=False)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.split()]


def unit_rss_mib(name: str) -> float:
    """Resident memory of the processes of a unit's cgroup (of every unit a pattern matches), MiB; 0 when none
    runs."""
    total = 0
    for unit in _units(name):
        cgroup = _systemctl(unit, "ControlGroup")
        for pid in ((_cgroup_procs(cgroup) if cgroup else None) or "").split():
            total += parse.rss_kib(_read(f"proc/{pid}/status") or "")
    return total / 1024


def idle(args: argparse.Namespace) -> dict[str, Any]:
    units = [f"{args.app_name}.service", *(f"{s}.service" for s in args.services.split(",") if s)]
    rss = {unit: round(unit_rss_mib(unit), 1) for unit in units}
    memory = parse.meminfo(_read("proc/meminfo") or "")
    return {"rss_mib": rss, "memory_total": memory["total"], "memory_available": memory["available"]}


def _request(args: argparse.Namespace, source: str, context: ssl.SSLContext | None) -> int:
    """One GET on a fresh connection from `source`: its status, 0 on a connection error."""
    port = args.port or (443 if context else 80)
    conn: http.client.HTTPConnection
    if context:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, source_address=(source, 0),
                                           context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", args.path, headers={"Host": args.host_header, "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def web(args: argparse.Namespace) -> dict[str, Any]:
    """`concurrency` threads request the app through nginx for `seconds`, one connection per request."""
    context = None
    if args.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # 127.0.0.1: no name to verify
        if _request(args, "127.0.0.2", context) == 0:
            context = None  # no certificate yet: nginx serves plain HTTP only
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def worker(first: int) -> None:
        n = first
        while time.monotonic() < deadline:
            source = f"127.0.0.{2 + n % SOURCES}"
            n += args.concurrency
            began = time.perf_counter()
            status = _request(args, source, context)
            took = time.perf_counter() - began
            with lock:
                statuses[status] += 1
                if 200 <= status < 300:
                    latencies.append(took * 1000)

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    ok = len(latencies)
    return {"elapsed_s": round(elapsed, 3), "requests": sum(statuses.values()), "ok": ok,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}, "rps": ok / elapsed,
            "p50": parse.percentile(latencies, 50), "p99": parse.percentile(latencies, 99),
            "scheme": "https" if context else "http"}


def _boot_time() -> float:
    stat = _read("proc/stat") or ""
    return float(next(line.split()[1] for line in stat.splitlines() if line.startswith("btime ")))


def _active_at(unit: str) -> float | None:
    usec = _systemctl(unit, "ActiveEnterTimestampMonotonic")
    return int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 else None


def timeline(w: Path, args: argparse.Namespace) -> dict[str, float | None]:
    """The provisioning timeline, in seconds from kernel start; a first-boot step of an earlier boot is None."""
    boot = _boot_time()
    try:
        analyzed: dict[str, float | None] = dict(parse.systemd_analyze((w / "systemd-analyze.txt").read_text()))
    except (OSError, ValueError):
        analyzed = {"kernel": None, "userspace": None}
    status = _read(CLOUD_INIT_STATUS)
    finished = parse.cloud_init_finished(status) if status else None
    written = (ROOT / CLOUD_INIT_STATUS).stat().st_mtime if status else None
    state = ROOT / STATE_FILE
    done = state.stat().st_mtime if (_read(STATE_FILE) or "").strip() == "complete" else None
    return {"boot_kernel": analyzed["kernel"], "boot_userspace": analyzed["userspace"],
            "cloud_init_done": parse.cloud_init_done(finished, boot, written),
            "first_boot_done": parse.since_boot(done, boot),
            "ssh_ready": _active_at("ssh.service"), "app_ready": _active_at(f"{args.app_name}.service")}


def _raw(w: Path, name: str) -> str:
    return (w / name).read_text()


def report(args: argparse.Namespace) -> dict[str, Any]:
    w = args.workdir
    rest = json.loads(_raw(w, "idle.json"))
    load = json.loads(_raw(w, "web.json"))
    disk = {rw: parse.fio_job(_raw(w, f"fio-{rw}.json")) for rw in ("randread", "randwrite", "read", "write")}
    values: dict[str, float | None] = {
        "cpu_single": parse.sysbench_cpu(_raw(w, "cpu-1.txt")), "cpu_all": parse.sysbench_cpu(_raw(w, "cpu-all.txt")),
        "memory_bandwidth": parse.sysbench_memory(_raw(w, "memory.txt")),
        "disk_rand_read": disk["randread"]["iops"], "disk_rand_write": disk["randwrite"]["iops"],
        "disk_seq_read": disk["read"]["mb_per_s"], "disk_seq_write": disk["write"]["mb_per_s"],
        "web_rps": load["rps"], "web_p50": load["p50"], "web_p99": load["p99"],
        "web_failed": load["requests"] - load["ok"],
        **timeline(w, args), "kernel_after_create": None,  # the program adds it (parse.with_creation)
        "rss_stack": sum(rest["rss_mib"].values()),
        "memory_used": rest["memory_total"] - rest["memory_available"], "memory_available": rest["memory_available"],
    }
    virt = (_read_optional(w / "virt.txt") or "unknown").strip() or "unknown"
    return {
        "schema": parse.SCHEMA,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": {"vendor": args.vendor, "plan": args.plan, "region": args.region, "image": args.image},
        "environment": {"virtualization": virt, "emulated": virt == "qemu", "cpus": os.cpu_count(),
                        "kernel": os.uname().release, "kernel_start": _boot_time()},
        "parameters": {"seconds_each": args.seconds, "cpu_threads_all": os.cpu_count(), "disk_file_mb": args.disk_mb,
                       "disk_iodepth": 16, "disk_engine": "libaio", "web_concurrency": args.concurrency,
                       "web_duration_s": load["elapsed_s"], "web_path": args.path, "web_scheme": load["scheme"],
                       "web_connection": "one per request", "web_source_addresses": SOURCES,
                       "web_nginx_limit": NGINX_LIMIT, "installed_for_run": _lines(w / "added.txt")},
        "figures": {name: parse.figure(name, values[name]) for name in parse.FIGURES},
        "details": {"web_statuses": load["statuses"], "web_requests": load["requests"], "rss_mib": rest["rss_mib"]},
    }


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _lines(path: Path) -> list[str]:
    return [line for line in (_read_optional(path) or "").splitlines() if line]


def main(argv: list[str]) -> int:
    args = arguments(argv)
    if args.mode == "idle":
        (args.workdir / "idle.json").write_text(json.dumps(idle(args)))
    elif args.mode == "web":
        (args.workdir / "web.json").write_text(json.dumps(web(args)))
    else:
        print(json.dumps(report(args), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
