"""Offline plan and vendor comparison: what a stack creates and costs, with no Pulumi CLI, plugin or credential.

    python -m tools.plan STACK [--format text|markdown]
    python -m tools.plan [STACK] --compare [--tier TIER] [--near REGION] [--format text|markdown]
    python -m tools.plan --check-golden        # exit 1 and print a diff when a golden file is out of date
    python -m tools.plan --update-golden       # rewrite tests/golden/ after reviewing the change

STACK is a stack name (stacks/Pulumi.<STACK>.yaml) or the path of a stack file. The plan runs `__main__.py`
under Pulumi mocks (components.testing.mockrun) and prints the resource tree with every input, the outputs, a summary
of the first-boot data and the monthly cost. Values the vendor assigns at deploy time are shown as
<resource.attribute>, never as the mocks' stand-ins; secret values are masked. The same run goes through the
policy pack (policy/, via policy.offline): the plan lists its violations and exits 1 on a mandatory one, as
`pulumi preview --policy-pack policy` would refuse the stack.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import json
import re
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python tools/plan.py` from anywhere

import pulumi
from pulumi.runtime import rpc

from components import catalog, changes
from components.app import release_cache_dir
from components.config import (
    DEFAULT_REGIONS,
    PROJECT,
    ConfigError,
    HostSpec,
    default_of,
    load_stack_file,
    stack_name_of,
)
from components.cost import monthly_cost
from components.firstboot import (
    CONVERGE_COMMAND,
    HOST_KEY_PATH,
    MAX_FIRST_BOOT_BYTES,
    PROVISION_SCRIPT,
    FirstBoot,
    FirstBootTooLarge,
    HostFile,
    RenderedFirstBoot,
    converge_bundle,
    converge_files,
    describe_first_boot,
    file_digest,
    linode_user_data,
    packages_for,
    render_first_boot,
    wire,
)
from components.firstboot.concerns import PHASES, concern_of, concerns_for
from components.host import server_lifecycle
from components.hostconfig import converge_stdin
from components.providers import host_class
from components.regions import Location, find_place, nearest
from components.testing import mockrun
from policy import hardening_policies as hp
from policy import offline
from tools.golden import write_goldens

ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = ROOT / "stacks"
GOLDEN_DIR = ROOT / "tests" / "golden"
REFRESH_COMMAND = "python -m tools.plan --update-golden"
SECRET = "[secret]"
#: Config keys that hold credentials: masked even when a stack file stores them in plain text.
_CREDENTIAL_KEY = re.compile(r"(token|password|secret|accesskey|privatekey|apikey)$", re.IGNORECASE)
#: Inputs naming another resource by id; a number there that no resource of this run has was looked up.
_ID_KEY = re.compile(r"(Id|Ids)$")
_LONG_STRING = 200
_WIDTH = 100


# --------------------------------------------------------------------------------------------------------
# A small document model, rendered as aligned plain text (terminal) or Markdown (pull-request comment).

@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    right: frozenset[int] = frozenset()  # right-aligned columns (numbers)
    code: frozenset[int] = frozenset()  # columns shown as `code` in Markdown


@dataclass
class Pre:
    lines: list[str]


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


Block = Table | Pre | Para | Bullets


@dataclass
class Section:
    title: str
    blocks: list[Block]


@dataclass
class Document:
    title: str
    sections: list[Section]
    intro: list[Block] = field(default_factory=list)


def render(doc: Document, fmt: str) -> str:
    return render_markdown(doc) if fmt == "markdown" else render_text(doc)


def render_text(doc: Document) -> str:
    out = [doc.title, "=" * len(doc.title)]
    for block in doc.intro:
        out += ["", *_text_block(block)]
    for section in doc.sections:
        out += ["", section.title, "-" * len(section.title), *section_text_lines(section.blocks)]
    return "\n".join(out) + "\n"


def section_text_lines(blocks: Sequence[Block]) -> list[str]:
    """A section's blocks as plain text, a blank line between them (also the README's generated examples)."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        if i:
            out.append("")
        out += _text_block(block)
    return out


