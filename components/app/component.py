"""The AppRelease component: uploads a release and runs its deploy over SSH, pinned to the host key."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi

from components import envfile, ssh
from components.app.deploy import (
    DEPLOY_TIMEOUT,
    RELEASE_SCRIPT,
    UPLOAD_TIMEOUT,
    archive_file,
    deploy_command,
    remote_paths,
)
from components.app.package import IGNORE_FILE
from components.app.release import planned_release
from components.config import HostSpec
from components.options import dependencies


@dataclass
class AppReleaseArgs:
    """Inputs of an app release.

    spec: the host spec; `spec.app` must be set.
    host: the address Pulumi connects to (the host's stable IPv4).
    host_key: the server's SSH public host key (`WebHost.ssh_host_key`); every connection pins it.
    server_identity: what tells the server from a rebuilt one (`WebHost.server_identity`; not simply its id:
        on some vendors a server's id is its name, kept by a rebuild): a rebuilt server gets the current release again.
    secret_env: dotenv text of the app's secrets (a Pulumi secret), or None.
    private_key: the deploy key (a Pulumi secret), or None to use the local ssh-agent.

    What must exist before connecting (server, firewall, address attachment, the readiness wait, the converge)
    goes in `opts.depends_on`; every upload and the deploy wait for it.
    """

    spec: HostSpec
    host: pulumi.Input[str]
    host_key: pulumi.Input[str]
    server_identity: pulumi.Input[str]
    secret_env: pulumi.Output[str] | None = None
    private_key: pulumi.Output[str] | None = None


class AppRelease(pulumi.ComponentResource):
    """One release of the user's app on the host; redeployed when the app, its secrets or the server change.

    Children: `script_upload`, `archive_upload` (local sources only), `deploy`. Outputs: the `pulumi.Output`
    attributes below, registered. Uploads and deploy share their triggers (release id, server identity, secrets
    digest): whenever the deploy is replaced, its uploads are copied again first.
    """

    release_id: pulumi.Output[str]
    """`r-` and 12 hex digits of the code digest and settings: a new value is a new release."""

    def __init__(self, name: str, args: AppReleaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hardened-vps:index:AppRelease", name, None, opts)
        from pulumi_command import remote  # only stacks that deploy an app load this SDK

        spec = args.spec
        if spec.app is None:
            raise ValueError("AppRelease needs spec.app (appSource)")
        package, rid = planned_release(spec)
        if package is not None and package.skipped:
            pulumi.log.info(f"app release: left out {len(package.skipped)} file(s) that look like secrets: "
                            + ", ".join(package.skipped) + f"; set them through appSecrets ({IGNORE_FILE} "
                            "names more files to leave out)", resource=self)
        self.release_id = pulumi.Output.from_input(rid)
        depends_on = dependencies(opts)
        script_path, archive_path = remote_paths(spec, package)
        connection = ssh.connection(spec, args.host, args.host_key, args.private_key)
        secret_digest = (args.secret_env.apply(lambda text: hashlib.sha256(text.encode()).hexdigest())
                         if args.secret_env is not None else None)
        triggers: list[pulumi.Input[object]] = [rid, args.server_identity, secret_digest]
        upload_opts = pulumi.ResourceOptions(parent=self, depends_on=depends_on,
                                             custom_timeouts=pulumi.CustomTimeouts(create=UPLOAD_TIMEOUT,
                                                                                   update=UPLOAD_TIMEOUT))
        self.script_upload = remote.CopyToRemote(f"{name}-script", connection=connection,
                                                 source=pulumi.FileAsset(str(RELEASE_SCRIPT)),
                                                 remote_path=script_path, triggers=triggers, opts=upload_opts)
        uploads: list[pulumi.Resource] = [self.script_upload]
        self.archive_upload = None
        if package is not None and archive_path is not None:
            # Written when the engine resolves the input, never while this component is constructed.
            packed = package
            source = pulumi.Output.from_input(packed.digest).apply(
                lambda _: pulumi.FileAsset(str(archive_file(spec.app_name, packed))))
            self.archive_upload = remote.CopyToRemote(f"{name}-archive", connection=connection, source=source,
                                                      remote_path=archive_path, triggers=triggers, opts=upload_opts)
            uploads.append(self.archive_upload)
        # The secrets travel as the EnvironmentFile the host stores with the release, encoded like appEnv.
        secret_file = (args.secret_env.apply(lambda text: envfile.encode_file(envfile.parse_text(text)))
                       if args.secret_env is not None else None)
        self.deploy = ssh.command(
            f"{name}-deploy", spec, args.host, args.host_key, args.private_key,
            create=deploy_command(spec, rid, package, with_secrets=args.secret_env is not None),
            stdin=secret_file, triggers=triggers, parent=self, depends_on=[*depends_on, *uploads],
            timeout=DEPLOY_TIMEOUT)
        self.register_outputs({"releaseId": self.release_id})
