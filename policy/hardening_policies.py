"""CrossGuard policies: the hardening invariants of a hardened-vps stack, checked at `pulumi preview` time.

Every policy is a plain object whose `validate` can be called directly (tests do); only `policy/__main__.py`
builds the `PolicyPack`, which starts a gRPC server and blocks.

Production: a stack is production when its config says `hardened-vps:production: true`. The Pulumi CLI hands a
policy pack the stack's whole config (the `PULUMI_CONFIG` environment of the analyzer process, which
pulumi_policy loads into `pulumi.Config` before each analysis), so the policies read the same key the program
reads. A policy config `{"<policy>": {"production": true}}` (`--policy-pack-config`) forces the production
rules on whatever the stack says; it cannot turn them off.

Resources are matched by type token; properties use the engine's camelCase names. Resource policies see a
resource's inputs before it is created; the stack policies see the planned outputs and the property
dependencies, which name the server a firewall points at even while its id is still unknown in a preview.

The pack judges effect, not spelling: SSH exposure by the public address space the CIDRs cover, first-boot data
by byte-for-byte equality with what components/firstboot renders for this stack's own config (parsed by
components.config, rendered by the project's renderer: called, not copied, so the check follows both), the one
free member, the SSH host key, held to the shape of the key the program makes; resource types against the
allowlist of what the product builds, and the secrets scan fails closed on anything it cannot read to the end.
A check that needs the stack's config and cannot read it fails closed.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import email
import hashlib
import ipaddress
import lzma
import re
import tarfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from components import catalog, firstboot
from components.config import CONFIG_KEYS, PROJECT, PROJECT_DIR, ConfigError, HostSpec, parse_host_spec
from components.firstboot import HOST_KEY_PATH, PROVISION_SCRIPT, wire

PACK_NAME = "hardened-vps-guardrails"
PACK_DESCRIPTION = ("Refuses changes that weaken a hardened-vps host: firewall, open ports, SSH exposure, "
                    "first-boot data and its secrets, production backups and protection, catalog sizes.")

# --- resource types ------------------------------------------------------------------------------------------
DROPLET = "digitalocean:index/droplet:Droplet"
DO_FIREWALL = "digitalocean:index/firewall:Firewall"
LINODE_INSTANCE = "linode:index/instance:Instance"
LINODE_FIREWALL = "linode:index/firewall:Firewall"
LIGHTSAIL_INSTANCE = "aws:lightsail/instance:Instance"
LIGHTSAIL_PORTS = "aws:lightsail/instancePublicPorts:InstancePublicPorts"

SERVER_VENDORS: Mapping[str, str] = {DROPLET: "digitalocean", LINODE_INSTANCE: "linode",
                                     LIGHTSAIL_INSTANCE: "lightsail"}
FIREWALL_TYPES = (DO_FIREWALL, LINODE_FIREWALL, LIGHTSAIL_PORTS)
_KIND = {DROPLET: "Droplet", DO_FIREWALL: "DigitalOcean Firewall", LINODE_INSTANCE: "Linode Instance",
         LINODE_FIREWALL: "Linode Firewall", LIGHTSAIL_INSTANCE: "Lightsail Instance",
         LIGHTSAIL_PORTS: "Lightsail InstancePublicPorts"}
#: The input holding the plan slug, per server type.
SIZE_INPUT: Mapping[str, str] = {DROPLET: "size", LINODE_INSTANCE: "type", LIGHTSAIL_INSTANCE: "bundleId"}

#: The only ports a host may open to anyone (TCP): SSH, HTTP, HTTPS.
ALLOWED_TCP_PORTS = (22, 80, 443)
SSH_PORT = 22
ALL_PORTS = (0, 65535)


def describe(resource_type: str, name: str) -> str:
    return f"{_KIND.get(resource_type, resource_type)} '{name}'"


# --- production ----------------------------------------------------------------------------------------------
PRODUCTION_KEY = "production"
PRODUCTION_SCHEMA = PolicyConfigSchema(properties={PRODUCTION_KEY: {
    "type": "boolean", "default": False,
    "description": "Apply the production rules even if the stack does not set hardened-vps:production: true."}})


def stack_declares_production() -> bool:
    """`hardened-vps:production` of the stack under analysis (the CLI passes the stack config to the pack)."""
    raw = pulumi.Config(PROJECT).get(PRODUCTION_KEY)
    return raw is not None and str(raw).strip().lower() == "true"


def is_production(policy_config: Mapping[str, Any]) -> bool:
    return policy_config.get(PRODUCTION_KEY) is True or stack_declares_production()


# --- small helpers for engine property values ----------------------------------------------------------------
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def plain(value: Any) -> Any:
    """Unwrap a secret kept in wire format (mock inputs; the policy runtime unwraps them already)."""
    if isinstance(value, Mapping) and _SECRET_SIG in value and "value" in value:
        return value["value"]
    return value


def seq(value: Any) -> list[Any]:
    """A list property as a list (None and unknown-free proxies included); a lone string is not a list."""
    value = plain(value)
    if value is None or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [plain(v) for v in value]


def text(value: Any) -> str:
    value = plain(value)
    return "" if value is None else str(value)


def as_int(value: Any) -> int | None:
    try:
        return int(float(plain(value)))
    except (TypeError, ValueError):
        return None


# --- inbound rules, one model for the three vendors ----------------------------------------------------------
@dataclass(frozen=True)
class Opening:
    """One inbound allowance: protocol ('tcp', 'udp', 'icmp', 'all', ...), port range (None: no ports, e.g.
    ICMP), the sources it admits and where it is written (for messages)."""

    protocol: str
    ports: tuple[int, int] | None
    sources: tuple[str, ...]
    where: str

    def includes_port(self, port: int) -> bool:
        return self.protocol in ("tcp", "all") and self.ports is not None and self.ports[0] <= port <= self.ports[1]

    def describe_ports(self) -> str:
        if self.ports is None:
            return self.protocol.upper()
        lo, hi = self.ports
        if lo <= 1 and hi >= 65535:
            return "every port of every protocol" if self.protocol == "all" else f"every {self.protocol.upper()} port"
        span = str(lo) if lo == hi else f"{lo}-{hi}"
        return f"port {span} of every protocol" if self.protocol == "all" else f"{self.protocol.upper()} port {span}"

    @property
    def allowed(self) -> bool:
        return (self.protocol == "tcp" and self.ports is not None and self.ports[0] == self.ports[1]
                and self.ports[0] in ALLOWED_TCP_PORTS)


def _port_span(spec: str) -> tuple[int, int] | None:
    """'22' -> (22, 22); '80-443' -> (80, 443); '' / 'all' -> every port; garbage -> every port (fail closed)."""
    spec = spec.strip().lower()
    if spec in ("", "all", "*"):
        return ALL_PORTS
    lo, _, hi = spec.partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        return ALL_PORTS
    return (min(first, last), max(first, last))


def inbound_openings(resource_type: str, props: Mapping[str, Any]) -> list[Opening]:
    """What a vendor firewall lets in, normalised. Unknown resource types open nothing."""
    out: list[Opening] = []
    if resource_type == DO_FIREWALL:
        for i, rule in enumerate(seq(props.get("inboundRules"))):
            proto = text(rule.get("protocol")).lower() or "tcp"
            addresses = [text(s) for s in seq(rule.get("sourceAddresses"))]
            for key in ("sourceDropletIds", "sourceTags", "sourceLoadBalancerUids", "sourceKubernetesIds"):
                addresses += [f"{key}:{text(s)}" for s in seq(rule.get(key))]
            ports = None if proto == "icmp" else _port_span(text(rule.get("portRange")))
            out.append(Opening(proto, ports, tuple(addresses), f"inboundRules[{i}]"))
    elif resource_type == LINODE_FIREWALL:
        if plain(props.get("disabled")) is True:
            out.append(Opening("all", ALL_PORTS, ("0.0.0.0/0", "::/0"),
                               "disabled: true (Linode enforces none of its rules: admits everything)"))
        policy = text(props.get("inboundPolicy")).upper()
        if policy != "DROP":
            out.append(Opening("all", ALL_PORTS, ("0.0.0.0/0", "::/0"),
                               f"inboundPolicy {policy or '(unset)'} (admits whatever no rule drops)"))
        for i, rule in enumerate(seq(props.get("inbounds"))):
            if text(rule.get("action")).upper() != "ACCEPT":
                continue
            proto = text(rule.get("protocol")).lower() or "tcp"
            sources = tuple(text(s) for s in seq(rule.get("ipv4s")) + seq(rule.get("ipv6s")))
            if proto not in ("tcp", "udp"):
                out.append(Opening(proto, None, sources, f"inbounds[{i}]"))
                continue
            for part in (text(rule.get("ports")) or "all").split(","):
                out.append(Opening(proto, _port_span(part), sources, f"inbounds[{i}]"))
    elif resource_type == LIGHTSAIL_PORTS:
        for i, info in enumerate(seq(props.get("portInfos"))):
            proto = text(info.get("protocol")).lower() or "tcp"
            sources = tuple(text(s) for s in seq(info.get("cidrs")) + seq(info.get("ipv6Cidrs"))
                            + [f"alias:{text(a)}" for a in seq(info.get("cidrListAliases"))])
            lo, hi = as_int(info.get("fromPort")), as_int(info.get("toPort"))
            if proto in ("icmp", "icmpv6"):
                ports = None
            elif proto == "all" or lo is None or hi is None:
                ports = ALL_PORTS
            else:
                ports = (min(lo, hi), max(lo, hi))
            out.append(Opening(proto, ports, sources, f"portInfos[{i}]"))
    return out


# Address space no packet from the internet comes from (RFC 6890 special-purpose blocks: this network,
# private, shared, loopback, link-local, documentation, benchmarking, multicast, reserved). SSH admitted from
# there exposes nothing; every other IPv4 address counts. IPv6: only global unicast (2000::/3) is routed.
_NOT_INTERNET_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4"))
_INTERNET_V6 = ipaddress.IPv6Network("2000::/3")
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4 addresses written as IPv6: counted as the IPv4 they are
PUBLIC_V4 = 2**32 - sum(n.num_addresses for n in _NOT_INTERNET_V4)
PUBLIC_V6 = _INTERNET_V6.num_addresses
#: "Restricted" SSH admits at most a /8 of the public IPv4 space and a /32 of the public IPv6 space: more is
#: a large part of the internet (a /8 is 1/224 of it), however the CIDRs are spelled or split.
MAX_SSH_V4 = 2**(32 - 8)
MAX_SSH_V6 = 2**(128 - 32)
SSH_LIMIT = "more than a /8 of IPv4 or a /32 of IPv6 is not restricted"


def _overlap(net: Any, block: Any) -> int:
    """Addresses two CIDRs share: one holds the other or they are disjoint."""
    if net.subnet_of(block):
        return int(net.num_addresses)
    return int(block.num_addresses) if block.subnet_of(net) else 0


def public_addresses(sources: Sequence[str]) -> dict[int, int]:
    """How many public (internet-routed) addresses `sources` admit, per IP version, overlaps counted once.
    Non-CIDR sources (tags, droplet ids, aliases) admit none; so does a source that is not an address."""
    nets: dict[int, list[Any]] = {4: [], 6: []}
    for source in sources:
        try:
            net = ipaddress.ip_network(source.strip(), strict=False)
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_V4_MAPPED):
            net = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))  # ::ffff:a.b.c.d
        nets[net.version].append(net)
    v4 = sum(n.num_addresses - sum(_overlap(n, b) for b in _NOT_INTERNET_V4)
             for n in ipaddress.collapse_addresses(nets[4]))
    v6 = sum(_overlap(n, _INTERNET_V6) for n in ipaddress.collapse_addresses(nets[6]))
    return {4: int(v4), 6: int(v6)}


def wide_exposure(sources: Sequence[str]) -> list[str]:
    """The IP versions `sources` open too widely, described ('0.0.0.0/0' when all of that internet)."""
    counts = public_addresses(sources)
    out = []
    for version, limit, total, anywhere in ((4, MAX_SSH_V4, PUBLIC_V4, "0.0.0.0/0"),
                                            (6, MAX_SSH_V6, PUBLIC_V6, "::/0")):
        if counts[version] > limit:
            share = counts[version] / total
            out.append(anywhere if counts[version] >= total else f"{share:.2%} of the public IPv{version} internet")
    return out


# --- first-boot data -----------------------------------------------------------------------------------------
_MAX_INFLATED = 16 * 1024 * 1024  # per decompression: user data is at most 64 KiB, so this is only a bomb guard
_MAX_INFLATED_TOTAL = 4 * _MAX_INFLATED
_MAX_DEPTH = 8


@dataclass(frozen=True)
class RawFirstBoot:
    """A server's first-boot data as the vendor receives it, and where it sits in the resource's inputs."""

    data: str
    where: str


def raw_first_boot(resource_type: str, props: Mapping[str, Any]) -> RawFirstBoot | None:
    if resource_type in (DROPLET, LIGHTSAIL_INSTANCE):
        data = text(props.get("userData"))
        return RawFirstBoot(data, "userData") if data.strip() else None
    if resource_type == LINODE_INSTANCE:
        for i, meta in enumerate(seq(props.get("metadatas"))):
            data = text(plain(meta).get("userData")) if isinstance(plain(meta), Mapping) else ""
            if data.strip():
                return RawFirstBoot(data, f"metadatas[{i}].userData")
    return None


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


def unpack(data: bytes, budget: int = _MAX_INFLATED) -> Unpacked:
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


def _inflate(data: bytes) -> bytes | None:
    """gzip data decompressed to the end, or None (not gzip, over the limit, corrupt)."""
    result = unpack(data) if compression_of(data) == "gzip" else None
    return result.data if result else None


@dataclass(frozen=True)
class TarEntry:
    """A regular file of an archive (tar, or a first-boot bundle), in archive order."""

    name: str
    mode: int
    content: bytes


def _tar_entries(data: bytes) -> list[TarEntry] | None:
    """The regular files of a ustar/GNU tar (None when `data` is not one)."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return None
    entries: list[TarEntry] = []
    try:
        with tarfile.open(fileobj=BytesIO(data), mode="r:") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.size <= _MAX_INFLATED:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        entries.append(TarEntry(member.name, member.mode, handle.read()))
    except (tarfile.TarError, EOFError):
        return None
    return entries


