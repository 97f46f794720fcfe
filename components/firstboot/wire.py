"""The first-boot wire format: how the files travel in user data and how the host unpacks them.
This module is longer than 300 lines because its writer and every reader sit side by side: split, they could drift.

One module renders and parses it (each form's first line, its header comment, the bundle, the launch
script's heredoc, the gzip and base64 encoding a metadata service may want), so the renderer, the host's unpack
step, the policy pack, the plan and the tests agree on every byte; nothing else matches these lines or blocks
with patterns of its own.
The header comment is written for a reader on the host and never read back: what the data holds comes from
parsing the bundle. The bundle is an xz stream of a small archive:

    hvps-bundle 1\\n
    <mode, 4 octal digits> <size in bytes> <absolute path>\\n<content>   (the unpacker, then once per file)

A tar header is 512 bytes and every member is padded to 512: for about 40 small files that framing costs more than
a kilobyte after compression, against a 16 KiB user-data limit (the smallest vendor's). The host unpacks with
python3 (cloud-init's own interpreter, so on every image that runs user data) and its lzma module: no dependency on
the `xz` tool, which a minimal image may lack.
"""

from __future__ import annotations

import base64
import binascii
import functools
import lzma
import re
import shlex
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

MAGIC = b"hvps-bundle 1\n"
BUNDLE_PATH = "/var/lib/hvps/first-boot.bundle"
#: Ends the launch script's base64 heredoc. The '.' is in neither base64 alphabet, so nothing reading the
#: script (the policy pack's secrets scan decodes base64 blocks, URL-safe included) takes it for payload.
PAYLOAD_END = "HVPS.EOF"
#: The first line of each form: cloud-init takes user data starting with it for cloud-config; the launch
#: script's interpreter (a vendor may run it as a mere comment after lines of its own: POSIX sh throughout).
CLOUD_CONFIG_LINE = "#cloud-config"
LAUNCH_SCRIPT_LINE = "#!/bin/sh"
#: The most bytes a reader decompresses (an xz bundle, a gzip encoding): far above any real first boot (64 KiB of
#: user data at most), so only a decompression bomb reaches it.
MAX_INFLATED = 16 * 1024 * 1024
_ENTRY_HEADER = re.compile(rb"([0-7]{4}) (0|[1-9][0-9]{0,9}) (/[^\n\0]*)\n")

#: The unpacker is the first entry of every archive (pack() puts it there, parse() requires it and leaves it out):
#: its code travels compressed, once, not as plain text in every form. HOST_UNPACK runs it (never written to the
#: host) with the archive in `d` and the first file at `k`. Each file is created anew (a file or symlink at the
#: path is removed first, as tar does), never through a symlink, with its exact mode whatever the umask (missing
#: directories 0755 under cloud-init's umask, as tar makes them); by root, so owned by root:root. Anything
#: malformed stops it before the provisioner runs. `root` + path: "/" + "/etc/x" is "//etc/x", the same file.
UNPACKER_PATH = "/hvps/unpack"  # a name only: the unpacker is never written
UNPACKER = (
    'import os,sys\n'
    'i=k\n'
    'while i<len(d):\n'
    ' j=d.index(b"\\n",i);o,n,p=d[i:j].decode().split(" ",2);k=j+1+int(n)\n'
    ' if not n.isdigit() or k>len(d) or ".." in p.split("/") or p[0]!="/":sys.exit("hvps: bad entry "+p)\n'
    ' f=sys.argv[2]+p;os.makedirs(os.path.dirname(f),493,1)\n'
    ' if os.path.lexists(f):os.unlink(f)\n'
    ' h=os.open(f,os.O_WRONLY|os.O_CREAT|os.O_EXCL|os.O_NOFOLLOW,384);os.fchmod(h,int(o,8))\n'
    ' with open(h,"wb") as w:w.write(d[j+1:k])\n'
    ' i=k\n'
)
#: What every archive starts with: the magic line and the unpacker's entry.
_ARCHIVE_START = MAGIC + f"0644 {len(UNPACKER.encode())} {UNPACKER_PATH}\n".encode() + UNPACKER.encode()
#: The host's unpack step (python3 -c, argv: bundle, root directory): it checks that the archive's first entry is
#: framed and named as the unpacker (not its content: the bundle is the program's own, as the provisioner it
#: carries is), then runs it. A bundle from a release before the unpacker moved is refused. It fits a single-quoted
#: sh word (no `'`) and is short: it travels uncompressed.
HOST_UNPACK = (  # one line: a YAML string of several lines costs a blank line and an indent per line
    'import lzma,sys;'
    f'd=lzma.open(sys.argv[1]).read();j=d.find(b"\\n",{len(MAGIC)});n=d[{len(MAGIC) + 5}:j-{len(UNPACKER_PATH) + 1}];'
    'k=j>0 and n.isdigit() and j+1+int(n);'
    f'd[:{len(MAGIC) + 5}]+d[j-{len(UNPACKER_PATH) + 1}:j]==b"{MAGIC.decode().strip()}\\n0644  {UNPACKER_PATH}"'
    ' and 0<k<=len(d) or sys.exit("hvps: not a bundle");exec(d[j+1:k])'
)


