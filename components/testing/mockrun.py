"""Run the Pulumi program, or a component, in-process against a recording mock engine.

No CLI, plugin or credential is needed: `pulumi.runtime.set_mocks` stands in for the engine. Used by the
tests, the offline plan and the offline policy run; users can call `run_program` or `run_stack_file` in their own
tests. The mocks answer with plausible documentation-range addresses (RFC 5737 / RFC 3849) for the outputs the
vendors compute.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.config import PROJECT, stack_config_values, stack_name_of
from components.firstboot import PLACEHOLDER_HOST_KEY
from components.vendors import VENDORS


def _placeholder_public_key() -> str:
    """A well-formed ssh-ed25519 public key line standing in for the engine-made host key's public half."""
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + hashlib.sha256(PLACEHOLDER_HOST_KEY.encode()).digest()
    return f"ssh-ed25519 {base64.b64encode(blob).decode()}\n"  # the TLS provider ends it with a newline


#: The mocks' public host key (the private one is firstboot.PLACEHOLDER_HOST_KEY, the size check's stand-in).
PLACEHOLDER_PUBLIC_HOST_KEY = _placeholder_public_key()

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "__main__.py"

# Outputs a real vendor would compute, keyed by resource type (camelCase wire names): each vendor's from its folder.
COMPUTED: Mapping[str, Mapping[str, Any]] = {
    **{token: outputs for v in VENDORS for token, outputs in v.mock_outputs.items()},
    # The host key the program makes: the stand-in private key has the real one's size (first-boot sizes hold).
    "tls:index/privateKey:PrivateKey": {"privateKeyOpenssh": PLACEHOLDER_HOST_KEY,
                                        "publicKeyOpenssh": PLACEHOLDER_PUBLIC_HOST_KEY},
}

#: Resources whose id the provider takes from one of their inputs instead of the vendor (type -> input name).
ID_FROM_INPUT: Mapping[str, str] = {token: name for v in VENDORS for token, name in v.id_from_input.items()}

#: Answers to the invokes the adapters make (token -> arguments -> result).
INVOKES: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    token: answer for v in VENDORS for token, answer in v.mock_invokes.items()}


@dataclass
class RecordedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    id: str

    @property
    def urn_key(self) -> tuple[str, str]:
        return (self.type, self.name)


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registration; answers invokes the program makes (a vendor's domain lookup)."""

    def __init__(self) -> None:
        self.resources: list[RecordedResource] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(1000)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        rid = str(next(self._ids))  # numeric: adapters turn server ids into ints
        if args.typ in ID_FROM_INPUT:
            rid = str(args.inputs[ID_FROM_INPUT[args.typ]])
        state = dict(args.inputs)
        state.update(COMPUTED.get(args.typ, {}))
        self.resources.append(RecordedResource(args.typ, args.name, dict(args.inputs), bool(args.custom), rid))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, dict(args.args)))
        if args.token in INVOKES:
            return INVOKES[args.token](dict(args.args)), []
        return {}, []

    def of_type(self, suffix: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type.endswith(suffix)]


@dataclass
class StackRun:
    """What one run of the program registered and exported."""

    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, suffix: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type.endswith(suffix)]

    def one(self, suffix: str) -> RecordedResource:
        found = self.of_type(suffix)
        if len(found) != 1:
            raise AssertionError(f"expected one {suffix}, found {len(found)}")
        return found[0]


def _reset(mocks: RecordingMocks, stack: str, config: Mapping[str, str], secret_keys: list[str]) -> None:
    pulumi.runtime.settings.set_root_resource(None)  # type: ignore[arg-type]  # else a stack of the previous run leaks into this one
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(dict(config), secret_keys)


def run_program(config: Mapping[str, str], stack: str = "test", secret_keys: list[str] | None = None,
                program: Callable[[], None] | None = None) -> StackRun:
    """Run `__main__.py` (or `program`) with full config keys (`hardened-vps:vendor`, `aws:region`, ...)."""
    mocks = RecordingMocks()
    _reset(mocks, stack, config, secret_keys or [])
    exported: dict[str, Any] = {}
    secret: set[str] = set()

    @pulumi.runtime.test
    def body() -> Any:
        if program is None:
            runpy.run_path(str(MAIN), run_name="__main__")
        else:
            program()
        root = pulumi.runtime.settings.get_root_resource()
        outputs: dict[str, Any] = dict(getattr(root, "outputs", None) or {})
        if not outputs:
            return None

        # Wait for every export, and note which are secret.
        flags = [pulumi.Output.from_input(v).is_secret() for v in outputs.values()]  # coroutines
        values = pulumi.Output.all(*outputs.values())
        return pulumi.Output.all(values, *[pulumi.Output.from_input(f) for f in flags]).apply(  # type: ignore[arg-type]
            lambda got: _store(exported, secret, list(outputs), got[0], got[1:]))

    body()
    return StackRun(stack, mocks.resources, exported, secret)


def _store(exported: dict[str, Any], secret: set[str], names: list[str], values: list[Any],
           flags: list[Any]) -> None:
    for name, value, flag in zip(names, values, flags, strict=True):
        exported[name] = value
        if flag:
            secret.add(name)


def stack_file_config(path: str | Path) -> tuple[str, dict[str, str], list[str]]:
    """(stack name, full config, secret keys) of a stack file, as the CLI would hand them to the program."""
    document = yaml.safe_load(Path(path).read_text()) or {}
    mine, other = stack_config_values(document)
    config = {f"{PROJECT}:{k}": v for k, v in mine.items()} | other
    secrets = [k for k, v in (document.get("config") or {}).items() if isinstance(v, dict) and "secure" in v]
    return stack_name_of(path), config, secrets


def run_stack_file(path: str | Path) -> StackRun:
    stack, config, secrets = stack_file_config(path)
    return run_program(config, stack=stack, secret_keys=secrets)