def _bundle_entries(data: bytes) -> list[TarEntry] | None:
    """The files of a first-boot bundle archive, read by the wire format's own parser (None: not one).
    WireError when it starts like one but is malformed: the caller records it as unreadable."""
    if not wire.is_archive(data):
        return None
    return [TarEntry(e.path.lstrip("/"), e.mode, e.content) for e in wire.parse(data)]


@dataclass(frozen=True)
class FirstBootCheck:
    """What a server's first-boot data is: this project's (form, digest, bundled files) or why not."""

    form: str | None = None
    digest: str | None = None
    files: tuple[str, ...] = ()
    problem: str | None = None


#: The form each vendor needs, and why (for the message when the other one is passed).
FORM_OF: Mapping[str, str] = {DROPLET: "cloud-config", LINODE_INSTANCE: "cloud-config",
                              LIGHTSAIL_INSTANCE: "launch-script"}
_WRONG_FORM_WHY: Mapping[str, str] = {
    "cloud-config": "this vendor's cloud-init needs #cloud-config",
    "launch-script": "Lightsail runs user data as a shell script after its own, so #cloud-config is ignored"}
def render_as_vendor(resource_type: str, first_boot: firstboot.FirstBoot, form: str | None = None) -> str:
    """`first_boot` rendered by the project's own renderer exactly as the host component passes it to this
    vendor (Linode: the metadata encoding of the cloud-config)."""
    form = form or FORM_OF[resource_type]
    if form == "launch-script":
        return firstboot.render_launch_script(first_boot)
    cloud_config = firstboot.render_cloud_config(first_boot)
    return firstboot.linode_user_data(cloud_config) if resource_type == LINODE_INSTANCE else cloud_config


