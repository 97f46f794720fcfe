"""Hetzner Cloud adapter: server on a primary IPv4 that outlives it + firewall (+ volume, DNS record sets, reverse
DNS)."""

from __future__ import annotations

import base64
import hashlib

import pulumi
import pulumi_hcloud as hcloud

from components.config import SshKey
from components.host import ANYWHERE, PUBLIC_PORTS, SSH_PORT, WebHost, dns_plan


def key_id(key: SshKey) -> str:
    """A short stable id of the key itself (the start of its SHA-256). Key resources are named by the key, not by
    list position: `public_key` forces a new key, and Hetzner refuses a key the project already holds, so a
    positional name would fail the update that removes an earlier key."""
    return hashlib.sha256(base64.b64decode(key.blob)).hexdigest()[:12]


class HetznerHost(WebHost):
    type_token = "hardened-vps:index:HetznerHost"
    vendor = "hetzner"
    first_boot_inputs = ("user_data", "ssh_keys")
    # Server names are unique per project, and the primary IPv4 has one holder at a time: a replacement must
    # delete the old server first.
    unique_server_name = True

    def _build(self, name: str) -> None:
        spec = self.spec
        # `public_key` changes are ignored: the resource name pins the key, so only its comment can differ, and
        # a replacement would upload the key twice (created before the old one goes), which Hetzner refuses.
        keys = [hcloud.SshKey(f"{name}-key-{key_id(key)}", name=f"{spec.host_name}-{spec.admin_user}-{key_id(key)}",
                              public_key=key.line, labels=self.labels,
                              opts=self.child(ignore_changes=["public_key"]))
                for key in spec.ssh_keys]
        self.ssh_keys = list(keys)
        v4, v6 = spec.ssh_cidrs_by_family
        rules = [hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port=str(SSH_PORT), source_ips=v4 + v6,
                                         description="ssh")]
        rules += [hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port=str(port), source_ips=list(ANYWHERE),
                                          description=f"tcp {port}") for port in PUBLIC_PORTS]
        self.firewall = firewall = hcloud.Firewall(f"{name}-firewall", name=f"{spec.host_name}-fw", rules=rules,
                                                   labels=self.labels, opts=self.child())
        # The server's address: not deleted with the server (auto_delete), so a replaced server answers on it.
        # Replaced only with a new location, and then deleted first: its name is unique in the project.
        self.static_ip = address = hcloud.PrimaryIp(f"{name}-ip", name=f"{spec.host_name}-ipv4", type="ipv4",
                                                    location=spec.region, auto_delete=False, labels=self.labels,
                                                    opts=self.child(delete_before_replace=True))
        self.server = server = hcloud.Server(
            f"{name}-server",
            name=spec.host_name,
            server_type=spec.size.slug,
            image=spec.image_slug,
            location=spec.region,
            ssh_keys=[k.id for k in keys],
            user_data=self.first_boot.cloud_config,
            public_nets=[hcloud.ServerPublicNetArgs(ipv4_enabled=True, ipv4=address.id.apply(int),
                                                    ipv6_enabled=spec.ipv6)],
            firewall_ids=[firewall.id.apply(int)],
            backups=spec.backups,
            keep_disk=not spec.grow_disk,  # the provider's default grows the disk for good on a type change
            shutdown_before_deletion=True,
            labels=self.labels,
            opts=self.lifecycle.options(self),
        )
        self.ipv4 = address.ip_address
        self.ipv6 = server.ipv6_address if spec.ipv6 else pulumi.Output.from_input(None)
        if spec.has_data_volume:
            self._data_volume(name)
        if spec.domain:
            # The address's PTR record names the site; it follows the primary IP, not the server.
            self.reverse_dns = hcloud.Rdns(f"{name}-rdns", primary_ip_id=address.id.apply(int),
                                           ip_address=address.ip_address, dns_ptr=spec.domain, opts=self.child())

        plan = dns_plan(spec, spec.ipv6)
        if plan:
            values = {"A": self.ipv4, "AAAA": server.ipv6_address}
            self.dns_records = [
                hcloud.ZoneRrset(f"{name}-dns-{rtype.lower()}", zone=plan.zone, name=plan.name, type=rtype,
                                 records=[hcloud.ZoneRrsetRecordArgs(value=values[rtype])], ttl=300,
                                 labels=self.labels, opts=self.child())
                for rtype in plan.records
            ]

    @property
    def labels(self) -> dict[str, str]:
        """Hetzner labels resources (key=value) instead of tagging them: each tag is a key with an empty value."""
        return dict.fromkeys(self.tags, "")

    def _data_volume(self, name: str) -> None:
        """The volume and its attachment to this server.

        terraform-provider-hcloud internal/volume/resource.go: only location is ForceNew; size grows in place. No
        `format` and no automount: first boot formats only a blank volume and mounts it itself.
        internal/volume/resource_attachment.go: volume_id and server_id are ForceNew and there is no Update, so a
        new server gets a new attachment; a volume attaches to one server at a time, so the old one goes first.
        """
        spec = self.spec
        # Replaced only with a new location (refused while keepDataVolume protects it), and then deleted first:
        # its name is unique in the project.
        self.data_volume = volume = hcloud.Volume(
            f"{name}-data", name=spec.data_volume_name, location=spec.region, size=spec.data_volume_gb,
            labels=self.labels,
            opts=pulumi.ResourceOptions.merge(self.volume_options(),
                                              pulumi.ResourceOptions(delete_before_replace=True)))
        self.data_volume_attachment = hcloud.VolumeAttachment(
            f"{name}-data-attachment", volume_id=volume.id.apply(int), server_id=self.server.id.apply(int),
            automount=False, opts=self.child(delete_before_replace=True))