def _text_block(block: Block) -> list[str]:
    if isinstance(block, Table):
        cells = [block.headers, *block.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(block.headers))]

        def line(row: Sequence[str]) -> str:
            return "  ".join(c.rjust(w) if i in block.right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

        return [line(block.headers), "  ".join("-" * w for w in widths), *(line(r) for r in block.rows)]
    if isinstance(block, Pre):
        return block.lines
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    return [block.text]


def render_markdown(doc: Document) -> str:
    out = [f"## {doc.title}"]
    for block in doc.intro:
        out += ["", *_markdown_block(block)]
    for section in doc.sections:
        out += ["", f"### {section.title}"]
        for block in section.blocks:
            out += ["", *_markdown_block(block)]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Markdown-safe prose: outside `code` spans, `<word` would start an HTML tag that GitHub strips."""
    parts = text.split("`")
    return "`".join(re.sub(r"<(?=[A-Za-z/!])", "&lt;", p) if i % 2 == 0 else p for i, p in enumerate(parts))


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, Table):
        def cell(i: int, text: str) -> str:
            text = text.replace("|", "\\|")
            return f"`{text}`" if i in block.code and text else _md(text)

        def line(row: Sequence[str], code: bool = True) -> str:
            return "| " + " | ".join(cell(i, c) if code else _md(c) for i, c in enumerate(row)) + " |"

        rule = "|" + "|".join("---:" if i in block.right else "---" for i in range(len(block.headers))) + "|"
        return [line(block.headers, code=False), rule, *(line(r) for r in block.rows)]
    if isinstance(block, Pre):
        return ["```text", *block.lines, "```"]
    if isinstance(block, Bullets):
        return [f"- {_md(item)}" for item in block.items]
    return [_md(block.text)]


# --------------------------------------------------------------------------------------------------------
# Values: what the mocks recorded, made readable and safe to print.

def usd(amount: float) -> str:
    return f"${amount:,.2f}"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text and text.strip() == text and "\n" not in text else json.dumps(text)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_inline(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _scalar(value)


def field_lines(key: str, value: Any) -> list[str]:
    """`key: value` lines, YAML-like: lists of mappings (firewall rules) one item per line, sorted keys."""
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        lines = [f"{key}:"]
        for item in value:
            if not isinstance(item, dict):
                lines.append(f"  - {_inline(item)}")
                continue
            flat = ", ".join(f"{k}: {_inline(item[k])}" for k in sorted(item))
            if len(flat) <= _WIDTH:
                lines.append(f"  - {flat}")
            else:
                sub = [line for k in sorted(item) for line in field_lines(k, item[k])]
                lines += [f"  - {sub[0]}", *(f"    {line}" for line in sub[1:])]
        return lines
    inline = _inline(value)
    if isinstance(value, dict) and len(key) + 2 + len(inline) > _WIDTH:
        return [f"{key}:", *(f"  {line}" for k in sorted(value) for line in field_lines(k, value[k]))]
    if isinstance(value, list) and len(key) + 2 + len(inline) > _WIDTH:
        return [f"{key}:", *(f"  - {_inline(v)}" for v in value)]
    return [f"{key}: {inline}"]


@dataclass
class Shown:
    """Turns recorded values into printable ones: masks secrets, names deploy-time values, summarises blobs."""

    first_boot: Mapping[str, str]  # exact first-boot data -> its summary
    computed: Mapping[str, str]  # a mock's stand-in for a vendor-assigned value -> <resource.attribute>
    ids: Mapping[str, str]  # mock id -> <resource.id>

    def value(self, value: Any, key: str = "", secret: bool = False) -> Any:
        """Printable form of a recorded value; inside a secret only first-boot data is named (never shown)."""
        if isinstance(value, pulumi.FileAsset):  # an upload: name the file, relative to the project or the cache
            path, cache = Path(str(value.path)).resolve(), release_cache_dir().resolve()
            shown = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else
                     f"<release cache>/{path.relative_to(cache)}" if path.is_relative_to(cache) else path)
            return f"file {shown}"
        if isinstance(value, dict):
            if rpc._special_sig_key in value:
                if value[rpc._special_sig_key] != rpc._special_secret_sig:
                    return "<resource reference>"
                return self.value(value.get("value"), key, secret=True) if self._has_first_boot(value) else SECRET
            return {k: self.value(v, k, secret) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key, secret) for v in value]
        if secret:  # first-boot data carries the host's private key: it is a secret, named by its summary
            return f"{SECRET} {self.first_boot[value]}" if isinstance(value, str) and value in self.first_boot \
                else SECRET
        if isinstance(value, str):
            if value in self.first_boot:
                return self.first_boot[value]
            if value in self.computed:
                return self.computed[value]
            if (_ID_KEY.search(key) or key == "triggers") and value in self.ids:  # a server id redeploys
                return self.ids[value]
            if len(value) > _LONG_STRING:
                return f"[{len(value.encode())} bytes, sha256 {hashlib.sha256(value.encode()).hexdigest()[:12]}]"
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            as_id = str(int(value))
            if as_id in self.ids:
                return self.ids[as_id]
            if _ID_KEY.search(key):
                return "<id looked up at deploy>"
        return value

    def _has_first_boot(self, value: Any) -> bool:
        if isinstance(value, dict):
            return any(self._has_first_boot(v) for v in value.values())
        if isinstance(value, list):
            return any(self._has_first_boot(v) for v in value)
        return isinstance(value, str) and value in self.first_boot

    def text(self, text: str) -> str:
        """An output string: as `value`, and every stand-in inside it replaced (`ssh deploy@<...ip.ipAddress>`)."""
        whole = self.value(text)
        if whole != text:
            return str(whole)
        for stand_in in sorted(self.computed, key=len, reverse=True):
            text = re.sub(rf"(?<![\w.:]){re.escape(stand_in)}(?![\w:])", self.computed[stand_in], text)
        return text


def computed_refs(resources: Sequence[mockrun.RecordedResource]) -> dict[str, str]:
    """Each value the mocks made up for a vendor-assigned attribute -> `<resource.attribute>`.

    When resources of several types got the same stand-in (a static IP and its attachment), the first type
    (by token) is named. Two resources of one type (two SSH keys) get the type instead (`<SshKey.fingerprint>`):
    the mocks give them the same stand-in, so which is which cannot be told.
    """
    sources: dict[str, set[tuple[str, str, str]]] = {}
    for r in resources:
        for attr, value in mockrun.COMPUTED.get(r.type, {}).items():
            items = [(f"{attr}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else [(attr, value)]
            for name, item in items:
                # 2001:db8::30/128 is exported bare; a public key without the provider's trailing newline
                for variant in {str(item), str(item).strip(), str(item).split("/")[0]}:
                    sources.setdefault(variant, set()).add((r.type, r.name, name))
    refs = {}
    for value, found in sources.items():
        rtype, rname, attr = min(found)
        same_type = {n for t, n, _ in found if t == rtype}
        refs[value] = f"<{rname}.{attr}>" if len(same_type) == 1 else f"<{_short(rtype)}.{attr}>"
    return refs


def _short(rtype: str) -> str:
    return rtype.rsplit(":", 1)[-1]


# --------------------------------------------------------------------------------------------------------
# First boot: what it writes and why, derived from the files themselves.

def file_concern(path: str, spec: HostSpec) -> str:
    """The concern that owns a first-boot file (components/firstboot/concerns.py), by name."""
    concern = concern_of(path, spec)
    return concern.name if concern else ""


def concern_rows(spec: HostSpec) -> list[list[str]]:
    """Each concern that applies to the stack, in the order first boot activates it: phases, purpose, packages."""
    return [[c.name, ", ".join(c.phases), c.purpose, " ".join(c.packages)] for c in concerns_for(spec)]


def phase_steps(spec: HostSpec) -> list[str]:
    """Per phase, the concerns first boot activates in it, in order (a concern may come back in a later phase)."""
    return [f"{phase}: {', '.join(c.name for c in concerns_for(spec) if phase in c.phases)}" for phase in PHASES]


def first_boot_forms(rendered: RenderedFirstBoot) -> dict[str, str]:
    """Each form's exact bytes as a vendor receives them, keyed like `RenderedFirstBoot.sizes`."""
    return {"cloud-config": rendered.cloud_config, "linode-metadata": linode_user_data(rendered.cloud_config),
            "launch-script": rendered.launch_script}


def _sent_forms(resources: Iterable[mockrun.RecordedResource], forms: Mapping[str, str]) -> dict[str, str]:
    """form -> name of the resource that carries it in this run."""
    by_data = {data: form for form, data in forms.items()}
    sent: dict[str, str] = {}

    def walk(value: Any, owner: str) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v, owner)
        elif isinstance(value, list):
            for v in value:
                walk(v, owner)
        elif isinstance(value, str) and value in by_data:
            sent[by_data[value]] = owner

    for r in resources:
        walk(r.inputs, r.name)
    return sent


