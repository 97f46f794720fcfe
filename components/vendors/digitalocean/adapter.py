"""DigitalOcean adapter: droplet + cloud firewall + reserved IP (+ DNS records, monitoring agent)."""

from __future__ import annotations

import base64
import hashlib

import pulumi
import pulumi_digitalocean as do

from components.config import SshKey
from components.host import ANYWHERE, PUBLIC_PORTS, SSH_PORT, WebHost, dns_plan
from components.vendors.model import BACKUP_HOUR_UTC


def md5_fingerprint(key: SshKey) -> str:
    """The key's MD5 fingerprint (aa:bb:...), the form DigitalOcean lists keys and droplets reference them by."""
    digest = hashlib.md5(base64.b64decode(key.blob), usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def key_id(key: SshKey) -> str:
    """A short stable id of the key itself (the start of its MD5 fingerprint, as the account shows it).

    Naming key resources by the key, not by list position, means removing or reordering keys leaves every
    other key resource as it is: `public_key` is ForceNew, and a replacement would upload a key the account
    already holds ("SSH Key is already in use").
    """
    return md5_fingerprint(key).replace(":", "")[:12]


def key_resource_options(parent: pulumi.Resource, name: str, position: int) -> pulumi.ResourceOptions:
    """Options of the key resource at `position` of the key list.

    The alias is the positional name keys had before they were named by the key (`<name>-key-<i>`): a stack
    deployed then keeps its keys, as long as its first update under key names leaves the key list as it was.
    `public_key` changes are ignored: the resource name pins the key, so only its comment can differ, and
    replacing the key for a comment would upload it twice.
    """
    return pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name=f"{name}-key-{position}")],
                                  ignore_changes=["public_key"])


class DigitalOceanHost(WebHost):
    type_token = "hardened-vps:index:DigitalOceanHost"
    vendor = "digitalocean"
    first_boot_inputs = ("user_data", "ssh_keys")
    unique_server_name = False  # droplet names may repeat: a replacement is created before the old one goes

    def _build(self, name: str) -> None:
        spec = self.spec
        keys = [
            do.SshKey(f"{name}-key-{key_id(key)}", name=f"{spec.host_name}-{spec.admin_user}-{key_id(key)}",
                      public_key=key.line, opts=key_resource_options(self, name, i))
            for i, key in enumerate(spec.ssh_keys)
        ]
        self.ssh_keys = list(keys)
        self.server = self.droplet = droplet = do.Droplet(
            f"{name}-server",
            name=spec.host_name,
            image=spec.image_slug,
            size=spec.size.slug,
            resize_disk=spec.grow_disk,  # the provider's default (true) would grow the disk for good on a resize
            region=spec.region,
            ssh_keys=[k.fingerprint for k in keys],
            user_data=self.first_boot.cloud_config,
            ipv6=spec.ipv6,
            monitoring=spec.monitoring,
            droplet_agent=False,  # no web-console agent: SSH with the admin key is the only way in
            graceful_shutdown=True,
            backups=spec.backups,
            backup_policy=do.DropletBackupPolicyArgs(plan="weekly", weekday="SUN", hour=BACKUP_HOUR_UTC)
            if spec.backups else None,
            tags=self.tags,
            opts=self.lifecycle.options(self),
        )
        droplet_id = droplet.id.apply(int)
        v4, v6 = spec.ssh_cidrs_by_family
        inbound = [do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(SSH_PORT), source_addresses=v4 + v6)]
        inbound += [do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(p), source_addresses=list(ANYWHERE))
                    for p in PUBLIC_PORTS]
        outbound = [do.FirewallOutboundRuleArgs(protocol=proto, port_range="1-65535" if proto != "icmp" else None,
                                                destination_addresses=list(ANYWHERE))
                    for proto in ("tcp", "udp", "icmp")]
        self.firewall = do.Firewall(f"{name}-firewall", name=f"{spec.host_name}-fw", droplet_ids=[droplet_id],
                                    inbound_rules=inbound, outbound_rules=outbound, opts=self.child())
        self.static_ip = do.ReservedIp(f"{name}-ip", region=spec.region, opts=self.child())
        self.ip_attachment = do.ReservedIpAssignment(f"{name}-ip-assignment", droplet_id=droplet_id,
                                                     ip_address=self.static_ip.ip_address, opts=self.child())
        self.ipv4 = self.static_ip.ip_address
        self.ipv6 = droplet.ipv6_address if spec.ipv6 else pulumi.Output.from_input(None)
        if spec.has_data_volume:
            self._data_volume(name, droplet_id)

        plan = dns_plan(spec, spec.ipv6)
        if plan:
            values = {"A": self.ipv4, "AAAA": droplet.ipv6_address}
            self.dns_records = [
                do.DnsRecord(f"{name}-dns-{rtype.lower()}", domain=plan.zone, type=rtype, name=plan.name,
                             value=values[rtype], ttl=300, opts=self.child())
                for rtype in plan.records
            ]

    def _created_at(self) -> pulumi.Output[str | None]:
        """The droplet's `created_at` (RFC 3339, from the API)."""
        return self.droplet.created_at

    def _data_volume(self, name: str, droplet_id: pulumi.Output[int]) -> None:
        """The data volume and its attachment to this droplet.

        terraform-provider-digitalocean digitalocean/volume/resource_volume.go: region and name are ForceNew, size
        grows in place and never shrinks (CustomizeDiff). No initial_filesystem_type: first boot formats only a
        blank volume. resource_volume_attachment.go: droplet_id and volume_id are ForceNew and there is no Update,
        so a new droplet gets a new attachment; a volume attaches to one droplet at a time, so the old attachment
        goes first (the droplet itself is created before the old one is deleted).
        """
        spec = self.spec
        self.data_volume = volume = do.Volume(f"{name}-data", name=spec.data_volume_name, region=spec.region,
                                              size=spec.data_volume_gb, opts=self.volume_options())
        self.data_volume_attachment = do.VolumeAttachment(f"{name}-data-attachment", droplet_id=droplet_id,
                                                          volume_id=volume.id,
                                                          opts=self.child(delete_before_replace=True))