class WireError(ValueError):
    """Bytes that are not a well-formed first-boot bundle."""


@dataclass(frozen=True)
class Entry:
    """One file of a bundle, as the host writes it."""

    path: str
    mode: int
    content: bytes


def _check_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not path.startswith("/") or "\n" in path or "\0" in path or ".." in parts or path.endswith("/"):
        raise WireError(f"{path!r} is not an absolute file path the bundle can carry")


def pack(entries: Iterable[Entry]) -> bytes:
    """The archive (uncompressed) of these files, in this order, after the unpacker."""
    out = bytearray(_ARCHIVE_START)
    for e in entries:
        _check_path(e.path)
        if not 0 <= e.mode <= 0o7777:
            raise WireError(f"{e.path}: mode {e.mode:o} is not a file mode")
        out += f"{e.mode:04o} {len(e.content)} {e.path}\n".encode() + e.content
    return bytes(out)


def is_archive(data: bytes) -> bool:
    """Whether `data` starts like a bundle's archive (parse() says whether it is a well-formed one)."""
    return data.startswith(MAGIC)


def parse(archive: bytes) -> list[Entry]:
    """The files of an uncompressed archive, strictly: WireError on anything pack() would not have made (the
    unpacker, this version's, first)."""
    if not is_archive(archive):
        raise WireError("not a first-boot bundle (no hvps-bundle header)")
    if not archive.startswith(_ARCHIVE_START):
        raise WireError("a first-boot bundle without this version's unpacker as its first entry")
    entries: list[Entry] = []
    i = len(_ARCHIVE_START)
    while i < len(archive):
        header = _ENTRY_HEADER.match(archive, i)
        if header is None:
            raise WireError(f"malformed entry header at byte {i}")
        mode, size, raw_path = header.groups()
        start, i = header.end(), header.end() + int(size)
        if i > len(archive):
            raise WireError(f"entry at byte {header.start()} runs past the end")
        try:
            path = raw_path.decode()
        except UnicodeDecodeError:
            raise WireError(f"entry at byte {header.start()} has a path that is not UTF-8") from None
        _check_path(path)
        entries.append(Entry(path, int(mode, 8), archive[start:i]))
    return entries


#: The xz dictionary: 1 MiB holds a whole bundle (a few dozen KiB inflated), so it compresses as well as preset 9's
#: 64 MiB (the same size, measured on the example stacks) at a tenth of the time, and the host's decoder allocates
#: 1 MiB instead of 64.
DICT_SIZE = 1 << 20