# --------------------------------------------------------------------------------------------------------
# The plan of one stack.

def find_stack(name: str, stacks_dir: Path = STACKS_DIR) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = stacks_dir / f"Pulumi.{name}.yaml"
    if candidate.exists():
        return candidate
    known = ", ".join(stack_name_of(p) for p in stack_files(stacks_dir))
    raise ValueError(f"no stack {name!r} (looked for {candidate}); stacks: {known}")


def stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    return sorted(stacks_dir.glob("Pulumi.*.yaml"))


def declared_secret_keys(project_file: Path = ROOT / "Pulumi.yaml") -> set[str]:
    """Project config keys Pulumi.yaml declares `secret: true` (Pulumi insists they be set as secrets)."""
    document = yaml.safe_load(project_file.read_text()) or {}
    return {f"{PROJECT}:{key}" for key, entry in (document.get("config") or {}).items()
            if isinstance(entry, dict) and entry.get("secret")}


def config_rows(path: Path) -> list[list[str]]:
    """The stack file's config as the program receives it; secure, secret-declared and credential values masked."""
    _, config, secret_keys = mockrun.stack_file_config(path)
    masked = set(secret_keys) | declared_secret_keys()
    rows = []
    for key, text in config.items():
        if key in masked:
            shown = SECRET
        elif _CREDENTIAL_KEY.search(key.rsplit(":", 1)[-1]):
            shown = f"{SECRET} (stored in plain text: use `pulumi config set --secret {key}`)"
        else:
            shown = text
            if text.startswith("["):
                with contextlib.suppress(json.JSONDecodeError, TypeError):
                    shown = ", ".join(str(v) for v in json.loads(text))
        rows.append([key, shown])
    return rows


