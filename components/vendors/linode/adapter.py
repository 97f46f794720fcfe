"""Linode (Akamai) adapter: instance with cloud-init metadata + Linode Firewall (+ DNS records)."""

from __future__ import annotations

import hashlib
import re

import pulumi_linode as linode

from components.firstboot import cloud_config_gzip_base64
from components.host import ANY_IPV4, ANY_IPV6, PUBLIC_PORTS, SSH_PORT, WebHost, dns_plan

FIREWALL_LABEL_MAX = 32  # Linode API: firewall labels are 3-32 characters (instances: LABEL_MAX in this folder)
_FIREWALL_SUFFIX = "-fw"


def _label_core(text: str) -> str:
    """Only label characters (letters, digits, - _ .), never two separators in a row, alphanumeric at both ends."""
    text = re.sub(r"[^A-Za-z0-9._-]", "-", text)
    text = re.sub(r"[-_.]{2,}", lambda run: run.group(0)[0], text)
    return text.strip("-_.")


def firewall_label(host_name: str) -> str:
    """The Linode Firewall's label: `<host>-fw`, or when that exceeds 32 characters, the host name's start, 6 hex
    of its hash and `-fw`.

    The Linode API refuses labels that end in a separator or hold `--`, `__` or `..`, which cutting a string at
    a fixed length produces; firewall labels are also unique per account, so a shortened label keeps the hash of
    the whole name to stay distinct from a neighbour with the same start.
    """
    core = _label_core(host_name) or "host"
    if len(core) + len(_FIREWALL_SUFFIX) <= FIREWALL_LABEL_MAX:
        return core + _FIREWALL_SUFFIX
    tag = hashlib.sha256(host_name.encode()).hexdigest()[:6]
    keep = FIREWALL_LABEL_MAX - len(_FIREWALL_SUFFIX) - len(tag) - 1
    return f"{_label_core(core[:keep])}-{tag}{_FIREWALL_SUFFIX}"


class LinodeHost(WebHost):
    type_token = "hardened-vps:index:LinodeHost"
    vendor = "linode"
    first_boot_inputs = ("metadatas", "authorized_keys")
    unique_server_name = True  # labels are unique per account: a replacement must delete the old one first

    def _build(self, name: str) -> None:
        spec = self.spec
        # Keys go to root's authorized_keys on Linode; root SSH login is refused by sshd, so they only spare
        # the account a random root password e-mail. The admin's own keys come with the first-boot data.
        self.server = instance = linode.Instance(
            f"{name}-server",
            label=spec.host_name,
            region=spec.region,
            type=spec.size.slug,
            image=spec.image_slug,
            authorized_keys=[k.line for k in spec.ssh_keys],
            backups_enabled=spec.backups,
            metadatas=[linode.InstanceMetadataArgs(user_data=cloud_config_gzip_base64(self.first_boot.cloud_config))],
            tags=self.tags,
            opts=self.lifecycle.options(self),
        )
        v4, v6 = spec.ssh_cidrs_by_family
        ssh_rule = linode.FirewallInboundArgs(label="ssh", action="ACCEPT", protocol="TCP", ports=str(SSH_PORT),
                                              ipv4s=v4 or None, ipv6s=v6 or None)
        web_rule = linode.FirewallInboundArgs(label="web", action="ACCEPT", protocol="TCP",
                                              ports=",".join(str(p) for p in PUBLIC_PORTS), ipv4s=[ANY_IPV4],
                                              ipv6s=[ANY_IPV6])
        # Attached through `linodes` (not Instance.firewall_id, which would force a replacement to change).
        self.firewall = linode.Firewall(
            f"{name}-firewall", label=firewall_label(spec.host_name), inbound_policy="DROP", outbound_policy="ACCEPT",
            inbounds=[ssh_rule, web_rule], linodes=[instance.id.apply(int)], tags=self.tags, opts=self.child())
        # A Linode keeps its public addresses for life; there is no separate static address to reserve.
        self.ipv4 = instance.ipv4s.apply(lambda ips: sorted(ips or [""])[0])
        self.ipv6 = instance.ipv6.apply(lambda ip: ip.split("/")[0] if ip else None)
        if spec.has_data_volume:
            # terraform-provider-linode linode/volume/framework_schema_resource.go: region (and encryption,
            # source_volume_id) RequiresReplace; label, size (grow) and linode_id update in place, and
            # framework_resource.go's Update detaches from the old linode_id and attaches to the new one. So the
            # volume is its own attachment: a rebuilt instance moves it, never replaces it.
            self.data_volume = linode.Volume(f"{name}-data", label=spec.data_volume_name, region=spec.region,
                                             size=spec.data_volume_gb, linode_id=instance.id.apply(int),
                                             opts=self.volume_options())

        plan = dns_plan(spec, spec.ipv6)
        if plan:
            zone = linode.get_domain_output(domain=plan.zone)
            values = {"A": self.ipv4, "AAAA": self.ipv6}
            self.dns_records = [
                linode.DomainRecord(f"{name}-dns-{rtype.lower()}", domain_id=zone.id.apply(int), record_type=rtype,
                                    name="" if plan.name == "@" else plan.name, target=values[rtype], ttl_sec=300,
                                    opts=self.child())
                for rtype in plan.records
            ]
