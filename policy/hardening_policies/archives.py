"""Compressed data and archives in first-boot data: opened to the end within a budget, or refused."""

from __future__ import annotations

import bz2
import lzma
import tarfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from components.firstboot import wire

MAX_INFLATED = 16 * 1024 * 1024  # per decompression: user data is at most 64 KiB, so this is only a bomb guard
MAX_INFLATED_TOTAL = 4 * MAX_INFLATED
MAX_DEPTH = 8


@dataclass(frozen=True)
class Unpacked:
    """Compressed data, decompressed to the end within a budget, or why it could not be."""

    fmt: str
    data: bytes | None
    problem: str | None = None


# Compression formats by magic number. gzip, xz and bz2 are opened (every member or stream, up to the budget);
# the others are refused: the scan cannot see inside them.
_OPENABLE = ((b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bz2"))
_OPAQUE = ((b"\x28\xb5\x2f\xfd", "zstd"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"),
           (b"PK\x03\x04", "zip"), (b"\x04\x22\x4d\x18", "lz4"))


def compression_of(data: bytes) -> str | None:
    """The compression format `data` starts with (None: none this scan knows)."""
    for magic, fmt in (*_OPENABLE, *_OPAQUE):
        if data.startswith(magic) and (fmt != "bz2" or data[3:4] in b"123456789"):
            return fmt
    return None


def _decompressor(fmt: str) -> Any:
    if fmt == "gzip":
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    return lzma.LZMADecompressor(lzma.FORMAT_XZ) if fmt == "xz" else bz2.BZ2Decompressor()


def unpack(data: bytes, budget: int = MAX_INFLATED) -> Unpacked:
    """Decompress every member/stream of gzip, xz or bz2 data (tools read them all: gzip -d, and cloud-init,
    whose util.decomp_gzip reads user data through gzip.GzipFile, which joins every member),
    at most `budget` bytes. Over the budget, truncated, corrupt, trailing bytes or an opaque format: a problem,
    never a silent partial result. Linear in its output."""
    fmt = compression_of(data)
    if fmt is None:
        return Unpacked("", None, "not compressed data")
    if fmt not in dict((f, m) for m, f in _OPENABLE):
        return Unpacked(fmt, None, f"{fmt} data the scan cannot open")
    out = bytearray()
    rest = data
    while rest:
        engine = _decompressor(fmt)
        try:
            if fmt == "gzip":
                out += engine.decompress(rest, max(1, budget - len(out) + 1))
                pending, done, rest = bool(engine.unconsumed_tail), engine.eof, engine.unused_data
            else:
                out += engine.decompress(rest, max(1, budget - len(out) + 1))
                pending, done, rest = not engine.needs_input and not engine.eof, engine.eof, engine.unused_data
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
            return Unpacked(fmt, None, f"{fmt} data that does not decompress")
        if len(out) > budget or pending:
            return Unpacked(fmt, None, f"{fmt} data over the scan limit ({budget:,} bytes decompressed)")
        if not done:
            return Unpacked(fmt, None, f"{fmt} data that does not decompress (truncated)")
        if rest and compression_of(rest) != fmt:
            if fmt in ("gzip", "bz2") and not rest.strip(b"\0"):
                break  # zero padding after the last member: gzip -d and bzip2 -d accept it
            return Unpacked(fmt, None, f"{fmt} data followed by bytes that are not {fmt}")
    return Unpacked(fmt, bytes(out))




@dataclass(frozen=True)
class TarEntry:
    """A regular file of an archive (tar, or a first-boot bundle), in archive order."""

    name: str
    mode: int
    content: bytes


def tar_entries(data: bytes) -> list[TarEntry] | None:
    """The regular files of a ustar/GNU tar (None when `data` is not one)."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return None
    entries: list[TarEntry] = []
    try:
        with tarfile.open(fileobj=BytesIO(data), mode="r:") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.size <= MAX_INFLATED:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        entries.append(TarEntry(member.name, member.mode, handle.read()))
    except (tarfile.TarError, EOFError):
        return None
    return entries


def bundle_entries(data: bytes) -> list[TarEntry] | None:
    """The files of a first-boot bundle archive, read by the wire format's own parser (None: not one).
    WireError when it starts like one but is malformed: the caller records it as unreadable."""
    if not wire.is_archive(data):
        return None
    return [TarEntry(e.path.lstrip("/"), e.mode, e.content) for e in wire.parse(data)]