def build_plan(path: Path) -> Document:
    """Run the stack under mocks and describe what it would create and cost, and what the policy pack says."""
    return plan_and_violations(path)[0]


def plan_and_violations(path: Path) -> tuple[Document, list[offline.Violation]]:
    """The plan, and the policy pack's violations: both from one run of the program."""
    spec = load_stack_file(path)  # ConfigError here: nicer than the program's RunError, and nothing ran yet
    rendered = render_first_boot(spec)
    run, case = offline.run_stack_file_case(path)
    violations = offline.evaluate(case)
    return plan_document(stack_name_of(path), spec, rendered, run, config_rows(path), violations), violations


def plan_document(stack: str, spec: HostSpec, rendered: RenderedFirstBoot, run: mockrun.StackRun,
                  config: list[list[str]], violations: Sequence[offline.Violation] | None = None) -> Document:
    """The plan document; `violations` None leaves out the policy checks (the caller did not run the pack)."""
    first_boot = describe_first_boot(spec)
    forms = first_boot_forms(rendered)
    sent = _sent_forms(run.resources, forms)
    converge = converge_stdin(spec)
    shown = Shown(
        first_boot={**{data: f"[first boot: {form} form, {len(data.encode())} bytes, digest {rendered.digest[:12]}; "
                             "see First boot]" for form, data in forms.items()},
                    converge: f"[converge bundle, base64: {len(converge_files(spec).files)} files, "
                              f"{len(converge.encode())} bytes; see Host configuration]"},
        computed=computed_refs(run.resources),
        ids={r.id: f"<{r.name}.id>" for r in run.resources},
    )
    vendor = spec.vendor_info
    cost = monthly_cost(spec)
    place = find_place(spec.region)[1]
    custom = [r for r in run.resources if r.custom]

    intro: list[Block] = [
        Para(f"{vendor.title} {spec.size.slug} in {spec.region} ({place.label}), {spec.image}: "
             f"{len(custom)} cloud resources, {usd(cost.total_usd)} per month."),
        Para("Offline: `__main__.py` ran under Pulumi mocks (no CLI, plugin or credential). "
             "`<resource.attribute>` marks a value the vendor assigns at deploy time; `[secret]` a masked value."),
    ]
    refused = sum(v.mandatory for v in violations or ())
    if refused:
        intro.append(Para(f"Refused by the policy pack: {_violations(refused, 'mandatory')}; see Policy checks."))
    sections = [
        Section("Stack config", [Table(["Key", "Value"], config, code=frozenset({1}))]),
        Section("What a config change does to the running server", change_blocks(spec)),
        Section(f"Resources ({len(custom)})", [Pre(resource_tree(stack, spec, run, shown, set(sent.values())))]),
        *([Section("Policy checks", policy_blocks(violations))] if violations is not None else []),
        Section("Outputs", [Table(["Output", "Value"], output_rows(run, shown), code=frozenset({1}))]),
        Section("First boot", first_boot_blocks(spec, first_boot, rendered, sent, run)),
        Section("Host configuration", host_config_blocks(spec, run)),
        Section("Monthly cost", [cost_table(spec), Para(
            "List prices in USD from components/catalog.py; taxes and region surcharges excluded. Compare "
            f"vendors: python -m tools.plan {stack} --compare")]),
    ]
    return Document(f"Plan for stack {stack}", sections, intro)


def _violations(n: int, level: str) -> str:
    return f"{n} {level} policy violation{'s' if n != 1 else ''}"


