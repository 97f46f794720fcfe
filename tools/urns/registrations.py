"""What a program registers, under mocks: each registration with the URN the engine would give it, and which old
URNs a run keeps, deletes and creates."""

from __future__ import annotations

import runpy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from components.config import PROJECT
from components.testing import mockrun
from tools.urns.engine import ROOT_STACK_TYPE, AliasSpec, generate_aliases, generate_urn


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
