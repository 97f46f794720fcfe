"""Vultr adapter: instance on a reserved IP + firewall group and its rules (+ block storage, DNS records)."""

from __future__ import annotations

import ipaddress

import ediri_vultr as vultr
import pulumi

from components.host import ANYWHERE, PUBLIC_PORTS, SSH_PORT, WebHost, dns_plan
from components.vendors.model import BACKUP_HOUR_UTC


def rule_name(name: str, port: int, cidr: str) -> str:
    """A rule's resource name from what it admits, not its list position: every rule input is ForceNew, so a
    positional name would replace every rule after a removed one. IPv4 as written (dots as dashes), IPv6 as the
    network's number in hex (compressed forms of different networks never collide)."""
    net = ipaddress.ip_network(cidr, strict=False)
    where = (str(net.network_address).replace(".", "-") if net.version == 4
             else f"{int(net.network_address):x}")
    return f"{name}-fw-{port}-v{net.version}-{where}-{net.prefixlen}"


class VultrHost(WebHost):
    type_token = "hardened-vps:index:VultrHost"
    vendor = "vultr"
    first_boot_inputs = ("user_data", "ssh_key_ids")
    # The instance takes the reserved IP as its main address at creation (reserved_ip_id, ForceNew), and an
    # address has one holder: a replacement must delete the old instance first.
    unique_server_name = True

    def _build(self, name: str) -> None:
        spec = self.spec
        keys = [vultr.SSHKey(f"{name}-key-{i}", name=f"{spec.host_name}-{spec.admin_user}-{i}", ssh_key=key.line,
                             opts=self.child())
                for i, key in enumerate(spec.ssh_keys)]
        self.ssh_keys = list(keys)
        self.firewall = group = vultr.FirewallGroup(f"{name}-firewall", description=f"{spec.host_name}-fw",
                                                    opts=self.child())
        self.firewall_rules = self._rules(name, group)
        self.static_ip = address = vultr.ReservedIp(f"{name}-ip", region=spec.region, ip_type="v4",
                                                    label=f"{spec.host_name}-ip", opts=self.child())
        self.server = self.instance = instance = vultr.Instance(
            f"{name}-server",
            hostname=spec.host_name,
            label=spec.host_name,
            region=spec.region,
            plan=spec.size.slug,
            os_id=int(spec.image_slug),
            ssh_key_ids=[k.id for k in keys],
            user_data=self.first_boot.cloud_config,
            reserved_ip_id=address.id,
            firewall_group_id=group.id,
            enable_ipv6=spec.ipv6,
            activation_email=False,
            ddos_protection=False,
            backups="enabled" if spec.backups else "disabled",
            backups_schedule=vultr.InstanceBackupsScheduleArgs(type="daily", hour=BACKUP_HOUR_UTC)
            if spec.backups else None,
            tags=self.tags,
            # The provider marks the root password secret, not the console URL (kvm), which opens the console.
            opts=pulumi.ResourceOptions.merge(self.lifecycle.options(self),
                                              pulumi.ResourceOptions(additional_secret_outputs=["kvm"])),
        )
        self.ipv4 = address.subnet
        self.ipv6 = instance.v6_main_ip if spec.ipv6 else pulumi.Output.from_input(None)
        if spec.has_data_volume:
            self._data_volume(name)

        plan = dns_plan(spec, spec.ipv6)
        if plan:
            values = {"A": self.ipv4, "AAAA": instance.v6_main_ip}
            self.dns_records = [
                vultr.DnsRecord(f"{name}-dns-{rtype.lower()}", domain=plan.zone, type=rtype,
                                name="" if plan.name == "@" else plan.name, data=values[rtype], ttl=300,
                                opts=self.child())
                for rtype in plan.records
            ]

    def _rules(self, name: str, group: vultr.FirewallGroup) -> list[vultr.FirewallRule]:
        """22 from the stack's SSH CIDRs, 80 and 443 from anywhere; a group drops whatever no rule accepts."""
        admitted = [(SSH_PORT, cidr) for cidr in self.spec.ssh_allowed_cidrs]
        admitted += [(port, cidr) for port in PUBLIC_PORTS for cidr in ANYWHERE]
        # One rule per network: two spellings of one network would be one rule name twice.
        networks = dict.fromkeys((port, ipaddress.ip_network(cidr, strict=False)) for port, cidr in admitted)
        rules = []
        for port, net in networks:
            rules.append(vultr.FirewallRule(
                rule_name(name, port, str(net)), firewall_group_id=group.id, protocol="tcp",
                ip_type=f"v{net.version}", subnet=str(net.network_address), subnet_size=net.prefixlen, port=str(port),
                opts=self.child()))
        return rules

    def _data_volume(self, name: str) -> None:
        """The block storage, attached to this instance by its own `attached_to_instance`.

        terraform-provider-vultr vultr/resource_vultr_block_storage.go: region and block_type are ForceNew; size_gb
        and attached_to_instance update in place (Update detaches from the old instance, then attaches to the new
        one, `live` so the instance is not restarted). A rebuilt instance gets the same volume back.
        """
        spec = self.spec
        self.data_volume = vultr.BlockStorage(f"{name}-data", label=spec.data_volume_name, region=spec.region,
                                              size_gb=spec.data_volume_gb, block_type="high_perf",
                                              attached_to_instance=self.instance.id, live=True,
                                              opts=self.volume_options())

    def _created_at(self) -> pulumi.Output[str | None]:
        """The instance's `date_created` (from the API)."""
        return self.instance.date_created
