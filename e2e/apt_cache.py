"""The apt cache the guests install through: one apt-cacher-ng per lane, on the host's loopback."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from . import build_image
from .processes import VMError, forget, free_port, kill_pidfile, log, stop_at_exit

GUEST_HOST_ADDR = "10.0.2.2"        # the host as seen from a qemu user-net guest


class AptCache:
    """apt-cacher-ng on the host (127.0.0.1 only), reachable from guests as http://10.0.2.2:<port>.

    Its Debian backend points at the mirror this machine's apt uses (the package default is unreachable).
    Cache persists under ~/.cache/hardened-vps/<name> (pid file and socket there too, so two caches of different
    names run side by side); the daemon lives only as long as this process wants. ports: where its port is chosen
    (apt-cacher-ng 3.7.4 cannot bind ports >= 32768: "Error resolving address for binding: Success")."""

    def __init__(self, name: str = "acng", ports: tuple[int, int] = (20000, 32000)) -> None:
        self.root = build_image.cache_root() / name
        self.port = free_port(*ports)
        self.pidfile = self.root / "run" / "acng.pid"

    @property
    def proxy_url(self) -> str:
        return f"http://{GUEST_HOST_ADDR}:{self.port}"

    def start(self, timeout: float = 30) -> AptCache:
        exe = shutil.which("apt-cacher-ng") or "/usr/sbin/apt-cacher-ng"
        if not os.path.exists(exe):
            raise VMError("apt-cacher-ng is not installed")
        conf, cache, logs, run = (self.root / d for d in ("conf", "cache", "log", "run"))
        for d in (conf, cache, logs, run):
            d.mkdir(parents=True, exist_ok=True)
        for f in Path("/etc/apt-cacher-ng").iterdir():
            if f.is_file() and f.name != "zz_debconf.conf":
                shutil.copy(f, conf / f.name)
        main_mirror, _sec = build_image.mirrors()
        (conf / "backends_debian").write_text(main_mirror.rstrip("/") + "/\n")
        kill_pidfile(self.pidfile, "apt-cacher-ng")   # a stale one of ours from an earlier run
        cmd = [exe, "-c", str(conf), f"CacheDir={cache}", f"LogDir={logs}", f"PidFile={self.pidfile}",
               f"Port={self.port}", "BindAddress=127.0.0.1", "ForeGround=0", f"SocketPath={run}/acng.socket",
               "ExThreshold=0"]
        log(f"starting apt-cacher-ng on 127.0.0.1:{self.port}")
        stop_at_exit(self, self.stop)       # from here on, stop() at exit even if it never answers
        subprocess.run(cmd, check=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.3)
        self.stop()
        raise VMError(f"apt-cacher-ng did not start (see {logs / 'apt-cacher.err'})")

    def stop(self) -> None:
        kill_pidfile(self.pidfile, "apt-cacher-ng")
        forget(self)

    def stored_bytes(self) -> int:
        """Bytes in the cache: it grows during a boot only when the cache was not warm for what the boot fetched."""
        return sum(f.stat().st_size for f in (self.root / "cache").rglob("*") if f.is_file())

    def vendor_data(self) -> str:
        # vendor-data (not user-data: the data under test stays unmodified). User-data wins on conflicts.
        return f"#cloud-config\napt:\n  preserve_sources_list: true\n  proxy: {self.proxy_url}\n"
