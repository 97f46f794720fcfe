"""Compressed data in first-boot data (policy/hardening_policies/archives.py): opened to the end as the host's tools
open it, within a budget, or refused with the reason; never a silent partial result."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from collections.abc import Callable

import pytest

from components.firstboot import wire
from policy.hardening_policies import archives


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress, bz2.compress], ids=["gzip", "xz", "bz2"])
def test_every_member_is_read_as_the_host_reads_them(compress: Callable[[bytes], bytes]) -> None:
    data = compress(b"first ") + compress(b"second")
    got = archives.unpack(data)
    assert got.problem is None and got.data == b"first second"


def test_zero_padding_after_the_last_gzip_member_is_accepted_other_trailing_bytes_are_not() -> None:
    assert archives.unpack(gzip.compress(b"x") + b"\0" * 64).data == b"x"
    tail = archives.unpack(gzip.compress(b"x") + b"PAYLOAD")
    assert tail.data is None and tail.problem == "gzip data followed by bytes that are not gzip"


def test_a_bomb_truncated_or_corrupt_data_is_refused() -> None:
    bomb = archives.unpack(gzip.compress(b"\0" * 4096), budget=1024)
    assert bomb.data is None and "over the scan limit (1,024 bytes" in str(bomb.problem)
    assert archives.unpack(gzip.compress(b"\0" * 1024), budget=1024).data == b"\0" * 1024   # the limit itself is fine
    cut = gzip.compress(b"hello world" * 50)
    assert "does not decompress" in str(archives.unpack(cut[:-12]).problem)
    assert "does not decompress" in str(archives.unpack(cut[:10] + b"\xff" * 20 + cut[30:]).problem)


@pytest.mark.parametrize(("magic", "fmt"), [(b"\x28\xb5\x2f\xfd", "zstd"), (b"PK\x03\x04", "zip"),
                                            (b"7z\xbc\xaf\x27\x1c", "7z")])
def test_formats_the_scan_cannot_open_are_named_and_refused(magic: bytes, fmt: str) -> None:
    got = archives.unpack(magic + b"rest")
    assert got.fmt == fmt and got.data is None and got.problem == f"{fmt} data the scan cannot open"


def test_plain_text_is_not_compressed_and_bz2_needs_its_level_digit() -> None:
    assert archives.compression_of(b"#cloud-config\n") is None
    assert archives.compression_of(b"BZhx") is None and archives.compression_of(bz2.compress(b"x")) == "bz2"
    assert archives.unpack(b"plain").problem == "not compressed data"


def test_tar_entries_are_the_regular_files_in_order() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, body in (("b.txt", b"B"), ("a.txt", b"A")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), 0o640
            tar.addfile(info, io.BytesIO(body))
        directory = tarfile.TarInfo("dir")
        directory.type = tarfile.DIRTYPE
        tar.addfile(directory)
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)
    assert archives.tar_entries(buf.getvalue()) == [archives.TarEntry("b.txt", 0o640, b"B"),
                                                    archives.TarEntry("a.txt", 0o640, b"A")]
    assert archives.tar_entries(b"not a tar" * 100) is None


def test_a_first_boot_bundle_is_read_by_the_wire_formats_own_parser() -> None:
    entries = [wire.Entry("/etc/a", 0o644, b"A"), wire.Entry("/usr/local/sbin/b", 0o700, b"B")]
    assert archives.bundle_entries(wire.pack(entries)) == [archives.TarEntry("etc/a", 0o644, b"A"),
                                                           archives.TarEntry("usr/local/sbin/b", 0o700, b"B")]
    assert archives.bundle_entries(b"not a bundle") is None
