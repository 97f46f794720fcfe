"""Every resource's URN as the Pulumi engine builds it, per stack: the identity a refactoring must not change.

    python -m tools.urns STACK                 # print the stack's URNs
    python -m tools.urns --check-golden        # exit 1 when a URN differs from tests/golden/urns-<stack>.txt
    python -m tools.urns --update-golden       # rewrite those files after reviewing the change

Pulumi finds a resource's old state by its URN. Renaming a component class's type token, a resource's name or
moving it to another parent changes the URN (and the URNs of all its children): the engine then creates a new
resource and deletes the old one, the server included, unless the new resource carries `aliases` naming the old
identity.

URNs are rebuilt here from what the program registers (type, name, parent), because the mock monitor's own URNs
differ from the engine's: it prefixes the root stack's type to the stack's children and keeps only the last
type of a parent chain. The model follows pulumi/pulumi:

- `sdk/go/common/resource/urn/urn.go` `New` (wrapped by `NewURN` in `sdk/go/common/resource/urn.go`):
  `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the qualified type being `<parent type>$<type>`
  unless the parent type is empty or the root stack's `pulumi:pulumi:Stack`.
- `pkg/resource/deploy/deployment.go` `generateURN`: the parent type is the parent URN's whole qualified type,
  so a grandchild's type chains every ancestor below the stack (`A$B$C`).
- Aliases (`pkg/resource/deploy/step_generator.go` `collapseAliasToUrn`, `inheritedChildAlias`,
  `generateAliases`, `getOldResource`; `sdk/go/common/resource/alias.go` `CreateURN`): an alias spec's empty
  fields default to the resource's own; a child of an aliased parent also gets the alias under the parent's old
  URN; the engine looks up the resource's own URN in the old state first, then each alias in order.
"""

from __future__ import annotations

