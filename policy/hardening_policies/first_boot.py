"""First-boot data: read with the wire format's parser and held to exactly what components/firstboot renders for
this stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
)

from components import firstboot
from components.config import PROJECT, HostSpec
from components.firstboot import HOST_KEY_PATH, PROVISION_SCRIPT, wire
from components.vendors import VENDORS
from policy.hardening_policies.archives import TarEntry
from policy.hardening_policies.host_key import host_key_problem
from policy.hardening_policies.resources import (
    SERVER_VENDORS,
    describe,
    input_set,
    vendor_of,
)
from policy.hardening_policies.stack_config import NOT_IN_FIRST_BOOT, StackConfigError, stack_spec


@dataclass(frozen=True)
class RawFirstBoot:
    """A server's first-boot data as the vendor receives it, and where it sits in the resource's inputs."""

    data: str
    where: str


def raw_first_boot(resource_type: str, props: Mapping[str, Any]) -> RawFirstBoot | None:
    """Where the vendor's server resource holds its first-boot data (each vendor's folder says)."""
    vendor = vendor_of(resource_type)
    found = vendor.resources.user_data(props) if vendor else None
    return RawFirstBoot(*found) if found else None




@dataclass(frozen=True)
class FirstBootCheck:
    """What a server's first-boot data is: this project's (form, digest, bundled files) or why not."""

    form: str | None = None
    digest: str | None = None
    files: tuple[str, ...] = ()
    problem: str | None = None


#: The form each server type needs, and why (for the message when the other one is passed).
FORM_OF: Mapping[str, str] = {v.resources.server: v.first_boot_form for v in VENDORS}
_WRONG_FORM_WHY: Mapping[str, str] = {
    "cloud-config": "this vendor's cloud-init needs #cloud-config",
    "launch-script": "this vendor runs user data as a shell script after its own, so #cloud-config is ignored"}


def _sent_form(resource_type: str) -> firstboot.SentForm:
    vendor = vendor_of(resource_type)
    assert vendor is not None, resource_type
    return firstboot.SENT_FORMS[vendor.sent_form]


def _render_form(first_boot: firstboot.FirstBoot, form: str) -> str:
    if form == "launch-script":
        return firstboot.render_launch_script(first_boot)
    return firstboot.render_cloud_config(first_boot)


def render_as_vendor(resource_type: str, first_boot: firstboot.FirstBoot, form: str | None = None) -> str:
    """`first_boot` rendered by the project's own renderer exactly as the host component passes it to this
    vendor (encoded as the vendor receives it, e.g. gzip and base64 for a metadata service); `form` another
    first-boot form, encoded the same way where the encoding carries it."""
    sent = _sent_form(resource_type)
    form = form or sent.carries
    text_ = _render_form(first_boot, form)
    return sent.encode(text_) if form == sent.carries else text_




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


HOST_KEY_NAME = HOST_KEY_PATH.lstrip("/")


def check_first_boot(resource_type: str, raw: RawFirstBoot, spec: HostSpec) -> FirstBootCheck:
    """This stack's first boot, exactly: the data must equal, byte for byte, what components/firstboot renders for
    `spec` (the stack's own config) with the bundled host key, the one member the config does not determine,
    which must be a lone unencrypted OpenSSH ed25519 private key. So a changed template, an added file (an
    sshd drop-in sorting first, an authorized_keys), an edit around the bundle or another stack's data all
    differ; the bundle is compared file by file first, to say where."""
    data = raw.data
    try:
        text_ = _sent_form(resource_type).decode(data)
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
    keys = [e for e in entries if e.name == HOST_KEY_NAME]
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
    where = _first_difference(_render_form(expected, FORM_OF[resource_type]), text_)
    return FirstBootCheck(FORM_OF[resource_type], digest, files, problem=(
        f"{raw.where} differs from a fresh render of this stack's first boot (first at {where} of the "
        f"{FORM_OF[resource_type]} form), so something around the bundle was added, removed or changed"))




def validate_first_boot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in SERVER_VENDORS:
        return
    who = describe(args.resource_type, args.name)
    vendor = vendor_of(args.resource_type)
    other_boots = vendor.resources.other_boot_inputs if vendor else {}
    if booted := [f"`{name}` ({why})" for name, why in other_boots.items() if input_set(args.props, name)]:
        report(f"{who} sets {', '.join(booted)}: it would not run the hardened first boot. Fix: remove them; the "
               "project's host component sets none.", None)
    raw = raw_first_boot(args.resource_type, args.props)
    if raw is None:
        report(f"{who} has no first-boot data: it would boot as the vendor's bare image (root login, no host "
               "firewall, no automatic updates). Fix: create servers through the project's host component "
               "(components/vendors), which passes the rendered hardened-vps first boot.", None)
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