def policy_blocks(violations: Sequence[offline.Violation], policies: int = len(hp.POLICIES)) -> list[Block]:
    """What `pulumi preview --policy-pack policy` would report: each violation, or that every policy passes."""
    if not violations:
        return [Para(f"All {policies} policies pass (the policy pack in policy/, as `pulumi preview --policy-pack "
                     "policy` runs it).")]
    failing = len({v.policy for v in violations})
    mandatory = sum(v.mandatory for v in violations)
    advisory = len(violations) - mandatory
    counts = ", ".join(_violations(n, level) for n, level in ((mandatory, "mandatory"), (advisory, "advisory")) if n)
    blocks: list[Block] = [
        Para(f"{policies - failing} of {policies} policies pass; {counts} (the policy pack in policy/, as "
             "`pulumi preview --policy-pack policy` runs it):"),
        Bullets([f"[{v.level}] {v.policy} on {v.resource}: {v.message}" for v in violations]),
    ]
    if mandatory:
        blocks.append(Para("Refused: `pulumi preview --policy-pack policy` would fail on this stack, and `pulumi up "
                           "--policy-pack policy` would refuse the violating resources. Fix every mandatory "
                           "violation before deploying."))
    else:
        blocks.append(Para("Advisory violations are warnings: the preview and the update go ahead."))
    return blocks


@dataclass
class _Node:
    label: str
    details: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)


def resource_tree(stack: str, spec: HostSpec, run: mockrun.StackRun, shown: Shown,
                  servers: set[str]) -> list[str]:
    """Stack > component > vendor resources, each with every input (sorted) and, for the server, its options.

    The mocks do not report parents; the adapters name children `<component>-<role>`, so the component
    with the longest matching name prefix is the parent. The server (the resource carrying the first-boot
    data) comes first, then the rest by name: stable, whatever order the engine registered them in.
    """
    components = sorted((r for r in run.resources if not r.custom), key=lambda r: r.name)
    nodes = {r.name: _Node(f"{r.type}  {r.name}") for r in components}
    root = _Node(f"pulumi:pulumi:Stack  {PROJECT}-{stack}")
    root.children = [nodes[r.name] for r in components]
    options = _server_options(spec)
    for r in sorted((r for r in run.resources if r.custom), key=lambda r: (r.name not in servers, r.name)):
        node = _Node(f"{r.type}  {r.name}",
                     [line for key in sorted(r.inputs) for line in field_lines(key, shown.value(r.inputs[key], key))])
        if r.name in servers:
            node.details.append(f"(options) {options}")
        owners = [c.name for c in components if r.name.startswith(c.name + "-")]
        (nodes[max(owners, key=len)] if owners else root).children.append(node)
    return _tree_lines(root)


def _server_options(spec: HostSpec) -> str:
    """The server's resource options, from the same function the adapters use (the mocks do not see them)."""
    cls = host_class(spec.vendor)  # imports the vendor SDK, which the run has already loaded
    life = server_lifecycle(spec, cls.first_boot_inputs, cls.unique_server_name)
    return (f"protect: {_scalar(life.protect)}, ignoreChanges: {_inline(list(life.ignore_changes))}, "
            f"deleteBeforeReplace: {_scalar(life.delete_before_replace)}")