@functools.lru_cache(maxsize=64)
def compress(archive: bytes) -> bytes:
    """xz at its strongest setting, tuned for text (pb=0: no 4-byte alignment to exploit) with a dictionary the
    size of a bundle: reproducible (no timestamp), and python3's lzma reads it on the host. Pure, and kept per
    input: one program run renders the same bundle for the digest, the user data and the plan."""
    return lzma.compress(archive, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                         filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "pb": 0,
                                   "dict_size": DICT_SIZE}])


def unpack(bundle: bytes, limit: int = MAX_INFLATED) -> list[Entry]:
    """The files of a bundle as the host unpacks it (xz, then the archive); at most `limit` bytes inflated."""
    engine = lzma.LZMADecompressor(lzma.FORMAT_XZ)
    try:
        archive = engine.decompress(bundle, limit + 1)
    except lzma.LZMAError as err:
        raise WireError(f"not an xz stream: {err}") from None
    if len(archive) > limit or not engine.eof:
        raise WireError(f"an xz stream that is truncated or inflates past {limit:,} bytes")
    if engine.unused_data:
        raise WireError("bytes after the xz stream")
    return parse(archive)


# --- the two delivery forms ----------------------------------------------------------------------------------
def header_comment(digest: str, form: str, files: int, script: str) -> str:
    """A comment line naming what the opaque bundle holds, so the data explains itself on the host (for readers:
    no program reads it back)."""
    return f"# hardened-vps first boot {digest[:16]} ({form}): unpacks {files} files, then runs {script}."


#: PyYAML's LibYAML emitter where the wheel has it (about 25 times faster on a bundle's long base64 line), its
#: pure-Python one otherwise. They emit the same text for what the product renders (a test compares them), so the
#: user data does not depend on the machine that runs `pulumi up`. Reading stays pure-Python, as cloud-init reads.
SAFE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def cloud_config_text(header: str, document: Mapping[str, object]) -> str:
    """The cloud-config form: its first line, the header comment, then the document."""
    return f"{CLOUD_CONFIG_LINE}\n{header}\n" + yaml.dump(dict(document), Dumper=SAFE_DUMPER, sort_keys=False,
                                                           width=100_000)


def launch_script_text(header: str, bundle: bytes, before: Sequence[str], after: Sequence[str]) -> str:
    """The launch-script form: its first line, the header comment, `before`, the bundle's lines, `after`."""
    return "\n".join([LAUNCH_SCRIPT_LINE, header, *before, *launch_script_lines(bundle), *after]) + "\n"


def form_of(text: str) -> str | None:
    """Which form user data is, by its first line as cloud-init tells them apart (None: neither)."""
    if text.startswith(CLOUD_CONFIG_LINE):
        return "cloud-config"
    return "launch-script" if text.startswith("#!") else None


def host_unpack_argv(root: str = "/") -> list[str]:
    """The command that unpacks the bundle at BUNDLE_PATH under `root` ("/" on a host)."""
    return ["python3", "-c", HOST_UNPACK, BUNDLE_PATH, root]


def cloud_config_parts(bundle: bytes) -> tuple[dict[str, str], list[str]]:
    """The write_files entry that drops the bundle (root's: cloud-init's default owner), and the runcmd command
    that unpacks it."""
    entry = {"path": BUNDLE_PATH, "encoding": "b64", "permissions": "0600",
             "content": base64.b64encode(bundle).decode()}
    return entry, host_unpack_argv()


def launch_script_lines(bundle: bytes) -> list[str]:
    """POSIX sh lines that write the bundle from a base64 heredoc and unpack it.

    The payload is one line: no newline every 76 characters, and no short last line that the policy pack's
    secrets scan could take for a credential (a lone 40-character base64 line has an AWS secret key's shape).
    """
    payload = base64.b64encode(bundle).decode()
    return [f"install -d -m 0700 {shlex.quote(str(PurePosixPath(BUNDLE_PATH).parent))}",
            f"base64 -d >{BUNDLE_PATH} <<'{PAYLOAD_END}'",
            payload,
            PAYLOAD_END,
            shlex.join(host_unpack_argv())]


