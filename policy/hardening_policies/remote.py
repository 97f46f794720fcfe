"""Remote commands: only the product's own readiness wait, converge, release and opt-in benchmark, exactly."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
)

from components import firstboot
from components.config import PROJECT, PROJECT_DIR, HostSpec
from policy.hardening_policies.resources import REMOTE_COMMAND, REMOTE_COPY, REMOTE_TYPES, describe, known, plain, text
from policy.hardening_policies.secrets import is_converge
from policy.hardening_policies.stack_config import StackConfigError, stack_config, stack_spec

# --- remote commands: only the product's release, exactly ---------------------------------------------------
#: The inputs each one may set (the connection, what it runs or copies, when it re-runs); any other (delete,
#: environment, a connection proxy...) is something the product does not do. `update` only on the host's
#: converge (HostConfig), whose create and update both run CONVERGE_COMMAND.
_REMOTE_INPUTS: Mapping[str, frozenset[str]] = {
    REMOTE_COMMAND: frozenset({"connection", "create", "stdin", "triggers"}),
    REMOTE_COPY: frozenset({"connection", "source", "remotePath", "triggers"}),
}
_CONVERGE_INPUTS = _REMOTE_INPUTS[REMOTE_COMMAND] | {"update"}
_CONNECTION_INPUTS = frozenset({"host", "port", "user", "hostKey", "privateKey", "dialErrorLimit", "perDialTimeout"})


@dataclass(frozen=True)
class RemoteShape:
    """What the product runs and uploads over SSH for a stack: the first-boot readiness wait, and with an app the
    deploy command and, per remote path, the SHA-256 of the one file that may be copied there."""

    commands: frozenset[str]
    uploads: Mapping[str, str]
    converge_stdin: str = ""  # what the converge (CONVERGE_COMMAND) must read: this stack's converge bundle
    benchmark: tuple[str, str] | None = None  # with `benchmark: true`: its command and the script on its stdin


def remote_shape(spec: HostSpec, with_secrets: bool) -> RemoteShape:
    """The product's remote commands for `spec`, by calling components.readiness and components.app as the
    program does (so the check follows them). `with_secrets`: the stack sets appSecrets (sent on the deploy's
    stdin)."""
    from components.hostconfig import converge_stdin
    from components.readiness import first_boot_wait

    host = frozenset({first_boot_wait(), firstboot.CONVERGE_COMMAND})
    benchmark = None
    if spec.benchmark:
        from components.benchmark import host_script

        run = host_script(spec)
        benchmark = (run.command, run.text)
    if spec.app is None:
        return RemoteShape(host, {}, converge_stdin(spec), benchmark)
    from components import app as release  # imported here: only app stacks need it

    package, rid = release.planned_release(spec)
    script, archive = release.remote_paths(spec, package)
    uploads = {script: release.script_digest()}
    if archive is not None and package is not None:
        uploads[archive] = package.digest
    return RemoteShape(host | {release.deploy_command(spec, rid, package, with_secrets)}, uploads, converge_stdin(spec),
                       benchmark)


def _file_digest(asset: Any) -> str | None:
    """SHA-256 of a FileAsset's file, relative paths read from the project (the program's directory); None for
    any other source or a file that cannot be read."""
    if not isinstance(asset, pulumi.FileAsset):
        return None
    path = Path(str(asset.path))
    try:
        return hashlib.sha256((path if path.is_absolute() else PROJECT_DIR / path).read_bytes()).hexdigest()
    except OSError:
        return None


def remote_problem(resource_type: str, props: Mapping[str, Any], spec: HostSpec, shape: RemoteShape) -> str | None:
    """Why a command:remote resource is not one the product builds for this stack (None when it is one)."""
    if resource_type not in REMOTE_TYPES:
        return f"the product builds only {' and '.join(sorted(REMOTE_TYPES))}"
    converge = is_converge(resource_type, props)
    allowed = _CONVERGE_INPUTS if converge else _REMOTE_INPUTS[resource_type]
    extra = sorted(k for k in props if k not in allowed and plain(props.get(k)) is not None)
    if extra:
        return f"it sets {', '.join(extra)}, which the product's release never does"
    connection = plain(props.get("connection"))
    connection = connection if isinstance(connection, Mapping) else {}
    extra = sorted(k for k in connection if k not in _CONNECTION_INPUTS and plain(connection.get(k)) is not None)
    if extra:
        return f"its connection sets {', '.join(extra)}, which the product's release never does"
    user = known(lambda: text(connection.get("user")))
    if user is not None and user != spec.admin_user:
        return f"it connects as {user or '(unset)'!r}, not as the admin account {spec.admin_user!r}"
    if known(lambda: text(connection.get("hostKey"))) == "":
        return "its connection does not pin the server's host key (hostKey), so it would trust any server"
    if converge:
        return converge_problem(props, shape)
    if resource_type == REMOTE_COMMAND:
        create = known(lambda: text(props.get("create")))
        if shape.benchmark is not None and create == shape.benchmark[0]:
            stdin = known(lambda: text(props.get("stdin")))
            if stdin is not None and stdin != shape.benchmark[1]:
                return ("it runs the benchmark's command with a script other than the product's "
                        "(components/benchmark host_script), as root")
            return None
        if create is not None and create not in shape.commands and not shape.uploads:
            return (f"this stack deploys no app ({PROJECT}:appSource is unset): the only command it runs is the "
                    "first-boot readiness wait (components/readiness)")
        if create is not None and create not in shape.commands:
            return ("its command is neither the product's first-boot readiness wait (components/readiness), its "
                    "host converge (components/hostconfig) nor its deploy command for this stack and release "
                    "(components/app deploy_command)")
        return None
    if not shape.uploads:
        return f"this stack deploys no app ({PROJECT}:appSource is unset), so nothing is uploaded to its server"
    remote_path = known(lambda: text(props.get("remotePath")))
    if remote_path is not None and remote_path not in shape.uploads:
        return (f"it copies to {remote_path!r}; the product copies only the release script and app archive to "
                f"{', '.join(sorted(shape.uploads))}")
    source = known(lambda: props.get("source"))
    if remote_path is not None and source is not None and _file_digest(source) != shape.uploads[remote_path]:
        return ("its source is not the file the product uploads there (the release script, or the app archive "
                "of this release, by content)")
    return None


def converge_problem(props: Mapping[str, Any], shape: RemoteShape) -> str | None:
    """Why a converge command (create = CONVERGE_COMMAND) is not the product's HostConfig for this stack: it
    re-runs the same command on update, and what it installs as root (its stdin) is exactly this stack's
    converge bundle (components/hostconfig converge_stdin), byte for byte."""
    update = props.get("update")
    if plain(update) is not None and known(lambda: text(update)) not in (None, firstboot.CONVERGE_COMMAND):
        return f"its update runs something other than {firstboot.CONVERGE_COMMAND!r}"
    stdin = known(lambda: text(props.get("stdin")))
    if stdin is not None and stdin != shape.converge_stdin:
        return ("its stdin is not this stack's converge bundle (the files components/firstboot renders for the "
                "stack's config, minus the host key), so it would install other files as root")
    return None


def validate_remote_commands(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("command:remote:"):
        return
    who = describe(args.resource_type, args.name)
    try:
        spec = stack_spec()
        shape = remote_shape(spec, with_secrets=bool(stack_config().get("appSecrets")))
    except (StackConfigError, OSError) as err:
        report(f"{who} runs over SSH as the admin, and the pack cannot tell what this stack's release must be: "
               f"{err} (refused: the check fails closed). Fix: run the policy pack through the Pulumi CLI from "
               f"the project (`pulumi preview --policy-pack policy`) and fix the {PROJECT}:* keys the program "
               "itself refuses.", None)
        return
    problem = remote_problem(args.resource_type, args.props, spec, shape)
    if problem:
        report(f"{who} is not a command this product runs: {problem}. Remote commands connect as the admin, who "
               "reaches root without a password, so only the product's own readiness wait, host converge, release "
               "uploads, "
               "deploy and opt-in benchmark may run. Fix: remove it; change the host's files through the templates "
               "and settings "
               "(components/hostconfig converges them) and deploy the app through the project's AppRelease "
               f"(components/app, {PROJECT}:appSource).", None)