def _tree_lines(node: _Node, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
    lines = [node.label if top else f"{prefix}{'└─ ' if last else '├─ '}{node.label}"]
    inner = "" if top else prefix + ("   " if last else "│  ")
    lines += [f"{inner}{'│  ' if node.children else '   '}{d}" for d in node.details]
    for i, child in enumerate(node.children):
        lines += _tree_lines(child, inner, i == len(node.children) - 1, top=False)
    return lines


def output_rows(run: mockrun.StackRun, shown: Shown) -> list[list[str]]:
    return [[name, SECRET if name in run.secret_outputs
             else shown.text(value) if isinstance(value, str) else _inline(shown.value(value))]
            for name, value in run.outputs.items()]


def bundled_files(rendered: RenderedFirstBoot) -> list[HostFile]:
    """The files as sent: read back from the cloud-config form with the wire format's own parser."""
    return [HostFile(e.path, e.content.decode(), f"{e.mode:04o}")
            for e in wire.unpack(wire.bundle_of_cloud_config(rendered.cloud_config))]


def first_boot_blocks(spec: HostSpec, first_boot: FirstBoot, rendered: RenderedFirstBoot, sent: Mapping[str, str],
                      run: mockrun.StackRun) -> list[Block]:
    applied = run.outputs.get("firstBootApplied")
    summary = (f"Digest {rendered.digest[:16]}: {len(bundled_files(rendered))} files unpacked, then {PROVISION_SCRIPT} "
               "runs once as root." + (f" Applied {applied}." if applied else ""))
    limit = MAX_FIRST_BOOT_BYTES
    sizes = Table(["Form", "Bytes", f"Of the {limit // 1024} KiB limit", "Sent by"], [
        [form, f"{n:,}", f"{n / limit:.0%}", sent.get(form, "")] for form, n in rendered.sizes.items()
    ], right=frozenset({1, 2}))
    sent_files = bundled_files(rendered)
    files = Table(["File", "Mode", "Digest", "Concern"],
                  [[f.path, f.mode, file_digest(f), file_concern(f.path, spec)] for f in sent_files],
                  code=frozenset({0}))
    return [
        Para(summary),
        sizes,
        Para("Files (digest: sha256 of mode and content, as HostConfig's triggers name them; a changed file shows "
             "as a changed digest):"),
        files,
        Para("Concerns (components/firstboot/concerns.py), in the order first boot activates them:"),
        Table(["Concern", "Phases", "Purpose", "Packages"], concern_rows(spec), code=frozenset({0})),
        Para("Phases (lockdown before any apt call; serve before the host answers; deferred right after):"),
        Bullets(phase_steps(spec)),
        Para(f"Packages: {' '.join(packages_for(spec))}."),
    ]


def host_config_blocks(spec: HostSpec, run: mockrun.StackRun) -> list[Block]:
    """What HostConfig converges on the running host, file by file (the digests its triggers hold)."""
    converge = next((r for r in run.resources if r.type == "command:remote:Command"
                     and r.inputs.get("create") == CONVERGE_COMMAND), None)
    if converge is None:
        return [Para("No HostConfig in this run: the running host is not converged.")]
    files = converge_files(spec).files
    needs = changes.keys_by_effect(spec.vendor).get(changes.FIRST_BOOT, [])
    return [
        Para(f"{converge.name} runs `{CONVERGE_COMMAND}` over SSH as {spec.admin_user} (host key pinned), after "
             f"the first-boot readiness wait and before the app release, with {len(files)} files on stdin "
             f"({len(converge_bundle(spec)):,} bytes gzip'd): the files of First boot above except "
             f"{HOST_KEY_PATH}, which a converge never rotates. Its triggers hold each file's digest (the Digest "
             "column), so a preview names the files an edit changes; a changed digest replaces this command "
             "resource, never the server. The host writes, validates and reloads only the concerns whose files "
             "differ; a failed check restores the previous files."),
        Para(f"Still need reprovision: true (values first boot's one-time steps read): {', '.join(needs)}."),
    ]


def change_blocks(spec: HostSpec) -> list[Block]:
    """Which keys replace, reboot or leave this stack's server alone when changed (components.changes)."""
    lead = {
        changes.REPLACE: "Changing these keys replaces the server (new disk, data lost)",
        changes.REBOOT: "Changing these keys reboots the server",
        changes.IN_PLACE: "Changed in place, no restart",
        changes.CONVERGE: "Converged in place by HostConfig over SSH (only the changed files), server kept",
        changes.FIRST_BOOT: "Needs reprovision: the running server keeps the old value",
        changes.RELEASE: "A new app release over SSH; the server is kept",
        changes.NONE: "No server change",
    }
    grouped = changes.keys_by_effect(spec.vendor, spec.reprovision)
    items = [f"{lead[kind]}: {', '.join(keys)}." for kind, keys in grouped.items()]
    notes = [f"{key}: {changes.effect(key, spec.vendor, spec.reprovision).note}."
             for key in grouped.get(changes.REPLACE, []) + grouped.get(changes.REBOOT, [])]
    guard = ("protect is on: Pulumi refuses any replacement until you unprotect the server."
             if spec.protect else "protect is off: a replacement goes ahead after the preview's confirmation.")
    return [Bullets(items), Para("Why:"), Bullets(notes), Para(guard + " Facts per key and vendor, with their "
                                                                "sources: components/changes.py.")]


def cost_table(spec: HostSpec) -> Table:
    vendor, cost = spec.vendor_info, monthly_cost(spec)
    backups = f"on: {vendor.backups}" if spec.backups else "off"
    return Table(["Item", "USD / month"], [
        [f"Server ({spec.size.slug})", usd(cost.server_usd)],
        [f"Backups ({backups})", usd(cost.backups_usd)],
        [f"Static IPv4 ({_static_ip(vendor)})", usd(cost.static_ip_usd)],
        ["Total", usd(cost.total_usd)],
    ], right=frozenset({1}))


def _static_ip(vendor: catalog.Vendor) -> str:
    if not vendor.has_static_ipv4:
        return "no separate static IP; the server's own IPv4 is used"
    return "free while attached" if vendor.static_ipv4_usd == 0 else f"{usd(vendor.static_ipv4_usd)} per month"


# --------------------------------------------------------------------------------------------------------
# The same host on every vendor.

DEFAULT_NEAR = DEFAULT_REGIONS[catalog.VENDORS[0]]  # the project's default location (every default is there)
ORDINALS = ("1st", "2nd", "3rd")  # the nearest regions a comparison lists


def _neutral_spec(tier: str) -> HostSpec:
    """A host with every optional setting at its default, for comparing without a stack."""
    vendor = catalog.vendor(catalog.VENDORS[0])
    size = next(s for s in (v.size_for(tier) for v in catalog.CATALOG.values()) if s is not None)
    return HostSpec(vendor=vendor.name, size=size, region=DEFAULT_REGIONS[vendor.name], image=catalog.DEFAULT_IMAGE,
                    host_name="compare", ssh_keys=(), ssh_allowed_cidrs=())


def tier_of(spec: HostSpec) -> str:
    """The stack's tier; a plain plan slug maps to the vendor's tier with the same memory."""
    if spec.size.tier:
        return spec.size.tier
    same = [s.tier for s in spec.vendor_info.sizes if s.tier and s.ram_mb == spec.size.ram_mb]
    if not same:
        raise ValueError(f"plan {spec.size.slug} has no portable tier; pass --tier ({', '.join(catalog.TIERS)})")
    return same[0]


def build_compare(tier: str | None = None, near: str | None = None, spec: HostSpec | None = None,
                  stack: str | None = None) -> Document:
    """Vendors side by side at one tier: plan, hardware, cost, static IPv4, backups, DNS, nearby regions.

    With a stack's spec, the host keeps that stack's settings (backups) and defaults to its tier and region.
    """
    if tier is None:
        tier = tier_of(spec) if spec else default_of("size")
    if tier not in catalog.TIERS:
        raise ValueError(f"unknown tier {tier!r}; tiers: {', '.join(catalog.TIERS)}")
    place_name, place = find_place(near or (spec.region if spec else DEFAULT_NEAR))
    base = spec or _neutral_spec(tier)
    vendors = [catalog.vendor(v) for v in catalog.VENDORS]
    columns = [_vendor_column(v, tier, place, place_name, base) for v in vendors]
    labels = list(dict.fromkeys(label for column in columns for label in column))  # first-seen order
    rows = [[label, *(column.get(label, "") for column in columns)] for label in labels]
    offered = [(monthly_cost(_on(base, v, tier, place)).total_usd, v.title) for v in vendors if v.size_for(tier)]
    cheapest = min(offered)[0]
    names = " and ".join(title for total, title in offered if total == cheapest)
    what = f"stack {stack}" if stack else "a host with default settings"
    headers = ["", *(v.title + (" (this stack)" if spec and v.name == spec.vendor else "") for v in vendors)]
    return Document(
        f"Vendor comparison: tier {tier}, near {place_name}" + (f" (stack {stack})" if stack else ""),
        [Section(f"{tier} tier", [
            Table(headers, rows),
            Para(f"Cheapest for {what}: {names} at {usd(cheapest)} per month. Regions are ranked by distance from "
                 f"{place.label}; the first is where this comparison places the host. List prices in USD from "
                 "components/catalog.py; taxes and region surcharges excluded."),
        ])],
    )


def _on(base: HostSpec, vendor: catalog.Vendor, tier: str, place: Location) -> HostSpec:
    """`base` moved to `vendor`: its plan at `tier`, in its region nearest to `place`."""
    size = vendor.size_for(tier)
    assert size is not None
    return replace(base, vendor=vendor.name, size=size, region=nearest(vendor.name, place, 1)[0].region)


def _vendor_column(vendor: catalog.Vendor, tier: str, place: Location, place_name: str,
                   base: HostSpec) -> dict[str, str]:
    """Row label -> this vendor's cell; a vendor without the tier leaves the plan's rows empty."""
    size = vendor.size_for(tier)
    column = {"Plan": size.slug if size else "not offered"}
    if size:
        column |= {
            "vCPU": str(size.vcpus),
            "RAM": f"{size.ram_mb} MB" if size.ram_mb < 1024 else f"{size.ram_gb:g} GB",
            "Disk": f"{size.disk_gb} GB",
            "Transfer / month": f"{size.transfer_tb:g} TB",
            "Server / month": usd(size.monthly_usd),
            "Backups / month": usd(vendor.backup_usd(size)),
        }
    column |= {
        "Backups pricing": vendor.backups,
        "Static IPv4": f"yes, {_static_ip(vendor)}" if vendor.has_static_ipv4 else _static_ip(vendor),
        "DNS hosting": "yes" if vendor.has_dns else "no",
        "First-boot form": vendor.first_boot_form,
        "Changing size": changes.effect("size", vendor.name).text,
        f"Total / month (backups {'on' if base.backups else 'off'})":
            usd(monthly_cost(_on(base, vendor, tier, place)).total_usd) if size else "",
    }
    for i, n in enumerate(nearest(vendor.name, place, len(ORDINALS))):
        column[f"Near {place_name}, {ORDINALS[i]}"] = f"{'/'.join(n.regions)} ({n.location.label}) {n.km:,} km"
    return column


# --------------------------------------------------------------------------------------------------------
# Golden files: every stack's plan and every tier's comparison, as reviewed Markdown.

def golden_documents(stacks_dir: Path = STACKS_DIR) -> dict[str, str]:
    docs = {f"plan-{stack_name_of(p)}.md": render_markdown(build_plan(p)) for p in stack_files(stacks_dir)}
    docs |= {f"compare-{tier}.md": render_markdown(build_compare(tier)) for tier in catalog.TIERS}
    return docs


def _golden_files(golden_dir: Path) -> list[Path]:
    return sorted([*golden_dir.glob("plan-*.md"), *golden_dir.glob("compare-*.md")])


def check_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Each difference between what the stacks produce now and the reviewed golden files, as a unified diff."""
    problems = []
    expected = golden_documents(stacks_dir)
    for name, text in expected.items():
        path = golden_dir / name
        if not path.exists():
            problems.append(f"{name}: no golden file (new stack?)")
            continue
        old = path.read_text()
        if old != text:
            diff = difflib.unified_diff(old.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"golden/{name}", f"now/{name}")
            problems.append("".join(diff))
    problems += [f"{p.name}: golden file for a stack or tier that no longer exists"
                 for p in _golden_files(golden_dir) if p.name not in expected]
    return problems


def update_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Rewrite the golden files; returns the names written or removed."""
    return write_goldens(golden_documents(stacks_dir), golden_dir, _golden_files(golden_dir))


# --------------------------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<STACK>.yaml) or stack file path")
    parser.add_argument("--format", choices=("text", "markdown"), default="text", help="output format")
    parser.add_argument("--compare", action="store_true", help="the same host at the same tier on every vendor")
    parser.add_argument("--tier", choices=catalog.TIERS, help="tier to compare (default: the stack's, or small)")
    parser.add_argument("--near", metavar="REGION",
                        help=f"region slug or city to rank regions by (default: the stack's, or {DEFAULT_NEAR})")
    parser.add_argument("--check-golden", action="store_true", help="compare with tests/golden/; exit 1 on a diff")
    parser.add_argument("--update-golden", action="store_true", help="rewrite tests/golden/")
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--golden-dir", type=Path, default=GOLDEN_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the vendor SDKs are noisy on import

    if args.check_golden or args.update_golden:
        if args.update_golden:
            changed = update_golden(args.stacks_dir, args.golden_dir)
            print("\n".join(f"updated {name}" for name in changed) or "golden files are up to date")
            return 0
        problems = check_golden(args.stacks_dir, args.golden_dir)
        if problems:
            print("\n".join(problems))
            print(f"\nThe plan changed. Review the diff above; if it is intended, run: {REFRESH_COMMAND}",
                  file=sys.stderr)
            return 1
        print("golden files are up to date")
        return 0
    if (args.tier or args.near) and not args.compare:
        parser.error("--tier and --near go with --compare")
    if not args.stack and not args.compare:
        parser.error("give a STACK, or --compare")
    violations: list[offline.Violation] = []  # --compare does not run the policy pack
    try:
        path = find_stack(args.stack, args.stacks_dir) if args.stack else None
        if args.compare:
            spec = load_stack_file(path) if path else None
            doc = build_compare(args.tier, args.near, spec, stack_name_of(path) if path else None)
        else:
            assert path is not None
            doc, violations = plan_and_violations(path)
    except (ConfigError, FirstBootTooLarge, ValueError) as err:
        print(f"plan: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(render(doc, args.format))
    refused = sum(v.mandatory for v in violations)
    if refused:
        print(f"plan: {_violations(refused, 'mandatory')}: `pulumi preview --policy-pack policy` would refuse this "
              "stack (see Policy checks)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
