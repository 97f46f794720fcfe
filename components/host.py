"""The base of the per-vendor host components: what every vendor's host builds and exports.

A subclass only translates the neutral `HostSpec` into its vendor's resources (`_build`); the first-boot
data, the firewall policy, the replacement policy and the outputs are decided here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components import changes
from components.config import HostSpec
from components.cost import monthly_cost
from components.firstboot import RenderedFirstBoot, render_first_boot
from components.hostconfig import HostConfig, HostConfigArgs

if TYPE_CHECKING:
    from components.benchmark import HostBenchmark

#: Ports the host serves to the internet; 22 only from HostSpec.ssh_allowed_cidrs.
PUBLIC_PORTS = (80, 443)
SSH_PORT = 22
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"
ANYWHERE = (ANY_IPV4, ANY_IPV6)


def first_boot_applied(spec: HostSpec) -> str:
    """The `firstBootApplied` output: how first-boot changes reach this stack's running server."""
    if spec.reprovision:
        return "on every change, by rebuilding the server (reprovision: true)"
    needs = changes.keys_by_effect(spec.vendor).get(changes.FIRST_BOOT, [])
    return ("at creation; its files then converged on every pulumi up that changes them (HostConfig); "
            f"these keys need reprovision: true: {', '.join(needs)}")


def formerly_named(old_name: str, name: str) -> pulumi.ResourceOptions:
    """Options for a resource now registered as `name` that an existing stack holds as `old_name`.

    The engine finds the old state by URN, then by each alias; a child whose name starts with its parent's
    name (`host-server`) also gets the parent's alias applied to its own name (`<old>-server`), so the parent's
    alias carries every such child over (pulumi/pulumi step_generator.go `generateAliases`).
    """
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=old_name)] if old_name != name else None)


@dataclass
class WebHostArgs:
    """Inputs of `WebHost` and of each vendor's subclass (components/vendors/<vendor>/adapter.py: they take no
    input of their own; `spec.vendor` must be theirs). What the host waits for goes in `opts.depends_on`.

    spec: the validated, vendor-neutral host description (`components.config.parse_host_spec`).
    first_boot: the size-checked render (with the stand-in host key); rendered from `spec` when omitted. The
        server receives the same description rendered with the real host key (`SentFirstBoot`).
    """

    spec: HostSpec
    first_boot: RenderedFirstBoot | None = None


#: The name `WebHostArgs` had before it followed the `<Component>Args` convention; programs using it keep working.
HostArgs = WebHostArgs


@dataclass(frozen=True)
class SentFirstBoot:
    """The first boot as the server resource receives it: each form a secret (it carries the host's private
    key), so neither the state nor a preview shows it. `digest` is the plain fingerprint of what it does."""

    cloud_config: pulumi.Output[str]
    launch_script: pulumi.Output[str]
    digest: str


def sent_first_boot(spec: HostSpec, private_host_key: pulumi.Output[str], digest: str) -> SentFirstBoot:
    """Render the first boot with the real host key, once the engine made it, as secret Outputs."""
    rendered = private_host_key.apply(lambda key: render_first_boot(spec, host_key=key))
    return SentFirstBoot(pulumi.Output.secret(rendered.apply(lambda r: r.cloud_config)),
                         pulumi.Output.secret(rendered.apply(lambda r: r.launch_script)), digest)


@dataclass(frozen=True)
class ServerLifecycle:
    """How the server resource reacts to change: never replaced by a first-boot edit unless asked.

    No vendor applies new first-boot data to a running server: only a new server reads it. By
    default that input is ignored after creation, so a template change shows up as a changed
    `firstBootDigest` output in `pulumi preview`, not as a destroyed server. `reprovision: true` lifts the
    ignore (preview then shows the replacement); `protect: true` makes Pulumi refuse any deletion.
    """

    protect: bool
    ignore_changes: tuple[str, ...]
    delete_before_replace: bool

    def options(self, parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, protect=self.protect, ignore_changes=list(self.ignore_changes),
                                      delete_before_replace=self.delete_before_replace,
                                      depends_on=list(depends_on))