# --- the stack's own config, as the CLI hands it to the pack -------------------------------------------------
class StackConfigError(ValueError):
    """The pack cannot tell what this stack's first boot or deploy must be: the checks that need it fail closed."""


#: Keys that never shape first boot: the app's secret environment and the deploy key travel over SSH after boot.
#: The pack may see them decrypted, as a placeholder or not at all, so the first-boot check leaves them out.
NOT_IN_FIRST_BOOT = frozenset(k.name for k in CONFIG_KEYS if k.secret)


def stack_config() -> dict[str, str]:
    """Every `hardened-vps:*` value of the stack under analysis, as the program reads them (key without namespace)."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix):]: str(value) for key, value in pulumi.runtime.config.CONFIG.get().items()
            if key.startswith(prefix)}


def stack_spec(leave_out: Collection[str] = ()) -> HostSpec:
    """The HostSpec the program builds for the stack under analysis: its config (PULUMI_CONFIG) through the
    program's own validation, for the stack the CLI names (PULUMI_STACK: the default host name follows it).
    StackConfigError when there is no config, no stack name or a config the program itself refuses."""
    raw = {k: v for k, v in stack_config().items() if k not in leave_out}
    if not raw:
        raise StackConfigError(f"the pack sees no {PROJECT}:* config for this stack (the CLI passes it as "
                               "PULUMI_CONFIG)")
    if pulumi.get_project() != PROJECT:
        raise StackConfigError(f"the pack does not know which {PROJECT} stack it analyses (the CLI names it in "
                               "PULUMI_PROJECT and PULUMI_STACK)")
    try:
        return parse_host_spec(raw, stack=pulumi.get_stack(), base_dir=PROJECT_DIR)
    except ConfigError as err:
        raise StackConfigError(f"the stack's config is invalid ({'; '.join(err.problems)})") from None


# --- the SSH host key: the one bundled file the config does not determine --------------------------------------
_KEY_BEGIN, _KEY_END = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
_KEY_BODY_LINE = re.compile(r"[A-Za-z0-9+/]{1,76}={0,2}")
_ED25519 = b"ssh-ed25519"


class _Wire:
    """Reads the big-endian uint32 and length-prefixed strings of the SSH wire format."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise ValueError("truncated")
        self.at += n
        return self.data[self.at - n:self.at]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    @property
    def rest(self) -> bytes:
        return self.data[self.at:]


def host_key_problem(text: str) -> str | None:
    """Why `text` is not exactly one unencrypted OpenSSH ed25519 private key without comment, as the program's
    tls.PrivateKey makes it (None when it is). Layout: OpenSSH PROTOCOL.key (openssh-key-v1: cipher and KDF
    "none", one key, then the private section: two check integers, key type, public key, 64-byte private key
    ending in the public key, comment, padding 1, 2, 3, ...). The check integers are not compared: they only
    detect a wrong passphrase, and a key whose integers differ is refused by provision.sh (as the size check's
    stand-in is). Messages describe, never quote: the content is a secret."""
    lines = text.split("\n")
    body = lines[1:-2]
    if len(lines) < 4 or lines[0] != _KEY_BEGIN or lines[-2:] != [_KEY_END, ""] or any("-" in x for x in body):
        return "is not one PEM block 'OPENSSH PRIVATE KEY' ending in a newline"
    if not all(_KEY_BODY_LINE.fullmatch(line) for line in body) or any(len(x) != len(body[0]) for x in body[:-1]):
        return "has a body that is not base64 wrapped at one width"
    try:
        blob = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return "has a body that is not base64"
    wire = _Wire(blob)
    try:
        if wire.take(15) != b"openssh-key-v1\0":
            return "is not an openssh-key-v1 key"
        cipher, kdf, kdf_options, count = wire.string(), wire.string(), wire.string(), wire.uint32()
        if cipher != b"none" or kdf != b"none" or kdf_options:
            return "is encrypted (its cipher is not none): provision.sh cannot install it unattended"
        if count != 1:
            return f"holds {count} keys, not one"
        public = _Wire(wire.string())
        if public.string() != _ED25519:
            return "is not an ed25519 key"
        point = public.string()
        private = _Wire(wire.string())
        if len(point) != 32 or public.rest or wire.rest:
            return "has a malformed public key or bytes after the key"
        if len(private.data) % 8:
            return "has a private section that is not padded to whole blocks"
        private.take(8)  # the two check integers
        if private.string() != _ED25519 or private.string() != point:
            return "has a private section that is not the ed25519 key its public half names"
        secret = private.string()
        if len(secret) != 64 or secret[32:] != point:
            return "has a private key that is not 64 bytes ending in its public key"
        if private.string():
            return "has a comment (the program's keys have none)"
        if len(private.rest) >= 8 or private.rest != bytes(range(1, len(private.rest) + 1)):
            return "has padding other than 1, 2, 3, ..."
    except ValueError:
        return "is truncated"
    return None


# --- first-boot data: exactly what components/firstboot renders for this stack -------------------------------
def bundle_difference(entries: Sequence[TarEntry], expected: firstboot.FirstBoot) -> str | None:
    """How a bundle's files differ from the render for this stack: extra, missing, changed (by line number,
    never content) or with another mode; None when they are the same files, contents and modes in order."""
    want = {f.path.lstrip("/"): f for f in expected.files}
    names = [e.name for e in entries]
    extra = [n for n in names if n not in want] or sorted({n for n in names if names.count(n) > 1})
    if extra:
        return "it holds files the render does not: " + ", ".join("/" + n for n in extra)
    missing = [p for p in want if p not in names]
    if missing:
        return "it lacks files the render holds: " + ", ".join("/" + n for n in missing)
    got = {e.name: e for e in entries}
    for name, f in want.items():
        entry = got[name]
        if entry.content != f.content.encode():
            content = entry.content.decode(errors="replace")
            return f"/{name} differs from its template's render (first at {_first_difference(f.content, content)})"
        if entry.mode != int(f.mode, 8):
            return f"/{name} has mode {entry.mode:04o}, the render {f.mode}"
    if names != list(want):
        return "its files are in another order than the render's"
    return None