def cloud_config_document(text: str) -> dict[str, object]:
    """The document of a cloud-config form (WireError when the text is not one)."""
    if form_of(text) != "cloud-config":
        raise WireError(f"a cloud-config form starts with {CLOUD_CONFIG_LINE}")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise WireError(f"not YAML: {err}") from None
    if not isinstance(document, dict):
        raise WireError("a cloud-config form is a YAML mapping")
    return document


def bundle_of_cloud_config(text: str) -> bytes:
    """The bundle a cloud-config form carries (WireError when it carries none, or more than one)."""
    document = cloud_config_document(text)
    files = document.get("write_files")
    entries = [e for e in files if isinstance(e, dict) and e.get("path") == BUNDLE_PATH] \
        if isinstance(files, list) else []
    if len(entries) != 1 or entries[0].get("encoding") != "b64" or not isinstance(entries[0].get("content"), str):
        raise WireError(f"a cloud-config form writes {BUNDLE_PATH} once, base64-encoded text")
    return _b64decode(entries[0]["content"])  # never str() of a node: YAML aliases can make it exponential


def bundle_of_launch_script(text: str) -> bytes:
    """The bundle a launch-script form carries in its heredoc (WireError when there is none)."""
    opener = f"<<'{PAYLOAD_END}'\n"
    if text.count(opener) != 1 or f"\n{PAYLOAD_END}\n" not in text.split(opener, 1)[1]:
        raise WireError(f"a launch-script form has one heredoc ending in {PAYLOAD_END}")
    payload = text.split(opener, 1)[1].split(f"\n{PAYLOAD_END}\n", 1)[0]
    return _b64decode("".join(payload.split()))


def bundle_of_user_data(text: str) -> bytes:
    """The bundle either form carries, told apart by its first line (WireError: neither form, or no bundle)."""
    form = form_of(text)
    if form == "cloud-config":
        return bundle_of_cloud_config(text)
    if form == "launch-script":
        return bundle_of_launch_script(text)
    raise WireError(f"user data that starts with neither {CLOUD_CONFIG_LINE} nor #!")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("a payload that is not base64") from None


# --- the gzip and base64 encoding of the cloud-config form (a metadata service that wants base64) ------------
@functools.lru_cache(maxsize=64)
def gzip_base64(cloud_config: str) -> str:
    """base64 of the gzipped cloud-config (cloud-init unpacks gzip user data) by zopfli: the same format as
    zlib's level 9, 2% (200 bytes) smaller on the examples, reproducible. Cached: one run sizes and sends it."""
    import zopfli.gzip  # only a stack whose vendor wants this form loads it

    return base64.b64encode(zopfli.gzip.compress(cloud_config.encode())).decode()


def cloud_config_of_gzip_base64(text: str, limit: int = MAX_INFLATED) -> str:
    """The text gzip and base64 user data carries, as cloud-init reads it: base64 of gzip (every member, as
    cloud-init's gzip reader joins them) or of plain text. WireError when it is neither."""
    raw = _b64decode(text.strip())
    if raw[:2] != b"\x1f\x8b":
        data = raw
    else:
        out, rest = bytearray(), raw
        while rest:
            engine = zlib.decompressobj(zlib.MAX_WBITS | 16)
            try:
                out += engine.decompress(rest, limit + 1 - len(out))
            except zlib.error:
                raise WireError("gzip data that does not decompress") from None
            if len(out) > limit or engine.unconsumed_tail:
                raise WireError(f"gzip data that inflates past {limit:,} bytes")
            if not engine.eof:
                raise WireError("gzip data that is truncated")
            rest = engine.unused_data
        data = bytes(out)
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise WireError("user data that is not UTF-8 text") from None