import argparse
import difflib
import runpy
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python tools/urns.py` from anywhere

import pulumi

from components.config import PROJECT, stack_name_of
from components.testing import mockrun
from tools.golden import write_goldens

ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = ROOT / "stacks"
GOLDEN_DIR = ROOT / "tests" / "golden"
REFRESH_COMMAND = "python -m tools.urns --update-golden"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
RENAME_HINT = ("A changed URN is a new resource to Pulumi: `up` creates it and deletes the old one (the server "
               "too). a rename needs `aliases`: give the renamed resource or component "
               "`opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=<old name>, type_=<old type>)])` "
               "(children follow their aliased parent). Then refresh the pinned URNs: " + REFRESH_COMMAND)


# --------------------------------------------------------------------------------------------------------
# The engine's URN rules (pure).

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


# --------------------------------------------------------------------------------------------------------
# What a program registers, under mocks.

@dataclass(frozen=True)
class Registration:
    """One RegisterResource call, with the URN the engine would give it."""

    urn: str
    type: str
    name: str
    parent: str  # engine URN of the parent ("" for none)
    custom: bool
    aliases: tuple[AliasSpec, ...] = ()


@dataclass(frozen=True)
class IdentityChange:
    """What the engine does with an old state's URNs given one run's registrations.

    claimed: new URN -> the old URN it is found under (its own, or an alias). deleted: old URNs nobody claims
    (the engine deletes those resources). created: new URNs that claim nothing (the engine creates them).
    """

    claimed: dict[str, str]
    deleted: list[str]
    created: list[str]


@dataclass
class RegistrationLog:
    """Registrations in order; the mock monitor's URNs are mapped to the engine's as they come.

    run: what the same run registered and exported (inputs, outputs), for models that need both.
    """

    stack: str
    project: str = PROJECT
    registrations: list[Registration] = field(default_factory=list)
    run: mockrun.StackRun | None = None
    _engine_urn: dict[str, str] = field(default_factory=dict)

    def record(self, request: Any, mock_urn: str) -> None:
        parent = self._engine_urn.get(request.parent, request.parent)
        urn = generate_urn(self.stack, self.project, parent, request.type, request.name)
        self._engine_urn[mock_urn] = urn
        if request.type == ROOT_STACK_TYPE:
            return
        aliases = tuple(self._alias(a) for a in request.aliases)
        self.registrations.append(Registration(urn, request.type, request.name, parent, bool(request.custom),
                                               aliases))

    def _alias(self, alias: Any) -> AliasSpec:
        if alias.HasField("urn"):
            return AliasSpec(urn=alias.urn)
        spec = alias.spec
        parent = spec.parentUrn if spec.HasField("parentUrn") else ""
        return AliasSpec(name=spec.name, type=spec.type, stack=spec.stack, project=spec.project,
                         parent=self._engine_urn.get(parent, parent), no_parent=spec.noParent)

    @property
    def urns(self) -> list[str]:
        return [r.urn for r in self.registrations]

    def match(self, olds: Collection[str]) -> dict[str, str | None]:
        """The old-state URN each registration is found under, as `getOldResource` looks them up.

        None: nothing matched, the engine creates the resource (and deletes every old URN left unclaimed).
        Two resources claiming one old URN is the engine's duplicate-alias error: ValueError.
        """
        found: dict[str, str | None] = {}
        parent_aliases: dict[str, str] = {}
        claimed: dict[str, str] = {}
        for r in self.registrations:
            aliases = generate_aliases(self.stack, self.project, r.name, r.type, r.parent, r.aliases, parent_aliases)
            old = next((u for u in (r.urn, *aliases) if u in olds), None)
            if old is not None:
                if old in claimed:
                    raise ValueError(f"{r.urn} and {claimed[old]} both claim {old}")
                claimed[old] = r.urn
                if old != r.urn:
                    parent_aliases[r.urn] = old
            found[r.urn] = old
        return found

    def against(self, olds: Collection[str]) -> IdentityChange:
        """Which old resources this run keeps, deletes and creates (`match`, summarised)."""
        found = self.match(set(olds))
        claimed = {new: old for new, old in found.items() if old is not None}
        return IdentityChange(claimed, sorted(set(olds) - set(claimed.values())),
                              sorted(new for new, old in found.items() if old is None))


def record_registrations(program: Any, stack: str, config: Mapping[str, str] | None = None,
                         secret_keys: list[str] | None = None) -> RegistrationLog:
    """Run `program` under the recording mocks and log every registration with its engine URN.

    The mock monitor of this one run is wrapped (components.testing.mockrun creates it). The root stack registers
    before the program starts; its mock URN is the engine's, so top-level resources need no mapping.
    """
    log = RegistrationLog(stack)

    def wrapped() -> None:
        monitor = pulumi.runtime.settings.get_monitor()
        register = monitor.RegisterResource  # type: ignore[union-attr]

        def spy(request: Any) -> Any:
            response = register(request)
            log.record(request, response.urn)
            return response

        monitor.RegisterResource = spy  # type: ignore[union-attr]
        program()

    log.run = mockrun.run_program(config or {}, stack=stack, secret_keys=secret_keys, program=wrapped)
    return log


def program_registrations(stack: str, config: Mapping[str, str],
                          secret_keys: list[str] | None = None) -> RegistrationLog:
    """Run `__main__.py` with full config keys, as `pulumi up` would, and log its registrations."""
    return record_registrations(lambda: runpy.run_path(str(mockrun.MAIN), run_name="__main__"), stack, config,
                                secret_keys)


def stack_file_registrations(path: str | Path) -> RegistrationLog:
    """Run `__main__.py` with a stack file's config and log its registrations."""
    stack, config, secrets = mockrun.stack_file_config(path)
    return program_registrations(stack, config, secrets)


def stack_urns(path: str | Path) -> list[str]:
    """Every URN the stack file's program registers (the root stack excluded), sorted."""
    return sorted(stack_file_registrations(path).urns)


# --------------------------------------------------------------------------------------------------------
# Golden files: tests/golden/urns-<stack>.txt, one URN a line.

def stack_files(stacks_dir: Path = STACKS_DIR) -> list[Path]:
    return sorted(stacks_dir.glob("Pulumi.*.yaml"))


def golden_name(path: Path) -> str:
    return f"urns-{stack_name_of(path)}.txt"


def golden_documents(stacks_dir: Path = STACKS_DIR) -> dict[str, str]:
    return {golden_name(p): "".join(f"{urn}\n" for urn in stack_urns(p)) for p in stack_files(stacks_dir)}


def urn_changes(old: str, new: str, name: str) -> str:
    """A readable diff of two URN lists, with what to do about it."""
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"golden/{name}", f"now/{name}"))
    return f"{diff}\n{RENAME_HINT}"


def check_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Each stack whose URNs differ from its pinned file, as a diff and the rename hint."""
    expected = golden_documents(stacks_dir)
    problems = []
    for name, text in expected.items():
        path = golden_dir / name
        if not path.exists():
            problems.append(f"{name}: no pinned URNs (new stack?); run: {REFRESH_COMMAND}")
        elif path.read_text() != text:
            problems.append(urn_changes(path.read_text(), text, name))
    problems += [f"{p.name}: pinned URNs of a stack that no longer exists; run: {REFRESH_COMMAND}"
                 for p in sorted(golden_dir.glob("urns-*.txt")) if p.name not in expected]
    return problems


def update_golden(stacks_dir: Path = STACKS_DIR, golden_dir: Path = GOLDEN_DIR) -> list[str]:
    """Rewrite the pinned URN files; returns the names written or removed."""
    return write_goldens(golden_documents(stacks_dir), golden_dir, golden_dir.glob("urns-*.txt"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.urns", description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<STACK>.yaml) or stack file path")
    parser.add_argument("--check-golden", action="store_true", help="compare with tests/golden/; exit 1 on a diff")
    parser.add_argument("--update-golden", action="store_true", help="rewrite tests/golden/urns-*.txt")
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--golden-dir", type=Path, default=GOLDEN_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the vendor SDKs are noisy on import

    if args.update_golden:
        changed = update_golden(args.stacks_dir, args.golden_dir)
        print("\n".join(f"updated {name}" for name in changed) or "pinned URNs are up to date")
        return 0
    if args.check_golden:
        problems = check_golden(args.stacks_dir, args.golden_dir)
        print("\n\n".join(problems) or "pinned URNs are up to date")
        return 1 if problems else 0
    if not args.stack:
        parser.error("give a STACK, --check-golden or --update-golden")
    path = Path(args.stack)
    if not path.exists():
        path = args.stacks_dir / f"Pulumi.{args.stack}.yaml"
    if not path.exists():
        parser.error(f"no stack file {path}; stacks: "
                     + ", ".join(stack_name_of(p) for p in stack_files(args.stacks_dir)))
    print("\n".join(stack_urns(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
