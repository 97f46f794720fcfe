"""CrossGuard policies: the hardening invariants of a hardened-vps stack, checked at `pulumi preview` time.

Every policy is a plain object whose `validate` can be called directly (tests do); only `policy/__main__.py`
builds the `PolicyPack`, which starts a gRPC server and blocks.

Production: a stack is production when its config says `hardened-vps:production: true`. The Pulumi CLI hands a
policy pack the stack's whole config (the `PULUMI_CONFIG` environment of the analyzer process, which
pulumi_policy loads into `pulumi.Config` before each analysis), so the policies read the same key the program
reads. A policy config `{"<policy>": {"production": true}}` (`--policy-pack-config`) forces the production
rules on whatever the stack says; it cannot turn them off.

Resources are matched by type token; properties use the engine's camelCase names. Resource policies see a
resource's inputs before it is created; the stack policy sees the planned outputs and the property
dependencies, which name the server a firewall points at even while its id is still unknown in a preview.
"""

from __future__ import annotations

import base64
import binascii
import email
import ipaddress
import re
import tarfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
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

from components import catalog
from components.config import PROJECT
from components.firstboot import BUNDLE_PATH, HOST_KEY_PATH, PROVISION_SCRIPT

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


def whole_internet(sources: Sequence[str]) -> list[str]:
    """The address families (as 0.0.0.0/0, ::/0) that `sources` cover entirely, split ranges included."""
    nets: dict[int, list[Any]] = {4: [], 6: []}
    for source in sources:
        try:
            net = ipaddress.ip_network(source.strip(), strict=False)
        except ValueError:
            continue  # tags, droplet ids, aliases: never the internet
        nets[net.version].append(net)
    covered = []
    for version, anywhere in ((4, "0.0.0.0/0"), (6, "::/0")):
        if any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(nets[version])):
            covered.append(anywhere)
    return covered


# --- first-boot data -----------------------------------------------------------------------------------------
_HEADER = re.compile(r"^# hardened-vps first boot (?P<digest>[0-9a-f]{16}), (?P<form>cloud-config|launch-script) form",
                     re.MULTILINE)
_HEREDOC = re.compile(r"base64 -d >" + re.escape(BUNDLE_PATH) + r" <<'HVPS_EOF'\n(?P<payload>.*?)\nHVPS_EOF\n",
                      re.DOTALL)
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


def _inflate(data: bytes) -> bytes | None:
    """gzip/zlib data, decompressed with a size cap; None when it is not compressed data."""
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        out = inflater.decompress(data, _MAX_INFLATED)
    except zlib.error:
        return None
    return out


def _tar_members(data: bytes) -> dict[str, bytes] | None:
    if len(data) < 512 or data[257:262] != b"ustar":
        return None
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=BytesIO(data), mode="r:") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.size <= _MAX_INFLATED:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        members[member.name] = handle.read()
    except (tarfile.TarError, EOFError):
        return None
    return members


def decode_linode_user_data(data: str) -> str | None:
    """Linode metadata user data: base64, of gzip or of plain text. None when it is neither."""
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    inflated = _inflate(raw) if raw[:2] == b"\x1f\x8b" else raw
    if inflated is None:
        return None
    try:
        return inflated.decode()
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class FirstBootCheck:
    """What a server's first-boot data is: this project's (form, digest, bundled files) or why not."""

    form: str | None = None
    digest: str | None = None
    files: tuple[str, ...] = ()
    problem: str | None = None


