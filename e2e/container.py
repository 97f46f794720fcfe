"""The systemd-nspawn guest of the container audit (e2e/nspawn_lynis.py): a disk copy loop-mounted, a network
namespace of its own, an apt proxy into the lane's apt cache, and the container, which implements the guest
interface (e2e/guest.py) so that the same Lynis runner serves it and the VM.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROXY_PORT = 3142
CLONE_NEWNET = 0x40000000


def log(msg: str) -> None:
    print(f"[container {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], timeout: float = 60, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, timeout=timeout, text=True, **kw)


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def loop_mount(disk: Path, mnt: Path) -> Iterator[Path]:
    """The disk copy mounted on a loop device (nspawn's own --image= needs udev, which this host lacks)."""
    mnt.mkdir(parents=True, exist_ok=True)
    run(["mount", "-o", "loop", str(disk), str(mnt)])       # loop is auto-cleared on umount
    try:
        yield mnt
    finally:
        if run(["umount", str(mnt)], check=False).returncode != 0:
            log(f"umount {mnt} failed; lazy umount")
            run(["umount", "-l", str(mnt)], check=False)


@contextlib.contextmanager
def netns(name: str) -> Iterator[Path]:
    """A fresh network namespace with lo and an eth0 for the container; deleted on exit."""
    run(["ip", "netns", "add", name])
    try:
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        # No dummy driver on every kernel: a veth pair with both ends inside the namespace; the peer is up so
        # eth0 has carrier (networkd configures the static address only then).
        run(["ip", "-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "hvpspeer0"])
        run(["ip", "-n", name, "link", "set", "hvpspeer0", "up"])
        yield Path("/run/netns") / name
    finally:
        run(["ip", "netns", "delete", name], check=False)


class MirrorProxy:
    """The container's apt proxy: listens on 127.0.0.1 inside `ns` and hands each request for one of this
    machine's Debian mirrors to the apt cache on the host's loopback (`upstream_port`), connecting from the host
    namespace; a request for any other host is refused (403)."""

    def __init__(self, ns: Path, allowed: set[str], upstream_port: int):
        self.allowed, self.upstream_port = allowed, upstream_port
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(ns, os.O_RDONLY)
        try:
            _setns(target)
            try:
                self.sock = socket.create_server(("127.0.0.1", PROXY_PORT))
            finally:
                _setns(home)            # back before any thread starts: they all connect from here
        finally:
            os.close(home)
            os.close(target)
        self.sock.settimeout(1.0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def allows(self, head: bytes) -> bool:
        """A request head for one of the mirrors, in a proxy's absolute form (`GET http://host/...`)."""
        m = re.match(rb"[A-Z]+ http://([^/\s:]+)(?::\d+)?/", head)
        return m is not None and m.group(1).decode() in self.allowed

    def _handle(self, client: socket.socket) -> None:
        """Every request head on the connection is checked (apt pipelines and keeps connections alive), then
        passed to the apt cache; the cache's answers go back as they come."""
        upstream = None
        pump = None
        try:
            client.settimeout(120)
            buffered = b""
            while True:
                while b"\r\n\r\n" not in buffered:
                    if len(buffered) > 65536:
                        return
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                if not self.allows(head):       # apt's requests carry no body: a head is the whole request
                    if upstream is None:
                        client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
                    upstream.settimeout(120)
                    pump = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
                    pump.start()
                upstream.sendall(head + b"\r\n\r\n")
        except OSError:
            pass
        finally:
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream.shutdown(socket.SHUT_WR)
                if pump is not None:
                    pump.join(timeout=130)
                upstream.close()
            client.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class Container:
    """One `systemd-nspawn --boot` of a disk copy; `exec` runs a command inside via nsenter."""

    def __init__(self, root: Path, ns: Path, seed: Path, console: Path):
        cmd = ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
               f"--directory={root}", f"--network-namespace-path={ns}", "--capability=CAP_NET_ADMIN",
               f"--machine=hvps-{os.getpid()}", f"--bind-ro={seed}:/var/lib/cloud/seed/nocloud", "--console=pipe"]
        self.console = console.open("w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.leader = 0
        #: The admin's SSH login from the host through the container's network namespace (set once it is known).
        self.login: list[str] = []

    def find_leader(self, timeout: float = 30) -> int:
        """PID (host view) of the container's init: the descendant of our nspawn whose NSpid ends in 1."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for pid in _descendants(self.proc.pid):
                with contextlib.suppress(OSError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    ns_pids = re.search(r"^NSpid:\s+(.*)$", status, re.M)
                    if ns_pids and ns_pids.group(1).split()[-1] == "1" and len(ns_pids.group(1).split()) > 1:
                        self.leader = pid
                        return pid
            time.sleep(0.3)
        raise RuntimeError(f"container init not found (nspawn exit {self.proc.poll()}); see {self.console.name}")

    def exec(self, script: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": "/root", "TERM": "dumb"}
        cmd = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w",
               "/bin/bash", "-c", script]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    def path(self, p: str) -> Path:
        return Path(f"/proc/{self.leader}/root") / p.lstrip("/")

    # The guest interface (e2e/guest.py): root is nsenter's shell; a copy goes through the container's root.
    scratch = "/root"

    def root(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        try:
            return self.exec(script, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(["nsenter"], 124, "", f"timeout after {timeout}s")

    def copy_in(self, local: Path, remote: str) -> None:
        shutil.copy(local, self.path(remote))

    def as_admin(self, command: str, stdin: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
        if not self.login:
            raise RuntimeError("the container's admin login is not known yet")
        return subprocess.run([*self.login, command], input=stdin, capture_output=True, timeout=timeout, check=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)        # nspawn --boot: asks init for a clean poweroff
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log("container did not power off in 30 s: killing its init and nspawn")
                if self.leader:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.leader, signal.SIGKILL)   # PID 1 of the namespace: takes the rest along
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=10)
        self.console.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out
