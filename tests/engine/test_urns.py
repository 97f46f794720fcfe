"""Resource identity: the URNs the Pulumi engine gives each resource, and how aliases carry an old identity over.

Models (tools/urns/) read from pulumi/pulumi:
- `sdk/go/common/resource/urn/urn.go` `New` (wrapped by `NewURN` in `sdk/go/common/resource/urn.go`) and
  `pkg/resource/deploy/deployment.go` `generateURN`: `urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`,
  the parent type being the parent URN's whole qualified type, except the root stack's.
- `pkg/resource/deploy/step_generator.go` `collapseAliasToUrn`, `inheritedChildAlias`, `generateAliases`,
  `getOldResource`, and `sdk/go/common/resource/alias.go` `CreateURN`: how an alias spec the SDK sends becomes the
  old URN the engine looks up, own URN first.
The mocks do neither: their URNs prefix the root stack's type and `MockResourceArgs` carries no aliases, so a
rename that would replace the server passes every mock test. The pinned URNs below catch it; the aliases are read
from the RegisterResource requests themselves (as alias specs: this SDK's mock monitor announces `aliasSpecs`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pulumi
import pytest

from components.config import PROJECT, parse_host_spec, parse_ssh_key
from components.host import WebHost, WebHostArgs
from components.testing import mockrun
from components.vendors.digitalocean.adapter import DigitalOceanHost, key_id
from tests.conftest import ED25519_KEY, RSA_4096_KEY, STACK_FILES, raw_config
from tools import urns
from tools.urns import AliasSpec, RegistrationLog, generate_urn, new_urn, record_registrations

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
OLD_TYPE = DigitalOceanHost.type_token


@pytest.fixture(scope="module")
def stack_urns() -> dict[str, list[str]]:
    return {p.name: urns.stack_urns(p) for p in STACK_FILES}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_urn_of_the_example_stacks_is_pinned(stack_file: Path, stack_urns: dict[str, list[str]]) -> None:
    golden = GOLDEN_DIR / urns.golden_name(stack_file)
    now = "".join(f"{u}\n" for u in stack_urns[stack_file.name])
    pinned = golden.read_text() if golden.exists() else ""
    if now != pinned:
        pytest.fail(urns.urn_changes(pinned, now, golden.name), pytrace=False)


def test_pinned_urns_cover_every_registration(stack_urns: dict[str, list[str]]) -> None:
    """Components and custom resources alike, each under its parent chain, and unique per stack."""
    prod = stack_urns["Pulumi.prod.yaml"]
    assert len(prod) == len(set(prod))
    assert "urn:pulumi:prod::hardened-vps::hardened-vps:index:DigitalOceanHost::host" in prod
    assert ("urn:pulumi:prod::hardened-vps::hardened-vps:index:DigitalOceanHost$digitalocean:index/droplet:Droplet"
            "::host-server") in prod
    assert not any("pulumi:pulumi:Stack" in u for u in prod)  # the root stack never prefixes a type


def test_renaming_a_type_token_fails_the_check_with_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    stacks, golden = tmp_path / "stacks", tmp_path / "golden"
    stacks.mkdir()
    golden.mkdir()
    shutil.copy(GOLDEN_DIR.parents[1] / "stacks" / "Pulumi.do-dev.yaml", stacks)
    shutil.copy(GOLDEN_DIR / "urns-do-dev.txt", golden)
    assert urns.check_golden(stacks, golden) == []
    monkeypatch.setattr(DigitalOceanHost, "type_token", "hardened-vps:index:DropletHost")
    (problem,) = urns.check_golden(stacks, golden)
    assert "a rename needs `aliases`" in problem
    assert "-urn:pulumi:do-dev::hardened-vps::hardened-vps:index:DigitalOceanHost$digitalocean:index/droplet" \
           ":Droplet::host-server" in problem
    assert "+urn:pulumi:do-dev::hardened-vps::hardened-vps:index:DropletHost$digitalocean:index/droplet" \
           ":Droplet::host-server" in problem


@pytest.mark.parametrize(("parent_type", "expected"), [
    ("", "urn:pulumi:s::p::a:b:C::n"),
    ("pulumi:pulumi:Stack", "urn:pulumi:s::p::a:b:C::n"),
    ("x:y:P", "urn:pulumi:s::p::x:y:P$a:b:C::n"),
    ("x:y:G$x:y:P", "urn:pulumi:s::p::x:y:G$x:y:P$a:b:C::n"),
])
def test_new_urn_follows_the_engine(parent_type: str, expected: str) -> None:
    assert new_urn("s", "p", parent_type, "a:b:C", "n") == expected


def test_a_grandchild_chains_every_ancestor_type_but_the_stack() -> None:
    stack = new_urn("s", "p", "", "pulumi:pulumi:Stack", "p-s")
    component = generate_urn("s", "p", stack, "x:y:G", "g")
    child = generate_urn("s", "p", component, "x:y:P", "g-p")
    assert component == "urn:pulumi:s::p::x:y:G::g"
    assert generate_urn("s", "p", child, "a:b:C", "g-p-c") == "urn:pulumi:s::p::x:y:G$x:y:P$a:b:C::g-p-c"


# --- aliases: does the engine find the old resource? ---------------------------------------------------------

def host_program(cls: type[WebHost], key_lines: list[str], opts: pulumi.ResourceOptions | None = None):
    spec = parse_host_spec(raw_config(vendor="digitalocean", region="nyc3", sshPublicKeys=key_lines), stack="unit")
    return lambda: cls("web", WebHostArgs(spec), opts=opts)


def test_a_renamed_component_with_an_alias_keeps_itself_and_every_child() -> None:
    class RenamedHost(DigitalOceanHost):
        type_token = "hardened-vps:index:RenamedHost"

    before = record_registrations(host_program(DigitalOceanHost, [ED25519_KEY]), "unit")
    unaliased = record_registrations(host_program(RenamedHost, [ED25519_KEY]), "unit")
    after = record_registrations(host_program(RenamedHost, [ED25519_KEY], pulumi.ResourceOptions(
        aliases=[pulumi.Alias(type_=OLD_TYPE)])), "unit")
    olds = set(before.urns)
    assert not olds & set(after.urns)  # every URN changed with the type token

    # The SDK hands the engine an alias spec (this SDK's mock monitor announces aliasSpecs) naming the old type.
    component = next(r for r in after.registrations if r.type == RenamedHost.type_token)
    assert component.aliases == (AliasSpec(type=OLD_TYPE),)
    matched = after.match(olds)
    assert set(matched.values()) == olds  # each old resource claimed, none created or deleted
    server = next(u for u in after.urns if u.endswith("::web-server"))
    assert matched[server] == next(u for u in before.urns if u.endswith("::web-server"))

    # Without the alias the engine finds nothing: it would create a new server and delete the old one.
    assert set(unaliased.match(olds).values()) == {None}


def keys_of(log: RegistrationLog) -> dict[str, str]:
    """{key resource URN: key id in its name} of the DigitalOcean SshKey registrations."""
    return {r.urn: r.name.rsplit("-", 1)[-1] for r in log.registrations if r.type.endswith("sshKey:SshKey")}


def deployed_with_positional_names(log: RegistrationLog, key_lines: list[str]) -> dict[str, str]:
    """The old state of a stack deployed when keys were named `web-key-<i>`: {URN: id of the key it holds}."""
    olds = {u: "" for u in log.urns if u not in keys_of(log)}
    parent = next(r.urn for r in log.registrations if r.type == OLD_TYPE)
    for i, line in enumerate(key_lines):
        olds[generate_urn("unit", "hardened-vps", parent, "digitalocean:index/sshKey:SshKey", f"web-key-{i}")] = \
            key_id(parse_ssh_key(line))
    return olds


def test_keys_deployed_under_positional_names_are_found_holding_the_same_key() -> None:
    lines = [ED25519_KEY, RSA_4096_KEY]
    log = record_registrations(host_program(DigitalOceanHost, lines), "unit")
    olds = deployed_with_positional_names(log, lines)
    matched = log.match(olds)
    for urn, kid in keys_of(log).items():
        old = matched[urn]
        assert old is not None and old != urn and olds[old] == kid  # same key: no replacement, no re-upload
    assert set(matched.values()) == set(olds)


def test_once_keys_carry_their_ids_removing_one_leaves_the_other_on_its_own_urn() -> None:
    """The stale positional alias of a key that moved up never wins: the engine looks up the URN first."""
    deployed = record_registrations(host_program(DigitalOceanHost, [ED25519_KEY, RSA_4096_KEY]), "unit")
    shrunk = record_registrations(host_program(DigitalOceanHost, [RSA_4096_KEY]), "unit")
    matched = shrunk.match(set(deployed.urns))
    ((urn, _),) = keys_of(shrunk).items()
    assert matched[urn] == urn
    assert set(deployed.urns) - {u for u in matched.values() if u} == {
        u for u, kid in keys_of(deployed).items() if kid == key_id(parse_ssh_key(ED25519_KEY))}


# --- logical names: no config value names a resource ---------------------------------------------------------

#: URNs of the example stacks as deployed while the host component was named by `hostName` and the release by
#: `<hostName>-app`. Fixed data, never regenerated: every such stack must keep each of its resources.
NAMED_BY_HOST_DIR = GOLDEN_DIR / "urns-named-by-host"


#: Resources the product added after those URNs were recorded: new on a deployed stack, and nothing else may be.
ADDED_SINCE = ("::host-first-boot-ready", "::host-config", "::host-config-converge", "::host-data",
               "::host-data-attachment")


def _added_since(created: list[str]) -> list[str]:
    return [urn for urn in created if not urn.endswith(ADDED_SINCE)]


#: The example stacks that existed then (a stack added later was never deployed under those names).
DEPLOYED_UNDER_HOST_NAMES = [p for p in STACK_FILES if p.name in {
    "Pulumi.do-dev.yaml", "Pulumi.lightsail-dev.yaml", "Pulumi.linode-dev.yaml", "Pulumi.prod.yaml"}]


@pytest.mark.parametrize("stack_file", DEPLOYED_UNDER_HOST_NAMES, ids=lambda p: p.name)
def test_stacks_deployed_under_host_names_keep_every_resource(stack_file: Path) -> None:
    """Each old URN is claimed by exactly one resource (the engine refuses two claims), none is created anew
    but what the product added since (the first-boot readiness wait, the host config converge)."""
    olds = (NAMED_BY_HOST_DIR / urns.golden_name(stack_file)).read_text().split()
    change = urns.stack_file_registrations(stack_file).against(olds)
    assert change.deleted == [] and _added_since(change.created) == []
    assert sorted(change.claimed.values()) == sorted(olds)


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_changing_host_name_changes_no_urn(stack_file: Path) -> None:
    """A new hostName renames the server (in place where the vendor allows): the same resources, the same URNs."""
    stack, config, secrets = mockrun.stack_file_config(stack_file)
    before = urns.program_registrations(stack, config, secrets)
    after = urns.program_registrations(stack, config | {f"{PROJECT}:hostName": "renamed-web-9"}, secrets)
    assert sorted(after.urns) == sorted(before.urns)
    change = after.against(before.urns)
    assert change.deleted == [] and change.created == []
    assert all(old == new for new, old in change.claimed.items())  # each found under its own URN, no alias needed


def test_keys_deployed_under_positional_names_and_the_host_name_are_found() -> None:
    """The oldest DigitalOcean stacks: keys named `<hostName>-key-<i>` under a component named `<hostName>`."""
    stack_file = next(p for p in STACK_FILES if p.name == "Pulumi.prod.yaml")
    _, config, _ = mockrun.stack_file_config(stack_file)
    olds = (NAMED_BY_HOST_DIR / urns.golden_name(stack_file)).read_text().split()
    key_lines = json.loads(config[f"{PROJECT}:sshPublicKeys"])
    assert len(key_lines) == 2  # both keys move: their positional alias must come through the renamed parent
    ids = [key_id(parse_ssh_key(line)) for line in key_lines]
    host_name = config[f"{PROJECT}:hostName"]
    positional = {u.replace(f"-key-{kid}", f"-key-{i}"): kid for u in olds for i, kid in enumerate(ids)
                  if u.endswith(f"::{host_name}-key-{kid}")}
    olds = [u for u in olds if "sshKey:SshKey" not in u] + list(positional)
    log = urns.stack_file_registrations(stack_file)
    change = log.against(olds)
    assert change.deleted == [] and _added_since(change.created) == []
    held = {r.urn: r.name.rsplit("-", 1)[-1] for r in log.registrations if r.type.endswith("sshKey:SshKey")}
    assert {kid: positional[change.claimed[urn]] for urn, kid in held.items()} == {kid: kid for kid in ids}