def check_first_boot(resource_type: str, raw: RawFirstBoot) -> FirstBootCheck:
    data = raw.data
    if resource_type == LINODE_INSTANCE:
        decoded = decode_linode_user_data(data)
        if decoded is None:
            return FirstBootCheck(problem=f"{raw.where} is not base64 of (gzipped) cloud-config")
        data = decoded
    header = _HEADER.search(data)
    if header is None:
        return FirstBootCheck(problem=f"{raw.where} lacks the '# hardened-vps first boot <digest>' header, so it "
                                      "was not rendered by components/firstboot")
    form, digest = header["form"], header["digest"]
    expected = "launch-script" if resource_type == LIGHTSAIL_INSTANCE else "cloud-config"
    if form != expected:
        why = ("Lightsail runs user data as a shell script after its own, so #cloud-config is ignored"
               if resource_type == LIGHTSAIL_INSTANCE else "this vendor's cloud-init needs #cloud-config")
        return FirstBootCheck(form, digest, problem=f"{raw.where} is the {form} form; {why}")
    payload, runs = _bundle_and_trigger(form, data)
    if payload is None:
        return FirstBootCheck(form, digest, problem=f"{raw.where} carries no {BUNDLE_PATH} bundle")
    try:
        bundle = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        bundle = b""
    inflated = _inflate(bundle)
    members = _tar_members(inflated) if inflated else None
    if members is None:
        return FirstBootCheck(form, digest, problem=f"the bundle in {raw.where} is not a base64 tar.gz")
    files = tuple(sorted(members))
    if PROVISION_SCRIPT.lstrip("/") not in members:
        return FirstBootCheck(form, digest, files, problem=f"the bundle in {raw.where} lacks {PROVISION_SCRIPT}")
    if not runs:
        return FirstBootCheck(form, digest, files, problem=f"{raw.where} never runs {PROVISION_SCRIPT}")
    return FirstBootCheck(form, digest, files)


def _bundle_and_trigger(form: str, data: str) -> tuple[str | None, bool]:
    """(base64 bundle, whether the provisioning script is run) of a rendered first boot."""
    if form == "launch-script":
        match = _HEREDOC.search(data)
        runs = re.search(r"^exec " + re.escape(PROVISION_SCRIPT) + r"\s*$", data, re.MULTILINE) is not None
        return (match["payload"] if match else None), runs
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError:
        return None, False
    if not isinstance(document, Mapping):
        return None, False
    payload = next((str(f.get("content", "")) for f in document.get("write_files") or []
                    if isinstance(f, Mapping) and f.get("path") == BUNDLE_PATH), None)
    runs = any(cmd == PROVISION_SCRIPT or (isinstance(cmd, list) and PROVISION_SCRIPT in cmd)
               for cmd in document.get("runcmd") or [])
    return payload, runs


# --- secrets scan --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecretPattern:
    what: str
    regex: re.Pattern[str]


SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    SecretPattern("DigitalOcean API token", re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b")),
    SecretPattern("GitHub token", re.compile(r"\b(?:gh[opsur]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    SecretPattern("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    SecretPattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    SecretPattern("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    SecretPattern("Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    SecretPattern("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    SecretPattern("bearer/basic credential", re.compile(r"(?i)\bauthorization\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+"
                                                       r"[A-Za-z0-9._~+/=-]{8,}")),
    SecretPattern("password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@[^\s/]")),
    SecretPattern("cloud-config password", re.compile(r"^\s*(?:-\s+)?(?:password|plain_text_passwd)\s*:\s*[^\s#]",
                                                      re.MULTILINE)),
    # KEY=value / key: value with a credential-like name and a literal value (not $VAR, {{ x }}, a path, ...).
    SecretPattern("credential assignment", re.compile(
        r"(?i)\b(?:[a-z0-9]+[_.-])*(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
        r"|secret[_-]?key|private[_-]?key|client[_-]?secret)\b[\"']?\s*[:=]\s*[\"']?"
        r"(?![$%<{/@]|\(|true\b|false\b|none\b|null\b|yes\b|no\b)[^\s\"'#;,]{8,}"
        r"(?=[\"']?\s*(?:$|[#;&|)]))")),  # the value ends the statement: "password: possession of ..." is prose
)


@dataclass(frozen=True)
class SecretFinding:
    what: str
    where: str  # layer path, e.g. "userData > base64 > gzip > etc/hvps/app.env:3"

    def __str__(self) -> str:
        return f"{self.what} at {self.where}"


class _Expander:
    """Walks every layer of first-boot data: text, base64 runs, gzip, tar members, MIME parts."""

    _B64_LINE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
    _B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=_-])")

    def __init__(self) -> None:
        self.layers: list[tuple[str, str]] = []
        self.inflated = 0  # bytes decompressed so far (bomb guard)

    def textual(self, where: str, value: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if value.lstrip().lower().startswith(("content-type: multipart", "mime-version:")):
            for i, part in enumerate(email.message_from_string(value).walk()):  # the parts, transfer-decoded
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes) and payload:
                    self.binary(f"{where} > part {i}", payload, depth + 1)
            return
        self.layers.append((where, value))
        for lines in self._base64_runs(value):
            decoded = self._decode_run(lines)
            if decoded is not None:
                self.binary(f"{where} > base64", decoded, depth + 1, only_if_meaningful=True)

    def binary(self, where: str, data: bytes, depth: int, only_if_meaningful: bool = False) -> None:
        if depth > _MAX_DEPTH or not data:
            return
        if data[:2] == b"\x1f\x8b":
            inflated = _inflate(data) if self.inflated < _MAX_INFLATED_TOTAL else None
            if inflated is not None:
                self.inflated += len(inflated)
                self.binary(f"{where} > gzip", inflated, depth + 1)
            return
        members = _tar_members(data)
        if members is not None:
            for name, content in members.items():
                self.binary(f"{where} > {name}", content, depth + 1)
            return
        try:
            decoded = data.decode()
        except UnicodeDecodeError:
            return
        printable = sum(c.isprintable() or c in "\n\r\t" for c in decoded)
        if only_if_meaningful and printable < 0.95 * len(decoded):
            return  # binary that happened to be valid UTF-8, e.g. a public key blob
        self.textual(where, decoded, depth + 1)

    def _base64_runs(self, value: str) -> Iterator[list[str]]:
        """Runs of base64: blocks of whole lines (a heredoc, a wrapped PEM-like body) and long inline tokens."""
        block: list[str] = []
        for line in value.splitlines():
            stripped = line.strip()
            if self._B64_LINE.fullmatch(stripped):
                block.append(stripped)
                continue
            if block:
                yield block
                block = []
            yield from ([m.group(0)] for m in self._B64_TOKEN.finditer(line))
        if block:
            yield block

    @staticmethod
    def _decode_run(lines: list[str]) -> bytes | None:
        """Decode a run; a word-like line glued to either end of a block is dropped and the rest retried."""
        n = len(lines)
        for first, last in [(0, n), *([(1, n), (0, n - 1), (1, n - 1)] if n >= 3 else [])]:
            try:
                return base64.b64decode("".join(lines[first:last]), validate=True)
            except (binascii.Error, ValueError):
                continue
        return None


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


#: The one private key first boot carries on purpose: the SSH host key the deploy connections pin. It is made
#: by the program and sent in user data that the program marks secret (encrypted in state, masked in previews);
#: on the host only root reaches the metadata service (nftables). Any other private key is still refused.
_HOST_KEY_MEMBER = "> " + HOST_KEY_PATH.lstrip("/")


def find_secrets(raw: RawFirstBoot) -> list[SecretFinding]:
    """Every plaintext secret in first-boot data, looking inside every encoded layer. Values are never kept."""
    expander = _Expander()
    expander.textual(raw.where, raw.data)
    findings: list[SecretFinding] = []
    seen: set[tuple[str, str]] = set()

    def add(what: str, where: str) -> None:
        if (what, where) not in seen:
            seen.add((what, where))
            findings.append(SecretFinding(what, where))

    for where, layer in expander.layers:
        host_key = where.endswith(_HOST_KEY_MEMBER)
        for lineno, line in enumerate(layer.splitlines(), 1):
            hit = next((p for p in SECRET_PATTERNS if p.regex.search(line)), None)  # most specific first
            if hit is not None and not (host_key and hit.what == "private key"):
                add(hit.what, f"{where}:{lineno}")
        if layer.startswith("#cloud-config"):
            try:
                document = yaml.safe_load(layer)
            except yaml.YAMLError:
                document = None
            for key in cloud_config_passwords(document):
                add("cloud-config password", f"{where} ({key})")
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


def _ssh_world_openings(args: ResourceValidationArgs) -> list[tuple[Opening, list[str]]]:
    if args.resource_type not in FIREWALL_TYPES:
        return []
    found = []
    for opening in inbound_openings(args.resource_type, args.props):
        if opening.includes_port(SSH_PORT):
            world = whole_internet(opening.sources)
            if world:
                found.append((opening, world))
    return found