def _first_difference(expected: str, actual: str) -> str:
    """Where two renders part, as a line number (never the content: it may hold a secret)."""
    for lineno, (want, got) in enumerate(zip(expected.splitlines(), actual.splitlines(), strict=False), 1):
        if want != got:
            return f"line {lineno}"
    return f"the end (line {min(len(expected.splitlines()), len(actual.splitlines())) + 1})"


_HOST_KEY_NAME = HOST_KEY_PATH.lstrip("/")


def check_first_boot(resource_type: str, raw: RawFirstBoot, spec: HostSpec) -> FirstBootCheck:
    """This stack's first boot, exactly: the data must equal, byte for byte, what components/firstboot renders for
    `spec` (the stack's own config) with the bundled host key, the one member the config does not determine,
    which must be a lone unencrypted OpenSSH ed25519 private key. So a changed template, an added file (an
    sshd drop-in sorting first, an authorized_keys), an edit around the bundle or another stack's data all
    differ; the bundle is compared file by file first, to say where."""
    data = raw.data
    try:
        text_ = wire.cloud_config_of_linode_metadata(data) if resource_type == LINODE_INSTANCE else data
    except wire.WireError as err:
        return FirstBootCheck(problem=f"{raw.where} is not base64 of (gzipped) cloud-config ({err})")
    try:
        entries = [TarEntry(e.path.lstrip("/"), e.mode, e.content)
                   for e in wire.unpack(wire.bundle_of_user_data(text_))]
    except wire.WireError as err:
        return FirstBootCheck(problem=f"{raw.where} carries no first-boot bundle with {PROVISION_SCRIPT} ({err}), "
                                      "so it was not rendered by components/firstboot")
    if PROVISION_SCRIPT.lstrip("/") not in (e.name for e in entries):
        return FirstBootCheck(problem=f"the bundle in {raw.where} lacks {PROVISION_SCRIPT}, so it was not rendered "
                                      "by components/firstboot")
    files = tuple(e.name for e in entries)
    keys = [e for e in entries if e.name == _HOST_KEY_NAME]
    if len(keys) != 1:
        return FirstBootCheck(files=files, problem=f"the bundle in {raw.where} holds {len(keys)} files at "
                                                   f"{HOST_KEY_PATH}; the product bundles exactly one host key")
    try:
        host_key = keys[0].content.decode()
    except UnicodeDecodeError:
        host_key = "\0"
    key_problem = host_key_problem(host_key)
    if key_problem:
        return FirstBootCheck(files=files, problem=(
            f"the bundled host key {HOST_KEY_PATH} {key_problem}; it must be exactly one unencrypted OpenSSH "
            "ed25519 private key, as the program's tls.PrivateKey makes it"))
    expected = firstboot.describe_first_boot(spec, host_key=host_key)
    digest = expected.digest[:16]
    difference = bundle_difference(entries, expected)
    if difference:
        return FirstBootCheck(FORM_OF[resource_type], digest, files, problem=(
            f"the bundle in {raw.where} is not what components/firstboot renders for this stack's config: "
            f"{difference}"))
    rendered = render_as_vendor(resource_type, expected)
    if data == rendered:
        return FirstBootCheck(FORM_OF[resource_type], digest, files)
    for form in {*FORM_OF.values()} - {FORM_OF[resource_type]}:
        if data == render_as_vendor(resource_type, expected, form):
            return FirstBootCheck(form, digest, files, problem=(
                f"{raw.where} is the {form} form; {_WRONG_FORM_WHY[FORM_OF[resource_type]]}"))
    where = _first_difference(rendered if resource_type != LINODE_INSTANCE else
                              firstboot.render_cloud_config(expected), text_)
    return FirstBootCheck(FORM_OF[resource_type], digest, files, problem=(
        f"{raw.where} differs from a fresh render of this stack's first boot (first at {where} of the "
        f"{FORM_OF[resource_type]} form), so something around the bundle was added, removed or changed"))


# --- secrets scan --------------------------------------------------------------------------------------------
# Every regex here runs in time linear in its input: quantifiers sit between fixed anchors (a keyword, "://",
# a prefix) or are possessive, so no input makes one backtrack over what it already read.
@dataclass(frozen=True)
class SecretPattern:
    what: str
    regex: re.Pattern[str]
    accept: Callable[[str], bool] | None = None  # a further test of the matched text

    def found_in(self, line: str) -> bool:
        if self.accept is None:
            return self.regex.search(line) is not None
        return any(self.accept(m.group(0)) for m in self.regex.finditer(line))


def _looks_like_aws_secret(token: str) -> bool:
    """40 base64 characters mixing upper and lower case with a digit, + or /: the shape of an AWS secret access
    key (30 random bytes). Hex (a SHA-1, a git commit) and words are not."""
    return (any(c.islower() for c in token) and any(c.isupper() for c in token)
            and any(c.isdigit() or c in "+/" for c in token))


#: The least specific pattern (any 40 base64 characters of that shape): checked last.
AWS_SECRET = SecretPattern("AWS secret access key",
                           re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])"),
                           _looks_like_aws_secret)
SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern("private key", re.compile(
        r"-{4,5} ?BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY|PuTTY-User-Key-File-\d{1,2}:|AGE-SECRET-KEY-1")),
    SecretPattern("DigitalOcean API token", re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b")),
    SecretPattern("GitHub token", re.compile(r"\b(?:gh[opsur]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22})")),
    SecretPattern("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20}")),
    SecretPattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    SecretPattern("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10}")),
    SecretPattern("Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16}")),
    SecretPattern("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    SecretPattern("bearer/basic credential", re.compile(r"(?i)\bauthorization\s*+[:=]\s*+[\"']?(?:bearer|basic|token)"
                                                       r"\s++[A-Za-z0-9._~+/=-]{8}")),
    SecretPattern("password in a URL", re.compile(r"://[^/\s:@'\"]++:[^/\s@'\"]++@[^\s/]")),
    SecretPattern("cloud-config password", re.compile(r"^\s*+(?:-\s+)?(?:password|plain_text_passwd)\s*+:\s*+[^\s#]")),
    # KEY=value / key: value with a credential-like name and a literal value (not $VAR, {{ x }}, a path, ...).
    SecretPattern("credential assignment", re.compile(
        r"(?i)(?<![a-z0-9])(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
        r"|secret[_-]?key|private[_-]?key|client[_-]?secret)\b[\"']?\s*+[:=]\s*+[\"']?"
        r"(?![$%<{/@]|\(|true\b|false\b|none\b|null\b|yes\b|no\b)[^\s\"'#;,]{8,}+"
        r"(?=[\"']?\s*+(?:$|[#;&|)]))")),  # the value ends the statement: "password: possession of ..." is prose
    AWS_SECRET,
)


@dataclass(frozen=True)
class SecretFinding:
    what: str
    where: str  # layer path, e.g. "userData > base64 > gzip > etc/hvps/app.env:3"
    unreadable: bool = False  # data the scan could not read to the end: refused, it may hide a secret

    def __str__(self) -> str:
        return f"{self.what} at {self.where}"


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


