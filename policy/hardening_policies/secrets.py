"""The secrets scan: plaintext credentials anywhere in first-boot data or the converge payload, fail closed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
)

from components import firstboot
from components.config import PROJECT
from components.firstboot import PROVISION_SCRIPT, wire
from policy.hardening_policies.archives import TarEntry
from policy.hardening_policies.expander import Expander, yaml_document
from policy.hardening_policies.first_boot import HOST_KEY_NAME, RawFirstBoot, raw_first_boot
from policy.hardening_policies.host_key import host_key_problem
from policy.hardening_policies.resources import REMOTE_COMMAND, SERVER_VENDORS, describe, known, text


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


def pinned_host_key_layer(expander: Expander) -> str | None:
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
    keys = [e for e in entries if e.name == HOST_KEY_NAME]
    if len(keys) != 1:
        return None
    try:
        return f"{at} > {HOST_KEY_NAME}" if host_key_problem(keys[0].content.decode()) is None else None
    except UnicodeDecodeError:
        return None


def find_secrets(raw: RawFirstBoot, pinned_host_key: bool = True) -> list[SecretFinding]:
    """Every plaintext secret in first-boot data, looking inside every encoded layer, and every part the scan
    could not read to the end (fail closed). Values are never kept. pinned_host_key: the one host key first boot
    carries on purpose is exempt (pinned_host_key_layer); False for data that must hold no key at all."""
    expander = Expander()
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
            for key in cloud_config_passwords(yaml_document(layer)):
                add("cloud-config password", f"{where} ({key})")
    for what, where in expander.unreadable:
        add(what, where, unreadable=True)
    return findings




def is_converge(resource_type: str, props: Mapping[str, Any]) -> bool:
    """A command:remote:Command that runs the host's converge (HostConfig)."""
    return resource_type == REMOTE_COMMAND and known(lambda: text(props.get("create"))) == firstboot.CONVERGE_COMMAND


def converge_payload(resource_type: str, props: Mapping[str, Any]) -> RawFirstBoot | None:
    """The stdin of the host's converge (a command:remote:Command running CONVERGE_COMMAND): first boot's files
    again, sent as a plain input (kept unencrypted in the state), so it is scanned like first-boot data; unlike
    first boot, it may carry no private key at all (the host key is never part of it)."""
    if not is_converge(resource_type, props):
        return None
    data = known(lambda: text(props.get("stdin")))
    return RawFirstBoot(data, "stdin") if data else None


def validate_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
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