def server_lifecycle(spec: HostSpec, first_boot_inputs: Sequence[str], unique_name: bool) -> ServerLifecycle:
    """The lifecycle for a vendor's server resource.

    first_boot_inputs: the server's inputs only read at creation that force a replacement when changed:
        the first-boot data, and the vendor's SSH key reference (the admin's keys travel in first boot).
    unique_name: the vendor refuses two servers with one name, so a replacement must delete first.
    """
    return ServerLifecycle(
        protect=spec.protect,
        ignore_changes=() if spec.reprovision else tuple(first_boot_inputs),
        delete_before_replace=unique_name,
    )


class WebHost(pulumi.ComponentResource):
    """A hardened single VPS serving a Python web app behind nginx. Subclasses add one vendor's resources.

    Children (set by `_build`, exposed for tests): `host_key`, `ssh_keys`, `server`, `firewall`, `static_ip`,
    `ip_attachment`, `dns_records`, `data_volume` and `data_volume_attachment` (with dataVolumeGb; no attachment where
    the volume is its own); `host_config` once `converge_config` made it. Outputs: the `pulumi.Output`
    attributes below, each registered (camelCase) with `register_outputs`.

    The server's SSH host key is made here (`host_key`, ed25519, a secret in state) and sent in the secret
    first-boot data; `ssh_host_key` (its public half) is what every SSH connection of the program pins.
    """

    ipv4: pulumi.Output[str]
    """The host's stable public IPv4 address (the reserved or static address where the vendor has one)."""
    ipv6: pulumi.Output[str | None]
    """The host's public IPv6 address, or None without IPv6."""
    ssh_command: pulumi.Output[str]
    """How the admin logs in: `ssh <adminUser>@<ipv4>`."""
    url: pulumi.Output[str]
    """Where the app answers: `https://<domain>/` with a domain, else `http://<ipv4>/`."""
    monthly_cost_usd: pulumi.Output[float]
    """The plan's list price per month, backups included (`components.cost`)."""
    first_boot_digest: pulumi.Output[str]
    """Fingerprint of what first boot does (the host key's content left out): a preview shows it change on a
    first-boot edit, which the running server gets by convergence, not by a rebuild."""
    ssh_host_key: pulumi.Output[str]
    """The server's public SSH host key (one OpenSSH line), pinned by every SSH connection of the program."""
    server_identity: pulumi.Output[str]
    """What tells this server from a rebuilt one; it changes exactly when the server is rebuilt."""
    data_volume_id: pulumi.Output[str | None]
    """The data volume's id at the vendor, or None without one (dataVolumeGb 0)."""

    type_token = "hardened-vps:index:WebHost"
    vendor = ""
    #: The server's creation-only inputs (first-boot data, vendor SSH keys) that would force a replacement.
    first_boot_inputs: tuple[str, ...] = ()
    unique_server_name = False

    def __init__(self, name: str, args: WebHostArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.type_token, name, None, opts)
        spec = args.spec
        if spec.vendor != self.vendor:
            raise ValueError(f"{type(self).__name__} builds {self.vendor} hosts, not {spec.vendor}")
        self.spec = spec
        self.logical_name = name
        self.host_config: HostConfig | None = None
        import pulumi_tls as tls  # small; every stack needs it

        # Size check first (a stand-in key of the same length): too large fails before any resource exists.
        checked = args.first_boot or render_first_boot(spec)
        self.host_key = tls.PrivateKey(f"{name}-host-key", algorithm="ED25519", opts=self.child())
        self.ssh_host_key = self.host_key.public_key_openssh.apply(lambda k: k.strip())
        self.first_boot = sent_first_boot(spec, self.host_key.private_key_openssh, checked.digest)
        self.lifecycle = server_lifecycle(spec, self.first_boot_inputs, self.unique_server_name)
        self.ssh_keys: list[pulumi.CustomResource] = []
        self.static_ip: pulumi.CustomResource | None = None
        self.ip_attachment: pulumi.CustomResource | None = None
        self.dns_records: list[pulumi.CustomResource] = []
        self.data_volume: pulumi.CustomResource | None = None
        self.data_volume_attachment: pulumi.CustomResource | None = None
        self.server: pulumi.CustomResource
        self.firewall: pulumi.CustomResource
        self._build(name)
        self.server_identity = self._server_identity()

        self.ssh_command = self.ipv4.apply(lambda ip: f"ssh {spec.admin_user}@{ip}")
        self.url = (pulumi.Output.from_input(f"https://{spec.domain}/") if spec.domain
                    else self.ipv4.apply(lambda ip: f"http://{ip}/"))
        self.monthly_cost_usd = pulumi.Output.from_input(monthly_cost(spec).total_usd)
        self.first_boot_digest = pulumi.Output.from_input(self.first_boot.digest)
        self.data_volume_id = self.data_volume.id if self.data_volume else pulumi.Output.from_input(None)
        self.register_outputs({
            "ipv4": self.ipv4, "ipv6": self.ipv6, "sshCommand": self.ssh_command, "url": self.url,
            "monthlyCostUsd": self.monthly_cost_usd, "firstBootDigest": self.first_boot_digest,
            "sshHostKey": self.ssh_host_key, "serverIdentity": self.server_identity,
            "dataVolumeId": self.data_volume_id,
        })

    def converge_config(self, ready: pulumi.Resource, private_key: pulumi.Input[str] | None = None,
                        backup_keys: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None) -> HostConfig:
        """The `<name>-config` child that converges the running host's files on every `pulumi up` (HostConfig).

        ready: the first-boot readiness wait; the converge runs after it (first boot installed the converge
        itself). private_key: the deploy key, as for the readiness wait. backup_keys: the backup bucket's keys
        (secrets), stored on the host over SSH.
        """
        self.host_config = HostConfig(f"{self.logical_name}-config", HostConfigArgs(
            spec=self.spec, host=self.ipv4, host_key=self.ssh_host_key, server_identity=self.server_identity,
            private_key=private_key, backup_keys=backup_keys), opts=self.child(depends_on=[ready]))
        return self.host_config

    def benchmark(self, after: Sequence[pulumi.Resource],
                  private_key: pulumi.Input[str] | None = None) -> HostBenchmark:
        """The `<name>-benchmark` child (`benchmark: true`): the server benchmarked once, over SSH (HostBenchmark).

        after: what must be done first (the readiness wait, the converge, an app release), so the run measures
        the finished host and never competes with a deploy.
        """
        from components.benchmark import HostBenchmark, HostBenchmarkArgs

        return HostBenchmark(f"{self.logical_name}-benchmark", HostBenchmarkArgs(
            spec=self.spec, host=self.ipv4, host_key=self.ssh_host_key, server_identity=self.server_identity,
            private_key=private_key, created_at=self._created_at()), opts=self.child(depends_on=list(after)))

    def _build(self, name: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _server_identity(self) -> pulumi.Output[str]:
        """What tells this server from a rebuilt one (a new server object at the vendor, same name and address).

        The provider's id, where the vendor assigns a new one to every server. Whatever
        follows the server (the app release) keys on this, so a new server gets the current release again.
        """
        return self.server.id

    def _created_at(self) -> pulumi.Output[str | None]:
        """When the vendor created the server, as its API reports it (ISO 8601): the benchmark's timeline starts
        there. None where the vendor's SDK exposes no creation time."""
        return pulumi.Output.from_input(None)

    def volume_options(self) -> pulumi.ResourceOptions:
        """Options of the data volume: with keepDataVolume (the default) Pulumi refuses to delete or replace it and
        a `pulumi destroy` leaves it at the vendor. None of its replacing (ForceNew) inputs comes from the server, so a
        rebuilt server finds it again; only the attachment follows the server."""
        keep = self.spec.keep_data_volume
        return self.child(protect=keep, retain_on_delete=keep)

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child resource (parented to this component)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)

    @property
    def tags(self) -> list[str]:
        return ["hardened-vps", *self.spec.tags]


@dataclass
class DnsPlan:
    """The records a domain needs: A always, AAAA when the host has IPv6."""

    zone: str
    name: str
    records: list[str] = field(default_factory=lambda: ["A"])


def dns_plan(spec: HostSpec, has_ipv6: bool) -> DnsPlan | None:
    if not (spec.domain and spec.manage_dns and spec.dns_zone):
        return None
    return DnsPlan(spec.dns_zone, spec.dns_record_name, ["A", "AAAA"] if has_ipv6 else ["A"])
