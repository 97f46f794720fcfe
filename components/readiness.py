"""First boot must complete for `pulumi up` to succeed: a readiness resource and the wait it runs on the host.

The server resource is created as soon as the vendor boots it; first boot then locks the host down and installs
in the background (hvps-provision.timer retries an apt outage for up to 24 h). `first-boot-ready`, a
pulumi-command remote.Command child of the host, connects as the admin over SSH (pinning the server's host key)
and waits, bounded, until `hvps-provision --status` says `complete`; it fails with the state text otherwise
(`installing attempt 3 failed: ...`, `failed: ...`), so a first boot that did not complete fails `pulumi up`
visibly. Every stack gets it; the host converge (components/hostconfig) and the app release depend on it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import pulumi

from components.config import HostSpec
from components.firstboot import AS_ROOT, PROVISION_SCRIPT

#: How long the wait polls (under the resource's timeout below, so the state text is what the user sees).
WAIT_SECONDS = 25 * 60
POLL_SECONDS = 10
READY_TIMEOUT = "30m"


def first_boot_wait(seconds: int = WAIT_SECONDS, poll: int = POLL_SECONDS) -> str:
    """A POSIX sh command for the admin: succeed once first boot is complete; fail early on `failed: ...`, or
    after `seconds`, printing the last state to stderr. As root (AS_ROOT): the state is root's, and the admin's
    password-less sudo exists from lockdown on (until then the command keeps polling)."""
    status = f"{AS_ROOT} {shlex.quote(PROVISION_SCRIPT)} --status"
    return (f"s=; for _ in $(seq {max(1, seconds // poll)}); do s=$({status} 2>&1) && break; "
            f'case "$s" in failed*) break ;; esac; sleep {poll}; done; '
            '[ "$s" = complete ] || { echo "first boot did not complete: ${s:-no state}" >&2; false; }')


def first_boot_ready(name: str, spec: HostSpec, parent: pulumi.Resource, host: pulumi.Input[str],
                     host_key: pulumi.Input[str], server_id: pulumi.Input[str],
                     private_key: pulumi.Input[str] | None = None,
                     depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.CustomResource:
    """The `<name>-first-boot-ready` command, a child of `parent` (the host component).

    server_id (the server's identity) is its trigger: a rebuilt server is waited for again. depends_on: the
    server, firewall and address attachment, which must exist before connecting.
    """
    from components import ssh

    return ssh.command(f"{name}-first-boot-ready", spec, host, host_key, private_key, create=first_boot_wait(),
                       triggers=[server_id], parent=parent, depends_on=depends_on, timeout=READY_TIMEOUT)
