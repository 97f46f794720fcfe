"""AWS Lightsail adapter: instance with a launch script + public ports + static IP (+ DNS in us-east-1)."""

from __future__ import annotations

import pulumi
from pulumi_aws import lightsail

from components.config import HostSpec
from components.host import ANY_IPV4, ANY_IPV6, PUBLIC_PORTS, SSH_PORT, WebHost, dns_plan
from components.vendors.model import BACKUP_HOUR_UTC

DNS_REGION = "us-east-1"  # Lightsail DNS zones exist only there
DATA_DISK_PATH = "/dev/xvdf"  # where the attached disk appears (an NVMe name on Nitro plans: Vendor.volume_devices)
#: Sources for an address family a rule must not admit. Lightsail keeps one firewall per family, and the provider
#: sends an empty `cidrs`/`ipv6_cidrs` as unset, which Lightsail fills with its default (anywhere). So every rule
#: names both families; loopback addresses never arrive from the network, so they admit nobody.
NOBODY_IPV4, NOBODY_IPV6 = "127.0.0.1/32", "::1/128"


def port_infos(spec: HostSpec) -> list[lightsail.InstancePublicPortsPortInfoArgs]:
    """The instance's whole rule set: 22 from the SSH CIDRs, 80/443 from anywhere; no family left empty."""
    v4, v6 = spec.ssh_cidrs_by_family
    rules = [lightsail.InstancePublicPortsPortInfoArgs(protocol="tcp", from_port=SSH_PORT, to_port=SSH_PORT,
                                                       cidrs=v4 or [NOBODY_IPV4], ipv6_cidrs=v6 or [NOBODY_IPV6])]
    rules += [lightsail.InstancePublicPortsPortInfoArgs(protocol="tcp", from_port=p, to_port=p, cidrs=[ANY_IPV4],
                                                        ipv6_cidrs=[ANY_IPV6 if spec.ipv6 else NOBODY_IPV6])
              for p in PUBLIC_PORTS]
    return rules


class LightsailHost(WebHost):
    type_token = "hardened-vps:index:LightsailHost"
    vendor = "lightsail"
    first_boot_inputs = ("user_data", "key_pair_name")
    unique_server_name = True  # instance names are unique per region

    def _build(self, name: str) -> None:
        spec = self.spec
        region = spec.region
        zone = f"{region}a"
        tags = {t: "" for t in self.tags}
        # Without our own key pair Lightsail would use its region default key, whose private half AWS keeps.
        key = lightsail.KeyPair(f"{name}-key", name=f"{spec.host_name}-{spec.admin_user}",
                                public_key=spec.ssh_keys[0].line, region=region, opts=self.child())
        self.ssh_keys = [key]
        self.server = instance = lightsail.Instance(
            f"{name}-server",
            name=spec.host_name,
            region=region,
            availability_zone=zone,
            blueprint_id=spec.image_slug,
            bundle_id=spec.size.slug,
            key_pair_name=key.name,
            user_data=self.first_boot.launch_script,
            ip_address_type="dualstack" if spec.ipv6 else "ipv4",
            add_on=lightsail.InstanceAddOnArgs(type="AutoSnapshot", snapshot_time=f"{BACKUP_HOUR_UTC:02d}:00",
                                               status="Enabled")
            if spec.backups else None,
            tags=tags,
            opts=self.lifecycle.options(self),
        )
        self.instance = instance
        ports = port_infos(spec)
        # Replaces Lightsail's default open ports (22 and 80 from anywhere) with exactly these. Any rule change
        # replaces the resource (port_info is ForceNew, no Update); its delete closes every OLD rule, so it
        # must run before the create puts the new set, or it would close 80/443 again behind Pulumi's back.
        self.firewall = lightsail.InstancePublicPorts(f"{name}-firewall", instance_name=instance.name,
                                                      port_infos=ports, region=region,
                                                      opts=self.child(delete_before_replace=True))
        self.static_ip = lightsail.StaticIp(f"{name}-ip", name=f"{spec.host_name}-ip", region=region,
                                            opts=self.child())
        self.ip_attachment = lightsail.StaticIpAttachment(f"{name}-ip-attachment", static_ip_name=self.static_ip.name,
                                                          instance_name=instance.name, region=region,
                                                          opts=self.child())
        self.ipv4 = self.ip_attachment.ip_address
        if spec.has_data_volume:
            self._data_volume(name, zone)
        self.ipv6 = (instance.ipv6_addresses.apply(lambda ips: ips[0] if ips else None) if spec.ipv6
                     else pulumi.Output.from_input(None))

        plan = dns_plan(spec, spec.ipv6)
        if plan:
            values = {"A": self.ipv4, "AAAA": self.ipv6}
            self.dns_records = [
                lightsail.DomainEntry(f"{name}-dns-{rtype.lower()}", domain_name=plan.zone, type=rtype,
                                      name="" if plan.name == "@" else plan.name, target=values[rtype],
                                      region=DNS_REGION, opts=self.child())
                for rtype in plan.records
            ]

    def _data_volume(self, name: str, zone: str) -> None:
        """The block storage disk, in the instance's zone, and its attachment to the instance.

        terraform-provider-aws internal/service/lightsail/disk.go: name, availability_zone and size_in_gb are
        ForceNew (Update changes tags only), so a bigger disk is a new, empty one. disk_attachment.go: disk_name,
        instance_name and disk_path are ForceNew, no Update; a rebuilt instance keeps its name, and the engine
        replaces the attachment with the instance it reads the name from (the instance is deleted first), detaching
        first: a disk attaches to one instance at a time.
        """
        spec = self.spec
        self.data_volume = disk = lightsail.Disk(f"{name}-data", name=spec.data_volume_name, availability_zone=zone,
                                                 size_in_gb=spec.data_volume_gb, region=spec.region,
                                                 opts=self.volume_options())
        self.data_volume_attachment = lightsail.Disk_attachment(
            f"{name}-data-attachment", disk_name=disk.name, instance_name=self.instance.name,
            disk_path=DATA_DISK_PATH, region=spec.region, opts=self.child(delete_before_replace=True))

    def _created_at(self) -> pulumi.Output[str | None]:
        """The instance's `created_at` (from GetInstance's createdAt)."""
        return self.instance.created_at

    def _server_identity(self) -> pulumi.Output[str]:
        """The instance's ARN: its id is its name (terraform-provider-aws internal/service/lightsail/instance.go
        `d.SetId(iName)`), which a rebuild keeps, while the ARN holds an id Lightsail makes for each instance."""
        return self.instance.arn