class _Expander:
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
        if depth > _MAX_DEPTH:
            self.unreadable.append((f"data encoded more than {_MAX_DEPTH} layers deep", where))
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
            for scalar in _yaml_strings(_yaml_document(value)):
                if scalar not in value:  # escaped or folded in the text: scan it as YAML reads it
                    self.textual(f"{where} > yaml string", scalar, depth + 1)

    def binary(self, where: str, data: bytes, depth: int, only_if_meaningful: bool = False) -> None:
        """Decompress, unpack or read `data` as text. With `only_if_meaningful` (a guess that some text was an
        encoding) bytes that are neither compressed, an archive nor text are dropped: a public key blob, a hash."""
        if not data:
            return
        fmt = compression_of(data)
        try:
            entries = None if fmt else _bundle_entries(data)
        except wire.WireError as err:
            self.unreadable.append((f"a first-boot bundle that does not parse ({err})", where))
            return
        if fmt is None and entries is None:
            entries = _tar_entries(data)
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
        if depth > _MAX_DEPTH:
            self.unreadable.append((f"data encoded more than {_MAX_DEPTH} layers deep", where))
            return
        if fmt is not None:
            budget = max(0, min(_MAX_INFLATED, _MAX_INFLATED_TOTAL - self.inflated))
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


def _yaml_document(value: str) -> Any:
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return None


def _yaml_strings(node: Any) -> Iterator[str]:
    """Every string scalar of a parsed YAML document (keys and values; bytes of !!binary as latin-1)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes):
            yield item.decode("latin-1")
        elif isinstance(item, Mapping):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item


def cloud_config_passwords(document: Any) -> list[str]:
    """Keys of a parsed cloud-config that set a plaintext password."""
    found: list[str] = []
    if not isinstance(document, Mapping):
        return found
    if document.get("password"):
        found.append("password")
    chpasswd = document.get("chpasswd")
    if isinstance(chpasswd, Mapping):
        if chpasswd.get("list"):
            found.append("chpasswd.list")
        for i, user in enumerate(chpasswd.get("users") or []):
            if isinstance(user, Mapping) and user.get("password") and str(user.get("type", "text")) == "text":
                found.append(f"chpasswd.users[{i}].password")
    for i, user in enumerate(document.get("users") or []):
        if isinstance(user, Mapping) and user.get("plain_text_passwd"):
            found.append(f"users[{i}].plain_text_passwd")
    return found


def _inside_member(where: str, archives: Sequence[tuple[str, list[TarEntry]]]) -> bool:
    """Whether a location lies inside a member of one of these archives (an archive nested in a bundled file)."""
    return any(where.startswith(f"{at} > {e.name} >") for at, entries in archives for e in entries)


def pinned_host_key_layer(expander: _Expander) -> str | None:
    """Where the one private key first boot carries on purpose sits, if it is there as the product puts it.

    That key is the SSH host key the deploy connections pin: made by the program and sent in user data the
    program marks secret (encrypted in state, masked in previews); on the host only root reaches the metadata
    service (nftables). Exempt is only the member at its path of the one top-level bundle (the archive with the
    provisioning script, itself not inside a bundled file), present once, whose content is exactly one unencrypted
    OpenSSH ed25519 key. The same path deeper down, a second bundle, a second member or another key shape: None,
    so the scan reports the private key like any other."""
    bundles = [(at, entries) for at, entries in expander.archives
               if not _inside_member(at, expander.archives) and any(e.name == PROVISION_SCRIPT.lstrip("/")
                                                                   for e in entries)]
    if len(bundles) != 1:
        return None
    at, entries = bundles[0]
    keys = [e for e in entries if e.name == _HOST_KEY_NAME]
    if len(keys) != 1:
        return None
    try:
        return f"{at} > {_HOST_KEY_NAME}" if host_key_problem(keys[0].content.decode()) is None else None
    except UnicodeDecodeError:
        return None


def find_secrets(raw: RawFirstBoot, pinned_host_key: bool = True) -> list[SecretFinding]:
    """Every plaintext secret in first-boot data, looking inside every encoded layer, and every part the scan
    could not read to the end (fail closed). Values are never kept. pinned_host_key: the one host key first boot
    carries on purpose is exempt (pinned_host_key_layer); False for data that must hold no key at all."""
    expander = _Expander()
    expander.textual(raw.where, raw.data)
    findings: list[SecretFinding] = []
    seen: set[tuple[str, str]] = set()

    def add(what: str, where: str, unreadable: bool = False) -> None:
        if (what, where) not in seen:
            seen.add((what, where))
            findings.append(SecretFinding(what, where, unreadable))

    pinned = pinned_host_key_layer(expander) if pinned_host_key else None
    for where, layer in expander.layers:
        host_key = where == pinned
        for lineno, line in enumerate(layer.splitlines(), 1):
            if len(line) < 8:
                continue  # shorter than anything a pattern matches
            hit = next((p for p in SECRET_PATTERNS if p.found_in(line)), None)  # most specific first
            if hit is AWS_SECRET and (where, lineno) in expander.decoded_lines:
                continue  # 40 characters of a wrapped base64 body (its last line), read decoded in the next layer
            if hit is not None and not (host_key and hit.what == "private key"):
                add(hit.what, f"{where}:{lineno}")
        if wire.form_of(layer) == "cloud-config":
            for key in cloud_config_passwords(_yaml_document(layer)):
                add("cloud-config password", f"{where} ({key})")
    for what, where in expander.unreadable:
        add(what, where, unreadable=True)
    return findings


# --- resource policies ---------------------------------------------------------------------------------------
def _validate_inbound_ports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in FIREWALL_TYPES:
        return
    for opening in inbound_openings(args.resource_type, args.props):
        if not opening.allowed:
            report(f"{describe(args.resource_type, args.name)} opens {opening.describe_ports()} "
                   f"({opening.where}); only TCP {', '.join(map(str, ALLOWED_TCP_PORTS))} may be open. Fix: remove "
                   f"that rule or narrow it to one of those ports (the host component opens exactly these).", None)


def _ssh_exposure(args: ResourceValidationArgs) -> tuple[list[Opening], list[str]] | None:
    """The rules of a firewall that admit SSH and, when together they admit too much of the internet, how much.
    Rules are added up: splitting a wide range over several rules does not narrow it."""
    if args.resource_type not in FIREWALL_TYPES:
        return None
    openings = [o for o in inbound_openings(args.resource_type, args.props) if o.includes_port(SSH_PORT)]
    wide = wide_exposure([s for o in openings for s in o.sources])
    return (openings, wide) if wide else None


def _ssh_message(args: ResourceValidationArgs, exposure: tuple[list[Opening], list[str]], production: bool) -> str:
    openings, wide = exposure
    stage = "in a production stack " if production else ""
    whole = all(w in ("0.0.0.0/0", "::/0") for w in wide)
    how_much = "the whole internet" if whole else "too much of the internet"
    return (f"{describe(args.resource_type, args.name)} {stage}admits SSH (port 22) from {how_much} "
            f"({' and '.join(wide)}; {', '.join(o.where for o in openings)}; {SSH_LIMIT}). Fix: set "
            f"{PROJECT}:sshAllowedCidrs in the stack file to the addresses you administer from (e.g. 203.0.113.7/32 "
            "or your VPN range).")


def _validate_ssh_advisory(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_production(args.get_config()):
        return  # production-ssh-restricted reports it, mandatorily
    exposure = _ssh_exposure(args)
    if exposure:
        report(_ssh_message(args, exposure, production=False), None)


def _validate_ssh_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    exposure = _ssh_exposure(args)
    if exposure:
        report(_ssh_message(args, exposure, production=True), None)


def _validate_first_boot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in SERVER_VENDORS:
        return
    who = describe(args.resource_type, args.name)
    raw = raw_first_boot(args.resource_type, args.props)
    if raw is None:
        report(f"{who} has no first-boot data: it would boot as the vendor's bare image (root login, no host "
               "firewall, no automatic updates). Fix: create servers through the project's host component "
               "(components/providers), which passes the rendered hardened-vps first boot.", None)
        return
    try:
        spec = stack_spec(leave_out=NOT_IN_FIRST_BOOT)
    except StackConfigError as err:
        report(f"{who}: the pack cannot tell what this stack's first boot must be: {err} (refused: the check fails "
               f"closed). Fix: run the policy pack through the Pulumi CLI from the project (`pulumi preview "
               f"--policy-pack policy`), which hands it the stack's config, and fix the {PROJECT}:* keys the "
               "program itself refuses.", None)
        return
    result = check_first_boot(args.resource_type, raw, spec)
    if result.problem:
        report(f"{who} does not carry this stack's first-boot data: {result.problem}. Fix: pass the data "
               "components/firstboot renders for this stack's config (render_first_boot with the program's host "
               "key) unchanged, through the host component.", None)


def is_converge(resource_type: str, props: Mapping[str, Any]) -> bool:
    """A command:remote:Command that runs the host's converge (HostConfig)."""
    return resource_type == REMOTE_COMMAND and _known(lambda: text(props.get("create"))) == firstboot.CONVERGE_COMMAND


