"""The container's apt proxy (e2e/container.py), on loopback without a namespace: every request on a connection
must be for one of the mirrors, and only those reach the apt cache."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from e2e.container import MirrorProxy

MIRROR = "deb.debian.org"


def _get(host: str, path: str = "/debian/dists/trixie/InRelease") -> bytes:
    return f"GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


@pytest.fixture
def cache() -> Iterator[tuple[int, list[bytes]]]:
    """A stand-in apt cache on loopback: records each request head and answers it with `ok`."""
    server = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
                while b"\r\n\r\n" in data:
                    head, _, data = data.partition(b"\r\n\r\n")
                    heads.append(head)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], heads
    server.close()


def _proxy(port: int) -> tuple[socket.socket, threading.Thread]:
    proxy = MirrorProxy.__new__(MirrorProxy)          # no namespace: only the request handling is under test
    proxy.allowed, proxy.upstream_port = {MIRROR}, port
    client, served = socket.socketpair()
    thread = threading.Thread(target=proxy._handle, args=(served,), daemon=True)
    thread.start()
    return client, thread


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def test_pipelined_requests_for_the_mirror_reach_the_cache(cache: tuple[int, list[bytes]]) -> None:
    port, heads = cache
    client, thread = _proxy(port)
    client.sendall(_get(MIRROR) + _get(MIRROR, "/debian/pool/main/n/nginx/nginx.deb"))
    client.shutdown(socket.SHUT_WR)
    assert _read_all(client).count(b"HTTP/1.1 200 OK") == 2
    thread.join(timeout=10)
    assert [h.split(b"\r\n")[0] for h in heads] == [b"GET http://deb.debian.org/debian/dists/trixie/InRelease HTTP/1.1",
                                                    b"GET http://deb.debian.org/debian/pool/main/n/nginx/nginx.deb "
                                                    b"HTTP/1.1"]


def test_a_first_request_for_another_host_is_refused(cache: tuple[int, list[bytes]]) -> None:
    port, heads = cache
    client, thread = _proxy(port)
    client.sendall(_get("attacker.example"))
    assert _read_all(client).startswith(b"HTTP/1.1 403 Forbidden")
    thread.join(timeout=10)
    assert heads == []


def test_a_later_request_for_another_host_on_a_kept_alive_connection_never_reaches_the_cache(
        cache: tuple[int, list[bytes]]) -> None:
    port, heads = cache
    client, thread = _proxy(port)
    client.sendall(_get(MIRROR) + _get("attacker.example") + _get(MIRROR, "/after"))
    answered = _read_all(client)
    thread.join(timeout=10)
    assert answered.count(b"200 OK") == 1
    assert len(heads) == 1 and b"attacker" not in b"".join(heads)
