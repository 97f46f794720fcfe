"""What this process starts on the host (VMs, apt-cacher-ng), and how it stops only those: pid files checked against
the process's command line, every stop registered to run at exit or on a signal; the harness's log line and error.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

_STARTED: dict[int, Callable[[], None]] = {}      # owner id -> how to stop it, at exit / on signals


def log(msg: str) -> None:
    print(f"[vm {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class VMError(RuntimeError):
    pass


def free_port(low: int | None = None, high: int | None = None) -> int:
    """A currently free TCP port on 127.0.0.1 (any, or within [low, high])."""
    if low is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    import random
    top = high if high is not None else low
    for port in random.sample(range(low, top + 1), min(200, top - low + 1)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise VMError(f"no free port in {low}-{high}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own daemonized child is reparented, but be safe) counts as dead
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def pid_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_pidfile(pidfile: Path, must_contain: str, grace: float = 10.0) -> None:
    """Kill the process named in pidfile, but only if its command line contains must_contain (ours)."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    if not pid_alive(pid) or must_contain not in pid_cmdline(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)


def stop_at_exit(owner: object, stop: Callable[[], None]) -> None:
    """From now on `stop` runs at interpreter exit or on SIGTERM/SIGINT/SIGHUP, until `forget(owner)`."""
    _install_cleanup_handlers()
    _STARTED[id(owner)] = stop


def forget(owner: object) -> None:
    _STARTED.pop(id(owner), None)


def _cleanup_all() -> None:
    for stop in list(_STARTED.values()):
        with contextlib.suppress(Exception):
            stop()


def _on_signal(signum: int, _frame: object) -> None:
    log(f"signal {signum}: stopping the VMs and daemons this process started")
    _cleanup_all()
    sys.exit(128 + signum)


_HANDLERS_INSTALLED = False


def _install_cleanup_handlers() -> None:
    """atexit + SIGTERM/SIGINT/SIGHUP -> stop what we started. Installed lazily (importing changes nothing)."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_cleanup_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