def converge_payload(resource_type: str, props: Mapping[str, Any]) -> RawFirstBoot | None:
    """The stdin of the host's converge (a command:remote:Command running CONVERGE_COMMAND): first boot's files
    again, sent as a plain input (kept unencrypted in the state), so it is scanned like first-boot data; unlike
    first boot, it may carry no private key at all (the host key is never part of it)."""
    if not is_converge(resource_type, props):
        return None
    data = _known(lambda: text(props.get("stdin")))
    return RawFirstBoot(data, "stdin") if data else None


def _validate_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in SERVER_VENDORS and args.resource_type != REMOTE_COMMAND:
        return
    server = args.resource_type in SERVER_VENDORS
    raw = raw_first_boot(args.resource_type, args.props) if server else converge_payload(args.resource_type, args.props)
    if raw is None:
        return
    what = "first-boot data" if server else "the host converge's bundle (stdin)"
    exposed = ("User data is readable from the vendor's metadata service and control panel and is stored unencrypted "
               "in the Pulumi state." if server else
               "The converge's stdin is an ordinary input: stored unencrypted in the Pulumi state and shown by "
               "previews.")
    for finding in find_secrets(raw, pinned_host_key=server):
        if finding.unreadable:
            report(f"{describe(args.resource_type, args.name)}: {what} holds {finding}, which the secrets "
                   "scan cannot read to the end, so it may hide a private key or token (refused: the scan fails "
                   "closed). Fix: bundle plain files only, as components/firstboot renders them; deliver large or "
                   "pre-compressed content after boot over SSH.", None)
            continue
        report(f"{describe(args.resource_type, args.name)}: {what} holds a plaintext {finding} (value not "
               f"shown). {exposed} Fix: remove it from the first-boot templates and settings; put app "
               f"secrets in {PROJECT}:appSecrets (`pulumi config set --secret`, sent over SSH after boot) and "
               "deliver anything else after boot over SSH or from a secrets manager.", None)


