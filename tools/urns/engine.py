"""The engine's URN rules, pure: a resource's URN from its stack, project, parent and type, and the old URNs its
aliases stand for (pulumi/pulumi's files and functions are named in tools/urns/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def new_urn(stack: str, project: str, parent_type: str, base_type: str, name: str) -> str:
    """urn.go `New`: the root stack's type never prefixes a child's type."""
    typ = base_type
    if parent_type and parent_type != ROOT_STACK_TYPE:
        typ = f"{parent_type}${base_type}"
    return f"urn:pulumi:{stack}::{project}::{typ}::{name}"


def _components(urn: str) -> list[str]:
    """stack, project, qualified type, name (the name may itself contain '::')."""
    body = urn.removeprefix("urn:pulumi:")
    parts = body.split("::", 3)
    if len(parts) != 4 or not urn.startswith("urn:pulumi:"):
        raise ValueError(f"not a URN: {urn!r}")
    return parts


def qualified_type(urn: str) -> str:
    return _components(urn)[2]


def urn_type(urn: str) -> str:
    """The resource's own type: the last `$`-separated part of the qualified type."""
    return qualified_type(urn).rsplit("$", 1)[-1]


def urn_name(urn: str) -> str:
    return _components(urn)[3]


def generate_urn(stack: str, project: str, parent: str, typ: str, name: str) -> str:
    """deployment.go `generateURN`: the parent's whole qualified type chains in, unless it is the root stack."""
    parent_type = ""
    if parent and qualified_type(parent) != ROOT_STACK_TYPE:
        parent_type = qualified_type(parent)
    return new_urn(stack, project, parent_type, typ, name)


@dataclass(frozen=True)
class AliasSpec:
    """An alias as the engine receives it: a whole URN, or a spec whose empty fields mean "the resource's own"."""

    urn: str = ""
    name: str = ""
    type: str = ""
    stack: str = ""
    project: str = ""
    parent: str = ""
    no_parent: bool = False


def create_urn(name: str, typ: str, parent: str, project: str, stack: str) -> str:
    """alias.go `CreateURN`: under a parent, the parent URN's prefix and qualified type, then `$<type>`."""
    if not parent:
        return f"urn:pulumi:{stack}::{project}::{typ}::{name}"
    return f"{parent[:parent.rindex('::')]}${typ}::{name}"


def collapse_alias(stack: str, project: str, name: str, typ: str, parent: str, alias: AliasSpec,
                   parent_aliases: Mapping[str, str]) -> str:
    """step_generator.go `collapseAliasToUrn`. parent_aliases: the old URN each aliased parent was found under."""
    if alias.urn:
        return alias.urn
    alias_parent = alias.parent or parent
    if alias.parent:
        alias_parent = parent_aliases.get(alias.parent, alias.parent)
    if alias.no_parent or (alias_parent and qualified_type(alias_parent) == ROOT_STACK_TYPE):
        alias_parent = ""
    return create_urn(alias.name or name, alias.type or typ, alias_parent, alias.project or project,
                      alias.stack or stack)


def inherited_child_alias(stack: str, project: str, child_type: str, child_name: str, parent_name: str,
                          parent_alias: str) -> str:
    """step_generator.go `inheritedChildAlias`: a child named `<parent name>...` follows its parent's old name."""
    alias_name = child_name
    if child_name.startswith(parent_name):
        alias_name = urn_name(parent_alias) + child_name[len(parent_name):]
    return new_urn(stack, project, qualified_type(parent_alias), child_type, alias_name)


def generate_aliases(stack: str, project: str, name: str, typ: str, parent: str, aliases: Sequence[AliasSpec],
                     parent_aliases: Mapping[str, str]) -> list[str]:
    """step_generator.go `generateAliases`: the resource's own aliases, then those its aliased parent implies."""
    result: list[str] = []

    def add(urn: str) -> None:
        if urn not in result:
            result.append(urn)

    for alias in aliases:
        add(collapse_alias(stack, project, name, typ, parent, alias, parent_aliases))
    if parent and parent in parent_aliases:
        old_parent = parent_aliases[parent]
        add(inherited_child_alias(stack, project, typ, name, urn_name(parent), old_parent))
        for alias in aliases:
            collapsed = collapse_alias(stack, project, name, typ, parent, alias, parent_aliases)
            add(inherited_child_alias(stack, project, urn_type(collapsed), urn_name(collapsed), urn_name(parent),
                                      old_parent))
    return result
