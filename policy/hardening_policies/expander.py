"""The first-boot decoder of the secrets scan: every layer of hostile data (text, base64, hex, gzip/xz/bz2, tar
members, bundles, MIME parts, cloud-config strings) walked to the end, or recorded as unreadable."""

from __future__ import annotations

import base64
import binascii
import email
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from components.firstboot import wire
from policy.hardening_policies.archives import (
    MAX_DEPTH,
    MAX_INFLATED,
    MAX_INFLATED_TOTAL,
    TarEntry,
    bundle_entries,
    compression_of,
    tar_entries,
    unpack,
)

_URLSAFE = str.maketrans("-_", "+/")


def b64decode_any(run: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not (None when it is neither)."""
    run = run.translate(_URLSAFE).rstrip("=")
    if len(run) % 4 == 1:
        return None
    try:
        return base64.b64decode(run + "=" * (-len(run) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _printable_share(value: str) -> float:
    return len(_NOT_PRINTABLE.sub("", value)) / len(value) if value else 1.0


_NOT_PRINTABLE = re.compile(r"[^\t\n\r\x20-\x7e\u00a0-\uffff]")


class Expander:
    """Walks every layer of first-boot data: text, base64 (wrapped at any width, URL-safe), hex, gzip/xz/bz2,
    tar members, MIME parts, cloud-config strings. What it cannot read to the end is recorded, not skipped."""

    _B64_LINE = re.compile(r"[A-Za-z0-9+/_-]++={0,2}")
    _HEX_LINE = re.compile(r"(?:[0-9A-Fa-f]{2})++")
    _B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}+={0,2}+(?![A-Za-z0-9+/=_-])")
    _HEX_TOKEN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){16,}+(?![0-9A-Fa-f])")
    _HEX_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}+")

    def __init__(self) -> None:
        self.layers: list[tuple[str, str]] = []
        self.archives: list[tuple[str, list[TarEntry]]] = []
        self.unreadable: list[tuple[str, str]] = []  # (what, where)
        self.inflated = 0  # bytes decompressed so far (bomb guard)
        self.decoded_lines: set[tuple[str, int]] = set()  # (where, line number) of lines read as one base64 body

    def textual(self, where: str, value: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            self.unreadable.append((f"data encoded more than {MAX_DEPTH} layers deep", where))
            return
        if value.lstrip().lower().startswith(("content-type: multipart", "mime-version:")):
            for i, part in enumerate(email.message_from_string(value).walk()):  # the parts, transfer-decoded
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes) and payload:
                    self.binary(f"{where} > part {i}", payload, depth + 1)
            return
        self.layers.append((where, value))
        for kind, decoded in self._encoded_runs(value, where):
            self.binary(f"{where} > {kind}", decoded, depth + 1, only_if_meaningful=True)
        if wire.form_of(value) == "cloud-config":
            for scalar in _yaml_strings(yaml_document(value)):
                if scalar not in value:  # escaped or folded in the text: scan it as YAML reads it
                    self.textual(f"{where} > yaml string", scalar, depth + 1)

    def binary(self, where: str, data: bytes, depth: int, only_if_meaningful: bool = False) -> None:
        """Decompress, unpack or read `data` as text. With `only_if_meaningful` (a guess that some text was an
        encoding) bytes that are neither compressed, an archive nor text are dropped: a public key blob, a hash."""
        if not data:
            return
        fmt = compression_of(data)
        try:
            entries = None if fmt else bundle_entries(data)
        except wire.WireError as err:
            self.unreadable.append((f"a first-boot bundle that does not parse ({err})", where))
            return
        if fmt is None and entries is None:
            entries = tar_entries(data)
        decoded = None
        if fmt is None and entries is None:
            try:
                decoded = data.decode()
            except UnicodeDecodeError:
                if only_if_meaningful:
                    return
                decoded = data.decode("latin-1")  # a binary file: its ASCII strings are still scanned
            if only_if_meaningful and _printable_share(decoded) < 0.95:
                return
        if depth > MAX_DEPTH:
            self.unreadable.append((f"data encoded more than {MAX_DEPTH} layers deep", where))
            return
        if fmt is not None:
            budget = max(0, min(MAX_INFLATED, MAX_INFLATED_TOTAL - self.inflated))
            result = unpack(data, budget)
            if result.data is None:
                self.unreadable.append((result.problem or f"{fmt} data", f"{where} > {fmt}"))
                return
            self.inflated += len(result.data)
            self.binary(f"{where} > {fmt}", result.data, depth + 1)
        elif entries is not None:
            self.archives.append((where, entries))
            for entry in entries:
                self.binary(f"{where} > {entry.name}", entry.content, depth + 1)
        elif decoded is not None:
            self.textual(where, decoded, depth + 1)

    def _encoded_runs(self, value: str, where: str) -> Iterator[tuple[str, bytes]]:
        """Base64 and hex in `value`: blocks of whole lines (a heredoc, a body wrapped at any width), long
        inline tokens and \\xNN escapes. Each character is read a bounded number of times."""
        block: list[tuple[int, str]] = []
        for lineno, line in enumerate([*value.splitlines(), ""], 1):
            stripped = line.strip()
            if stripped and self._B64_LINE.fullmatch(stripped):
                block.append((lineno, stripped))
                continue
            if block:
                yield from self._decode_block(block, where)
                block = []
            for match in self._B64_TOKEN.finditer(line):
                decoded = b64decode_any(match.group(0))
                if decoded is not None:
                    yield "base64", decoded
            for match in self._HEX_TOKEN.finditer(line):
                yield "hex", bytes.fromhex(match.group(0))
            for match in self._HEX_ESCAPES.finditer(line):
                yield "hex", bytes.fromhex(match.group(0).replace("\\x", ""))

    @classmethod
    def _wrapped_runs_at(cls, lines: list[str]) -> Iterator[tuple[int, list[str]]]:
        """_wrapped_runs, each with the index of its first line."""
        at = 0
        for run in cls._wrapped_runs(lines):
            yield at, run
            at += len(run)

    @staticmethod
    def _wrapped_runs(lines: list[str]) -> Iterator[list[str]]:
        """Split a block of base64-alphabet lines where wrapping breaks: a wrapped body has lines of one width and
        a last one no longer. So a word glued to either end ("fi", a heredoc's EOF marker) is a run of its own."""
        run: list[str] = []
        for line in lines:
            if run and (len(line) > len(run[0]) or len(run[-1]) < len(run[0])):
                yield run
                run = []
            run.append(line)
        if run:
            yield run

    def _decode_block(self, block: list[tuple[int, str]], where: str) -> Iterator[tuple[str, bytes]]:
        """Base64 (or all-hex) runs of a block of lines; a run that does not decode is retried without its first
        or last line. The lines of a multi-line run that decodes to compressed data are recorded: each is a slice
        of that body, read decoded in the next layer (which refuses bytes past the end of the stream)."""
        lines = [text for _, text in block]
        for run_at, run in self._wrapped_runs_at(lines):
            if sum(map(len, run)) < 16:
                continue
            n = len(run)
            variants = [(0, n), *([(0, n - 1), (1, n)] if n >= 2 else [])]
            joined = next((j for j in ("".join(run[a:b]) for a, b in variants) if self._HEX_LINE.fullmatch(j)), None)
            if joined is not None and len(joined) >= 32:
                yield "hex", bytes.fromhex(joined)  # and as base64 too: hex digits are base64 characters
            found = next(((a, b, d) for a, b in variants if (d := b64decode_any("".join(run[a:b]))) is not None), None)
            if found is not None:
                a, b, decoded = found
                if b - a > 1 and compression_of(decoded):  # a line glued to the body would break its stream
                    first = block[run_at + a][0]
                    self.decoded_lines.update((where, first + i) for i in range(b - a))
                yield "base64", decoded


def yaml_document(value: str) -> Any:
    """The document as cloud-init reads it: PyYAML's pure-Python safe loader (LibYAML's accepts and refuses other
    texts, so a document it could not read might still set a password on the host)."""
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return None


def _yaml_strings(node: Any) -> Iterator[str]:
    """Every string scalar of a parsed YAML document (keys and values; bytes of !!binary as latin-1).

    Each mapping and list is walked once: YAML aliases share nodes, and a chain of them (`&a [*b, *b]`, ...)
    would otherwise make a few hundred bytes cost hours."""
    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (Mapping, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes):
            yield item.decode("latin-1")
        elif isinstance(item, Mapping):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item