def server_backups_on(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type == DROPLET:
        return plain(props.get("backups")) is True
    if resource_type == LINODE_INSTANCE:
        return plain(props.get("backupsEnabled")) is True
    add_on = plain(props.get("addOn"))
    return (isinstance(add_on, Mapping) and text(add_on.get("type")) == "AutoSnapshot"
            and text(add_on.get("status")) == "Enabled")


def _validate_production_safety(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in SERVER_VENDORS or not is_production(args.get_config()):
        return
    who = describe(args.resource_type, args.name)
    if not server_backups_on(args.resource_type, args.props):
        report(f"{who} is in a production stack but has no automatic backups. Fix: set {PROJECT}:backups: true "
               "in the stack file.", None)
    if not args.opts.protect:
        report(f"{who} is in a production stack but is not protected from deletion. Fix: set {PROJECT}:protect: "
               "true in the stack file (Pulumi then refuses to delete or replace it).", None)


def _validate_size(args: ResourceValidationArgs, report: ReportViolation) -> None:
    vendor_name = SERVER_VENDORS.get(args.resource_type)
    if vendor_name is None:
        return
    vendor = catalog.vendor(vendor_name)
    slug = text(args.props.get(SIZE_INPUT[args.resource_type]))
    if vendor.size_by_slug(slug) is None:
        report(f"{describe(args.resource_type, args.name)} uses {SIZE_INPUT[args.resource_type]} "
               f"{slug or '(unset)'!r}, which is not in the project's catalog (components/catalog.py). Fix: set "
               f"{PROJECT}:size to a tier ({', '.join(vendor.tiers)}) or a catalog plan "
               f"({', '.join(s.slug for s in vendor.sizes)}), or add the plan with its price to the catalog.", None)


# --- remote commands: only the product's release, exactly ---------------------------------------------------
REMOTE_COMMAND = "command:remote:Command"
REMOTE_COPY = "command:remote:CopyToRemote"
#: The pulumi-command types the product builds (readiness wait, host converge, AppRelease). They reach the host
#: as the admin, who has sudo without password, so each one must be the very command or upload the product
#: makes for this stack.
REMOTE_TYPES = frozenset({REMOTE_COMMAND, REMOTE_COPY})
#: The inputs each one may set (the connection, what it runs or copies, when it re-runs); any other (delete,
#: environment, a connection proxy...) is something the product does not do. `update` only on the host's
#: converge (HostConfig), whose create and update both run CONVERGE_COMMAND.
_REMOTE_INPUTS: Mapping[str, frozenset[str]] = {
    REMOTE_COMMAND: frozenset({"connection", "create", "stdin", "triggers"}),
    REMOTE_COPY: frozenset({"connection", "source", "remotePath", "triggers"}),
}
_CONVERGE_INPUTS = _REMOTE_INPUTS[REMOTE_COMMAND] | {"update"}
_CONNECTION_INPUTS = frozenset({"host", "port", "user", "hostKey", "privateKey", "dialErrorLimit", "perDialTimeout"})


@dataclass(frozen=True)
class RemoteShape:
    """What the product runs and uploads over SSH for a stack: the first-boot readiness wait, and with an app the
    deploy command and, per remote path, the SHA-256 of the one file that may be copied there."""

    commands: frozenset[str]
    uploads: Mapping[str, str]
    converge_stdin: str = ""  # what the converge (CONVERGE_COMMAND) must read: this stack's converge bundle


def remote_shape(spec: HostSpec, with_secrets: bool) -> RemoteShape:
    """The product's remote commands for `spec`, by calling components.readiness and components.app as the
    program does (so the check follows them). `with_secrets`: the stack sets appSecrets (sent on the deploy's
    stdin)."""
    from components.hostconfig import converge_stdin
    from components.readiness import first_boot_wait

    host = frozenset({first_boot_wait(), firstboot.CONVERGE_COMMAND})
    if spec.app is None:
        return RemoteShape(host, {}, converge_stdin(spec))
    from components import app as release  # imported here: only app stacks need it

    package, rid = release.planned_release(spec)
    script, archive = release.remote_paths(spec, package)
    uploads = {script: release.script_digest()}
    if archive is not None and package is not None:
        uploads[archive] = package.digest
    return RemoteShape(host | {release.deploy_command(spec, rid, package, with_secrets)}, uploads, converge_stdin(spec))


def _file_digest(asset: Any) -> str | None:
    """SHA-256 of a FileAsset's file, relative paths read from the project (the program's directory); None for
    any other source or a file that cannot be read."""
    if not isinstance(asset, pulumi.FileAsset):
        return None
    path = Path(str(asset.path))
    try:
        return hashlib.sha256((path if path.is_absolute() else PROJECT_DIR / path).read_bytes()).hexdigest()
    except OSError:
        return None


def remote_problem(resource_type: str, props: Mapping[str, Any], spec: HostSpec, shape: RemoteShape) -> str | None:
    """Why a command:remote resource is not one the product builds for this stack (None when it is one)."""
    if resource_type not in REMOTE_TYPES:
        return f"the product builds only {' and '.join(sorted(REMOTE_TYPES))}"
    converge = is_converge(resource_type, props)
    allowed = _CONVERGE_INPUTS if converge else _REMOTE_INPUTS[resource_type]
    extra = sorted(k for k in props if k not in allowed and plain(props.get(k)) is not None)
    if extra:
        return f"it sets {', '.join(extra)}, which the product's release never does"
    connection = plain(props.get("connection"))
    connection = connection if isinstance(connection, Mapping) else {}
    extra = sorted(k for k in connection if k not in _CONNECTION_INPUTS and plain(connection.get(k)) is not None)
    if extra:
        return f"its connection sets {', '.join(extra)}, which the product's release never does"
    user = _known(lambda: text(connection.get("user")))
    if user is not None and user != spec.admin_user:
        return f"it connects as {user or '(unset)'!r}, not as the admin account {spec.admin_user!r}"
    if _known(lambda: text(connection.get("hostKey"))) == "":
        return "its connection does not pin the server's host key (hostKey), so it would trust any server"
    if converge:
        return converge_problem(props, shape)
    if resource_type == REMOTE_COMMAND:
        create = _known(lambda: text(props.get("create")))
        if create is not None and create not in shape.commands and not shape.uploads:
            return (f"this stack deploys no app ({PROJECT}:appSource is unset): the only command it runs is the "
                    "first-boot readiness wait (components/readiness)")
        if create is not None and create not in shape.commands:
            return ("its command is neither the product's first-boot readiness wait (components/readiness), its "
                    "host converge (components/hostconfig) nor its deploy command for this stack and release "
                    "(components/app deploy_command)")
        return None
    if not shape.uploads:
        return f"this stack deploys no app ({PROJECT}:appSource is unset), so nothing is uploaded to its server"
    remote_path = _known(lambda: text(props.get("remotePath")))
    if remote_path is not None and remote_path not in shape.uploads:
        return (f"it copies to {remote_path!r}; the product copies only the release script and app archive to "
                f"{', '.join(sorted(shape.uploads))}")
    source = _known(lambda: props.get("source"))
    if remote_path is not None and source is not None and _file_digest(source) != shape.uploads[remote_path]:
        return ("its source is not the file the product uploads there (the release script, or the app archive "
                "of this release, by content)")
    return None


def converge_problem(props: Mapping[str, Any], shape: RemoteShape) -> str | None:
    """Why a converge command (create = CONVERGE_COMMAND) is not the product's HostConfig for this stack: it
    re-runs the same command on update, and what it installs as root (its stdin) is exactly this stack's
    converge bundle (components/hostconfig converge_stdin), byte for byte."""
    update = props.get("update")
    if plain(update) is not None and _known(lambda: text(update)) not in (None, firstboot.CONVERGE_COMMAND):
        return f"its update runs something other than {firstboot.CONVERGE_COMMAND!r}"
    stdin = _known(lambda: text(props.get("stdin")))
    if stdin is not None and stdin != shape.converge_stdin:
        return ("its stdin is not this stack's converge bundle (the files components/firstboot renders for the "
                "stack's config, minus the host key), so it would install other files as root")
    return None


def _validate_remote_commands(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("command:remote:"):
        return
    who = describe(args.resource_type, args.name)
    try:
        spec = stack_spec()
        shape = remote_shape(spec, with_secrets=bool(stack_config().get("appSecrets")))
    except (StackConfigError, OSError) as err:
        report(f"{who} runs over SSH as the admin, and the pack cannot tell what this stack's release must be: "
               f"{err} (refused: the check fails closed). Fix: run the policy pack through the Pulumi CLI from "
               f"the project (`pulumi preview --policy-pack policy`) and fix the {PROJECT}:* keys the program "
               "itself refuses.", None)
        return
    problem = remote_problem(args.resource_type, args.props, spec, shape)
    if problem:
        report(f"{who} is not a command this product runs: {problem}. Remote commands connect as the admin, who "
               "has sudo without password, so only the product's own readiness wait, host converge, release uploads "
               "and deploy may run. Fix: remove it; change the host's files through the templates and settings "
               "(components/hostconfig converges them) and deploy the app through the project's AppRelease "
               f"(components/app, {PROJECT}:appSource).", None)


# --- stack policy: every server has a firewall attached ------------------------------------------------------
@dataclass(frozen=True)
class _Attachment:
    firewall_type: str
    reference: str  # the firewall input naming its servers


_ATTACHMENTS: Mapping[str, _Attachment] = {
    DROPLET: _Attachment(DO_FIREWALL, "dropletIds"),
    LINODE_INSTANCE: _Attachment(LINODE_FIREWALL, "linodes"),
    LIGHTSAIL_INSTANCE: _Attachment(LIGHTSAIL_PORTS, "instanceName"),
}


def _known(get: Any) -> Any:
    """Call `get`; None when the engine does not know the value yet (preview)."""
    try:
        return get()
    except UnknownValueError:
        return None


def points_at(firewall: PolicyResource, server: PolicyResource, reference: str) -> bool:
    """Whether `firewall`'s `reference` input names `server`: by property dependency (works in a preview,
    before the server has an id) or by value (id or name)."""
    if any(dep.urn == server.urn for dep in firewall.property_dependencies.get(reference, [])):
        return True
    if reference == "instanceName":
        name = _known(lambda: text(server.props.get("name")))
        region = _known(lambda: text(server.props.get("region")))
        their_region = _known(lambda: text(firewall.props.get("region")))
        return bool(name) and _known(lambda: text(firewall.props.get(reference))) == name and (
            not region or not their_region or region == their_region)
    server_id = _known(lambda: as_int(server.props.get("id")))
    if server_id is None:
        return False
    ids = _known(lambda: [as_int(v) for v in seq(firewall.props.get(reference))]) or []
    return server_id in ids


def linode_firewall_defect(firewall: PolicyResource) -> str | None:
    """Why a Linode Firewall would not filter (None when it does): Linode enforces no rule of a disabled
    firewall, and an inbound policy other than DROP admits whatever no rule drops. Unknown values in a preview
    are not held against it; the update, with known values, is checked again."""
    if _known(lambda: plain(firewall.props.get("disabled"))) is True:
        return "it is disabled (disabled: true), so Linode enforces none of its rules"
    if (_known(lambda: text(firewall.props.get("status")).lower()) or "") == "disabled":
        return "its status is disabled, so Linode enforces none of its rules"
    policy = _known(lambda: text(firewall.props.get("inboundPolicy")).upper())
    if policy is not None and policy != "DROP":
        return f"its inbound policy is {policy or '(unset)'}, not DROP, so every port is open"
    return None


def _validate_firewall_attached(args: StackValidationArgs, report: ReportViolation) -> None:
    for server in args.resources:
        attachment = _ATTACHMENTS.get(server.resource_type)
        if attachment is None:
            continue
        who = describe(server.resource_type, server.name)
        firewalls = [r for r in args.resources if r.resource_type == attachment.firewall_type
                     and points_at(r, server, attachment.reference)]
        if server.resource_type == LINODE_INSTANCE:
            defects = {f.name: linode_firewall_defect(f) for f in firewalls}
            filtering = [f for f in firewalls if defects[f.name] is None]
            if firewalls and not filtering:
                why = "; ".join(f"'{name}': {defect}" for name, defect in defects.items())
                report(f"{who} is attached only to Linode Firewalls that do not filter ({why}). Fix: set "
                       "inbound_policy='DROP' and leave disabled unset (false) on the firewall.", server.urn)
                continue
            firewalls = filtering
        if firewalls:
            continue
        fixes = {
            DROPLET: "add a digitalocean.Firewall whose droplet_ids include this droplet's id",
            LINODE_INSTANCE: "add a linode.Firewall with inbound_policy='DROP' and this instance's id in linodes",
            LIGHTSAIL_INSTANCE: "add a lightsail.InstancePublicPorts with instance_name set to this instance "
                                "(without it Lightsail opens 22 and 80 to the whole internet)",
        }
        report(f"{who} has no cloud firewall attached. Fix: {fixes[server.resource_type]}; the project's host "
               "component (components/providers) builds one for every server.", server.urn)


# --- stack policy: only the resource types the product builds --------------------------------------------------
#: Every cloud resource type the host components (components/providers) create. Anything else from a cloud SDK
#: (EC2, Lambda, Lightsail containers or databases, DigitalOcean apps, autoscaling pools or Kubernetes, Linode
#: LKE or instance configs) is compute, or a change to compute, that none of the other policies look at.
PRODUCT_TYPES = frozenset({
    DROPLET, DO_FIREWALL, "digitalocean:index/sshKey:SshKey", "digitalocean:index/reservedIp:ReservedIp",
    "digitalocean:index/reservedIpAssignment:ReservedIpAssignment", "digitalocean:index/dnsRecord:DnsRecord",
    LINODE_INSTANCE, LINODE_FIREWALL, "linode:index/domainRecord:DomainRecord",
    LIGHTSAIL_INSTANCE, LIGHTSAIL_PORTS, "aws:lightsail/keyPair:KeyPair", "aws:lightsail/staticIp:StaticIp",
    "aws:lightsail/staticIpAttachment:StaticIpAttachment", "aws:lightsail/domainEntry:DomainEntry",
})
#: Type prefixes that create nothing in a cloud: the engine's own (stack, providers), this project's
#: components (their children are checked one by one), local key and random material. Commands are not among
#: them: `command:local` runs anything on the deploying machine, and of `command:remote` only REMOTE_TYPES
#: (held to the product's exact release by remote-commands-are-the-products) may be in a stack.
LOCAL_TYPE_PREFIXES = ("pulumi:pulumi:", "pulumi:providers:", f"{PROJECT}:", "tls:", "random:")


def type_not_allowed(resource_type: str) -> bool:
    """A resource type the product does not build: any cloud type outside PRODUCT_TYPES, any command but the
    release's, any other package."""
    return (resource_type not in PRODUCT_TYPES and resource_type not in REMOTE_TYPES
            and not resource_type.startswith(LOCAL_TYPE_PREFIXES))


def _validate_resource_types(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if type_not_allowed(resource.resource_type):
            report(f"{describe(resource.resource_type, resource.name)} is of a type this product does not build: "
                   "only the server, firewall, key, address and DNS types of the host components (DigitalOcean "
                   "Droplet, Linode Instance, Lightsail Instance and theirs) may be in a stack, so no compute runs "
                   "without the cloud firewall and hardened first boot the other policies check. Fix: remove it "
                   "(servers come from components/providers); if the product now builds this type, add it to "
                   "PRODUCT_TYPES in policy/hardening_policies.py with the checks it needs.", resource.urn)


# --- the policies --------------------------------------------------------------------------------------------
firewall_attached = StackValidationPolicy(
    name="server-firewall-attached",
    description="Every server has a cloud firewall attached (DigitalOcean Firewall, enabled Linode Firewall with "
                "inbound policy DROP, Lightsail public ports).",
    validate=_validate_firewall_attached,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

allowed_types = StackValidationPolicy(
    name="resource-types-allowed",
    description="Only the resource types the product builds (its servers, firewalls, keys, addresses, DNS "
                "records); any other compute (EC2, Lightsail containers, DigitalOcean apps, ...) is refused.",
    validate=_validate_resource_types,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

inbound_ports = ResourceValidationPolicy(
    name="firewall-inbound-ports",
    description="Cloud firewalls open nothing but TCP 22, 80 and 443.",
    validate=_validate_inbound_ports,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

ssh_open_advisory = ResourceValidationPolicy(
    name="ssh-open-to-internet",
    description="SSH (port 22) open to the internet (more than a /8 of IPv4 or a /32 of IPv6): allowed outside "
                "production, but better restricted.",
    validate=_validate_ssh_advisory,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.MEDIUM,
)

ssh_restricted_in_production = ResourceValidationPolicy(
    name="production-ssh-restricted",
    description="In a production stack, SSH (port 22) admits at most a /8 of IPv4 and a /32 of IPv6, however "
                "the CIDRs are spelled or split over rules.",
    validate=_validate_ssh_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

first_boot_present = ResourceValidationPolicy(
    name="server-first-boot-data",
    description="Every server boots with exactly the hardened first-boot data this project renders for the "
                "stack's config (no bare server, no edited bundle); only the SSH host key varies.",
    validate=_validate_first_boot,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

first_boot_secrets = ResourceValidationPolicy(
    name="first-boot-no-secrets",
    description="First-boot data (and every file bundled in it), and the host converge's bundle, hold no plaintext "
                "secret: private keys, tokens, passwords.",
    validate=_validate_no_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

remote_commands = ResourceValidationPolicy(
    name="remote-commands-are-the-products",
    description="Commands run over SSH on the server are only the product's own: the first-boot readiness wait, "
                "the host converge with this stack's converge bundle, and the release (its uploads of the release "
                "script and app archive, and its deploy command), exactly as components/readiness, "
                "components/hostconfig and components/app make them for the stack; they are judged on their "
                "inputs, before they run.",
    validate=_validate_remote_commands,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

production_safety = ResourceValidationPolicy(
    name="production-backups-and-protection",
    description="In a production stack, every server has automatic backups on and is protected from deletion.",
    validate=_validate_production_safety,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

catalog_sizes = ResourceValidationPolicy(
    name="server-size-in-catalog",
    description="Every server's plan comes from the project's catalog (known price, tested sizing).",
    validate=_validate_size,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
)

RESOURCE_POLICIES: tuple[ResourceValidationPolicy, ...] = (
    inbound_ports, ssh_open_advisory, ssh_restricted_in_production, first_boot_present, first_boot_secrets,
    remote_commands, production_safety, catalog_sizes)
STACK_POLICIES: tuple[StackValidationPolicy, ...] = (firewall_attached, allowed_types)
POLICIES: tuple[ResourceValidationPolicy | StackValidationPolicy, ...] = (*STACK_POLICIES, *RESOURCE_POLICIES)