def _ssh_message(args: ResourceValidationArgs, opening: Opening, world: list[str], production: bool) -> str:
    stage = "in a production stack " if production else ""
    return (f"{describe(args.resource_type, args.name)} {stage}admits SSH (port 22) from the whole internet "
            f"({' and '.join(world)}, {opening.where}). Fix: set {PROJECT}:sshAllowedCidrs in the stack file to the "
            "addresses you administer from (e.g. 203.0.113.7/32 or your VPN range).")


def _validate_ssh_advisory(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if is_production(args.get_config()):
        return  # production-ssh-restricted reports it, mandatorily
    for opening, world in _ssh_world_openings(args):
        report(_ssh_message(args, opening, world, production=False), None)


def _validate_ssh_production(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_production(args.get_config()):
        return
    for opening, world in _ssh_world_openings(args):
        report(_ssh_message(args, opening, world, production=True), None)


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
    result = check_first_boot(args.resource_type, raw)
    if result.problem:
        report(f"{who} does not carry this project's first-boot data: {result.problem}. Fix: pass the data "
               "rendered by components/firstboot (render_first_boot) unchanged, through the host component.", None)


def _validate_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in SERVER_VENDORS:
        return
    raw = raw_first_boot(args.resource_type, args.props)
    if raw is None:
        return
    for finding in find_secrets(raw):
        report(f"{describe(args.resource_type, args.name)}: first-boot data holds a plaintext {finding} (value not "
               "shown). User data is readable from the vendor's metadata service and control panel and is stored "
               f"unencrypted in the Pulumi state. Fix: remove it from the first-boot templates and settings; put app "
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


def inbound_policy(firewall: PolicyResource) -> str | None:
    return _known(lambda: text(firewall.props.get("inboundPolicy")).upper())


def _validate_firewall_attached(args: StackValidationArgs, report: ReportViolation) -> None:
    for server in args.resources:
        attachment = _ATTACHMENTS.get(server.resource_type)
        if attachment is None:
            continue
        who = describe(server.resource_type, server.name)
        firewalls = [r for r in args.resources if r.resource_type == attachment.firewall_type
                     and points_at(r, server, attachment.reference)]
        if server.resource_type == LINODE_INSTANCE:
            dropping = [f for f in firewalls if inbound_policy(f) == "DROP"]
            if firewalls and not dropping:
                names = ", ".join(f"'{f.name}'" for f in firewalls)
                report(f"{who} is attached only to Linode Firewall {names}, whose inbound policy is not DROP, so "
                       "every port is open. Fix: set inbound_policy='DROP' on the firewall.", server.urn)
                continue
            firewalls = dropping
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


# --- the policies --------------------------------------------------------------------------------------------
firewall_attached = StackValidationPolicy(
    name="server-firewall-attached",
    description="Every server has a cloud firewall attached (DigitalOcean Firewall, Linode Firewall with inbound "
                "policy DROP, Lightsail public ports).",
    validate=_validate_firewall_attached,
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
    description="SSH (port 22) open to the whole internet: allowed outside production, but better restricted.",
    validate=_validate_ssh_advisory,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.MEDIUM,
)

ssh_restricted_in_production = ResourceValidationPolicy(
    name="production-ssh-restricted",
    description="In a production stack, SSH (port 22) is not open to the whole internet.",
    validate=_validate_ssh_production,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PRODUCTION_SCHEMA,
    severity=Severity.HIGH,
)

first_boot_present = ResourceValidationPolicy(
    name="server-first-boot-data",
    description="Every server boots with this project's hardened first-boot data (no bare server).",
    validate=_validate_first_boot,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

first_boot_secrets = ResourceValidationPolicy(
    name="first-boot-no-secrets",
    description="First-boot data (and every file bundled in it) holds no plaintext secret: private keys, tokens, "
                "passwords.",
    validate=_validate_no_secrets,
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
    production_safety, catalog_sizes)
STACK_POLICIES: tuple[StackValidationPolicy, ...] = (firewall_attached,)
POLICIES: tuple[ResourceValidationPolicy | StackValidationPolicy, ...] = (*STACK_POLICIES, *RESOURCE_POLICIES)
