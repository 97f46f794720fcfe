"""The one SSH connection every remote command of the program uses (readiness wait, host config, app release).

Kept apart from the resources that use it so each of them (and the policy pack's idea of them) connects the same
way: as the admin, pinning the server's host key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.config import HostSpec


def connection_args(spec: HostSpec, host: pulumi.Input[str], host_key: pulumi.Input[str],
                    private_key: pulumi.Input[str] | None) -> dict[str, object]:
    """The SSH connection of every remote command and upload.

    host_key pins the server's key (without it pulumi-command accepts any key). No agent_socket_path: the
    provider reads SSH_AUTH_SOCK when it runs, while a path given here would be stored in state and change
    with every shell, re-running every command. dial_error_limit -1 retries until the resource's custom timeout.
    """
    return {"host": host, "user": spec.admin_user, "host_key": host_key, "private_key": private_key,
            "dial_error_limit": -1, "per_dial_timeout": 15}


def connection(spec: HostSpec, host: pulumi.Input[str], host_key: pulumi.Input[str],
               private_key: pulumi.Input[str] | None) -> Any:
    """connection_args as pulumi-command's ConnectionArgs (the SDK is imported only by stacks that connect)."""
    from pulumi_command import remote

    return remote.ConnectionArgs(**connection_args(spec, host, host_key, private_key))  # type: ignore[arg-type]


def command(name: str, spec: HostSpec, host: pulumi.Input[str], host_key: pulumi.Input[str],
            private_key: pulumi.Input[str] | None, *, create: pulumi.Input[str], triggers: Sequence[pulumi.Input[Any]],
            parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = (), update: str | None = None,
            stdin: pulumi.Input[str] | None = None, timeout: str | None = None) -> Any:
    """A pulumi-command remote.Command on the host over `connection`, a child of `parent`: every command the
    program runs there (readiness wait, converge, backup credentials, benchmark, app deploy) is built here.

    As pulumi-command makes them: a changed trigger replaces the command (the SDK marks `triggers`
    replaceOnChanges; the new one's `create` runs); any other changed input is an in-place update, which runs
    `update`, or `create` again when there is none. `timeout` bounds create and update alike (None: the engine's
    default).
    """
    from pulumi_command import remote

    timeouts = pulumi.CustomTimeouts(create=timeout, update=timeout) if timeout else None
    return remote.Command(
        name, connection=connection(spec, host, host_key, private_key), create=create, update=update, stdin=stdin,
        triggers=list(triggers),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on), custom_timeouts=timeouts))
