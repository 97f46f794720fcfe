"""The first-boot wire format: how the files travel in user data and how the host unpacks them.

One module renders and parses it, so the renderer, the host's unpack step, the policy pack and the tests
agree on every byte. The bundle is an xz stream of a small archive:

    hvps-bundle 1\\n
    <mode, 4 octal digits> <size in bytes> <absolute path>\\n<content>   (once per file, in order)

A tar header is 512 bytes and every member is padded to 512: for about 40 small files that framing costs
more than a kilobyte after compression, against the 16 KiB user-data limit of Linode and Lightsail. The
host unpacks with python3 (cloud-init's own interpreter, so on every image that runs user data) and its
lzma module: no dependency on the `xz` tool, which a minimal image may lack.
"""

from __future__ import annotations

import base64
import lzma
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

MAGIC = b"hvps-bundle 1\n"
BUNDLE_PATH = "/var/lib/hvps/first-boot.bundle"
#: Ends the launch script's base64 heredoc. The '.' is in neither base64 alphabet, so nothing reading the
#: script (the policy pack's secrets scan decodes base64 blocks, URL-safe included) takes it for payload.
PAYLOAD_END = "HVPS.EOF"
_ENTRY_HEADER = re.compile(rb"([0-7]{4}) (0|[1-9][0-9]{0,9}) (/[^\n\0]*)\n")

#: The host's unpack step (python3 -c, argv: bundle, root directory). It fits a single-quoted sh word (no `'`)
#: and is short: it travels uncompressed. Each file is created anew (a file or symlink at the path is removed
#: first, as tar does), never through a symlink, with its exact mode whatever the umask (missing directories
#: 0755 under cloud-init's umask, as tar makes them); created by root, so owned by root:root. Anything malformed
#: stops it before the provisioner runs. `root` + path: "/" + "/etc/x" is "//etc/x", the same file.
HOST_UNPACK = (
    'import lzma,os,sys\n'
    'd=lzma.open(sys.argv[1]).read();i=14\n'
    'if d[:i]!=b"hvps-bundle 1\\n":sys.exit("hvps: not a bundle")\n'
    'while i<len(d):\n'
    ' j=d.index(b"\\n",i);o,n,p=d[i:j].decode().split(" ",2);k=j+1+int(n)\n'
    ' if not n.isdigit() or k>len(d) or ".." in p.split("/") or p[0]!="/":sys.exit("hvps: bad entry "+p)\n'
    ' f=sys.argv[2]+p;os.makedirs(os.path.dirname(f),493,1)\n'
    ' if os.path.lexists(f):os.unlink(f)\n'
    ' h=os.open(f,os.O_WRONLY|os.O_CREAT|os.O_EXCL|os.O_NOFOLLOW,384);os.fchmod(h,int(o,8))\n'
    ' with open(h,"wb") as w:w.write(d[j+1:k])\n'
    ' i=k\n'
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
    """The archive (uncompressed) of these files, in this order."""
    out = bytearray(MAGIC)
    for e in entries:
        _check_path(e.path)
        if not 0 <= e.mode <= 0o7777:
            raise WireError(f"{e.path}: mode {e.mode:o} is not a file mode")
        out += f"{e.mode:04o} {len(e.content)} {e.path}\n".encode() + e.content
    return bytes(out)


def parse(archive: bytes) -> list[Entry]:
    """The files of an uncompressed archive, strictly: WireError on anything pack() would not have made."""
    if not archive.startswith(MAGIC):
        raise WireError("not a first-boot bundle (no hvps-bundle header)")
    entries: list[Entry] = []
    i = len(MAGIC)
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


def compress(archive: bytes) -> bytes:
    """xz at its strongest setting, tuned for text (pb=0: no 4-byte alignment to exploit): reproducible (no
    timestamp), and python3's lzma reads it on the host."""
    return lzma.compress(archive, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                         filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "pb": 0}])


def unpack(bundle: bytes) -> list[Entry]:
    """The files of a bundle as the host unpacks it (xz, then the archive)."""
    try:
        archive = lzma.decompress(bundle, format=lzma.FORMAT_XZ)
    except lzma.LZMAError as err:
        raise WireError(f"not an xz stream: {err}") from None
    return parse(archive)


# --- the two delivery forms ----------------------------------------------------------------------------------
def host_unpack_argv(root: str = "/") -> list[str]:
    """The command that unpacks the bundle at BUNDLE_PATH under `root` ("/" on a host)."""
    return ["python3", "-c", HOST_UNPACK, BUNDLE_PATH, root]


def cloud_config_parts(bundle: bytes) -> tuple[dict[str, str], list[str]]:
    """The write_files entry that drops the bundle, and the runcmd command that unpacks it."""
    entry = {"path": BUNDLE_PATH, "encoding": "b64", "permissions": "0600", "owner": "root:root",
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


def bundle_of_cloud_config(text: str) -> bytes:
    """The bundle a cloud-config form carries (WireError when it carries none, or more than one)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise WireError(f"not YAML: {err}") from None
    entries = [e for e in (document.get("write_files") or []) if isinstance(e, dict)
               and e.get("path") == BUNDLE_PATH] if isinstance(document, dict) else []
    if len(entries) != 1 or entries[0].get("encoding") != "b64":
        raise WireError(f"a cloud-config form writes {BUNDLE_PATH} once, base64-encoded")
    return base64.b64decode(str(entries[0].get("content", "")), validate=True)


def bundle_of_launch_script(text: str) -> bytes:
    """The bundle a launch-script form carries in its heredoc (WireError when there is none)."""
    opener = f"<<'{PAYLOAD_END}'\n"
    if text.count(opener) != 1 or f"\n{PAYLOAD_END}\n" not in text.split(opener, 1)[1]:
        raise WireError(f"a launch-script form has one heredoc ending in {PAYLOAD_END}")
    payload = text.split(opener, 1)[1].split(f"\n{PAYLOAD_END}\n", 1)[0]
    return base64.b64decode("".join(payload.split()), validate=True)
