"""Every `pulumi up` converges the running host to the files first boot would write today.

First boot writes the host's configuration once, and the server resource ignores later first-boot edits (a new
one would mean a new server). `HostConfig`, a child of the host component, closes that gap over SSH: a
pulumi-command remote.Command that runs `hvps-converge` (`hvps-provision --converge`) as the admin (pinning
the server's host key), with the converge bundle (first boot's files minus the host's private key, base64) on
stdin. The host compares each concern's files with the live ones and writes, validates and reloads only what changed.

How the engine treats it (pulumi/pulumi-command v1.2.1): `triggers` is replaceOnChanges (the Python SDK adds
`replace_on_changes=["triggers[*]"]`), so a changed file digest or a rebuilt server REPLACES this command
resource: the new one's `create` converges, the old one's delete runs nothing (it has no `delete`). Any other
input change (the connection: a rotated deploy key, a new address) is an Update, which runs `update`, the same
converge. The server is a separate resource: nothing here is an input of it, so a converge never replaces it.
Deleting HostConfig (or a replaced copy) leaves the host as it is.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pulumi

from components import envfile, ssh
from components.config import HostSpec
from components.firstboot import AS_ROOT, CONVERGE_COMMAND, converge_bundle, converge_digests
from components.options import dependencies

#: One converge validates, installs and health-checks each changed concern; the dial retries until then.
CONVERGE_TIMEOUT = "15m"
#: Writing one small file; the SSH dial retries until then (without a bound it would retry for ever).
CREDENTIALS_TIMEOUT = "5m"
#: Stores the backup bucket's credentials (stdin) in /etc/hvps/backup-credentials, root-only: never first-boot data.
STORE_CREDENTIALS_COMMAND = f"{AS_ROOT} /usr/local/sbin/hvps-backup --store-credentials"


def backup_credentials_file(access_key_id: str, secret_access_key: str) -> str:
    """The credentials file hvps-backup reads: rclone's variables for its `hvps` remote, quoted (envfile.py)."""
    return envfile.encode_file((("RCLONE_CONFIG_HVPS_ACCESS_KEY_ID", access_key_id),
                                ("RCLONE_CONFIG_HVPS_SECRET_ACCESS_KEY", secret_access_key)))


def converge_stdin(spec: HostSpec) -> str:
    """What the converge command reads on stdin: base64 of the converge bundle (pure; the policy pack recomputes
    it)."""
    return base64.b64encode(converge_bundle(spec)).decode()


@dataclass
class HostConfigArgs:
    """Inputs of the host's configuration converge.

    spec: the validated host spec; the files are rendered from it exactly as first boot renders them.
    host: the address Pulumi connects to (the host's stable IPv4).
    host_key: the server's SSH public host key (`WebHost.ssh_host_key`); the connection pins it.
    server_identity: what tells the server from a rebuilt one (`WebHost.server_identity`): a rebuilt server is
        converged again (its first boot wrote the same files, so every concern reports unchanged).
    private_key: the deploy key (a Pulumi secret), or None to use the local ssh-agent.

    What must be done first (the first-boot readiness wait: lockdown and install complete) goes in
    `opts.depends_on`; the converge command waits for it.
    """

    spec: HostSpec
    host: pulumi.Input[str]
    host_key: pulumi.Input[str]
    server_identity: pulumi.Input[str]
    private_key: pulumi.Input[str] | None = None
    #: (access key id, secret access key) of backupBucket, Pulumi secrets; sent over SSH after the converge
    backup_keys: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None


class HostConfig(pulumi.ComponentResource):
    """The host's configuration, converged over SSH on every `pulumi up` whose files changed.

    Child: `converge` (remote.Command). Outputs: the `pulumi.Output` attributes below, registered.
    """

    files: pulumi.Output[dict[str, str]]
    """{host path: short SHA-256 of mode and content} of every converged file: what the preview diffs."""

    type_token = "hardened-vps:index:HostConfig"

    def __init__(self, name: str, args: HostConfigArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.type_token, name, None, opts)
        digests = converge_digests(args.spec)
        target = (args.spec, args.host, args.host_key, args.private_key)
        self.converge = ssh.command(f"{name}-converge", *target, create=CONVERGE_COMMAND, update=CONVERGE_COMMAND,
                                    stdin=converge_stdin(args.spec), triggers=[args.server_identity, digests],
                                    parent=self, depends_on=dependencies(opts), timeout=CONVERGE_TIMEOUT)
        self.backup_credentials = None
        if args.backup_keys is not None:
            # secret: the keys are (config.require_secret), and what is computed from them stays secret
            text = pulumi.Output.all(*args.backup_keys).apply(lambda keys: backup_credentials_file(*keys))
            # like the app's secrets: the trigger is a digest, so new keys are sent again (and a new server gets them)
            digest = text.apply(lambda t: hashlib.sha256(t.encode()).hexdigest())
            self.backup_credentials = ssh.command(
                f"{name}-backup-credentials", *target, create=STORE_CREDENTIALS_COMMAND,
                update=STORE_CREDENTIALS_COMMAND, stdin=text, triggers=[args.server_identity, digest], parent=self,
                depends_on=[self.converge], timeout=CREDENTIALS_TIMEOUT)
        self.files = pulumi.Output.from_input(digests)
        self.register_outputs({"files": self.files})
