"""The resource tree of a run (stack > component > vendor resources, every input) and the stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from components.config import PROJECT, HostSpec
from components.host import server_lifecycle
from components.testing import mockrun
from components.vendors import host_class
from tools.plan.values import SECRET, Shown, field_lines, inline_text, scalar_text


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
    return (f"protect: {scalar_text(life.protect)}, ignoreChanges: {inline_text(list(life.ignore_changes))}, "
            f"deleteBeforeReplace: {scalar_text(life.delete_before_replace)}")


def _tree_lines(node: _Node, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
    lines = [node.label if top else f"{prefix}{'└─ ' if last else '├─ '}{node.label}"]
    inner = "" if top else prefix + ("   " if last else "│  ")
    lines += [f"{inner}{'│  ' if node.children else '   '}{d}" for d in node.details]
    for i, child in enumerate(node.children):
        lines += _tree_lines(child, inner, i == len(node.children) - 1, top=False)
    return lines


def output_rows(run: mockrun.StackRun, shown: Shown) -> list[list[str]]:
    return [[name, SECRET if name in run.secret_outputs
             else shown.text(value, name) if isinstance(value, str) else inline_text(shown.value(value))]
            for name, value in run.outputs.items()]
