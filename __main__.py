"""Pulumi program: read this stack's config, build one hardened host, export how to reach it."""

from pathlib import Path

import pulumi

from components.config import PROJECT, ConfigError, parse_host_spec
from components.firstboot import FirstBootTooLarge, render_first_boot
from components.host import WebHostArgs, first_boot_applied, formerly_named
from components.readiness import first_boot_ready
from components.vendors import host_class

#: Logical names of the host and the app release. Fixed, never taken from config: the name is part of every
#: resource's URN (children are named `<name>-...`), and a changed URN is a new resource to Pulumi: a new
#: server, the old one deleted. Stacks deployed when they were `<hostName>` and `<hostName>-app` keep every
#: resource through the aliases, as long as their first update under these names keeps hostName as it was.
HOST_NAME = "host"
RELEASE_NAME = "app"


def read_project_config() -> dict[str, str]:
    """Every `hardened-vps:*` value of this stack, as Pulumi hands them (unknown keys included, to be reported)."""
    prefix = f"{PROJECT}:"
    every = pulumi.runtime.config.CONFIG.get()
    return {key[len(prefix):]: value for key, value in every.items() if key.startswith(prefix)}


raw_config = read_project_config()
# The CLI tells the program which values were encrypted in the stack (pulumi config set --secret).
secret_keys = [key for key in raw_config if pulumi.runtime.is_config_secret(f"{PROJECT}:{key}")]
try:
    spec = parse_host_spec(raw_config, stack=pulumi.get_stack(), base_dir=Path(__file__).parent,
                           secret_keys=secret_keys)
    first_boot = render_first_boot(spec)
except (ConfigError, FirstBootTooLarge) as err:
    # Raised before any resource is registered: nothing is created, nothing is touched.
    raise pulumi.RunError(str(err)) from None

host = host_class(spec.vendor)(  # imports only this vendor's SDK
    HOST_NAME, WebHostArgs(spec=spec, first_boot=first_boot), opts=formerly_named(spec.host_name, HOST_NAME))

config = pulumi.Config()
deploy_key = config.get_secret("deployPrivateKey") if raw_config.get("deployPrivateKey") else None
reachable = tuple(r for r in (host.server, host.firewall, host.ip_attachment) if r is not None)
# `pulumi up` fails unless first boot completed (it retries an apt outage on the host, for up to 24 h).
ready = first_boot_ready(HOST_NAME, spec, host, host.ipv4, host.ssh_host_key, host.server_identity,
                         private_key=deploy_key, depends_on=reachable)
# Every `pulumi up` converges the running host's files (only what changed is written and reloaded).
backup_keys = None
if spec.backup_bucket:  # config refused a bucket without both keys
    backup_keys = (config.require_secret("backupAccessKeyId"), config.require_secret("backupSecretAccessKey"))
host_config = host.converge_config(ready, private_key=deploy_key, backup_keys=backup_keys)

released: list[pulumi.Resource] = []
if spec.app is not None:
    from components.app import AppRelease, AppReleaseArgs

    release = AppRelease(RELEASE_NAME, AppReleaseArgs(
        spec=spec, host=host.ipv4, host_key=host.ssh_host_key, server_identity=host.server_identity,
        secret_env=config.get_secret("appSecrets") if raw_config.get("appSecrets") else None,
        private_key=deploy_key),
        opts=pulumi.ResourceOptions.merge(formerly_named(f"{spec.host_name}-app", RELEASE_NAME),
                                          pulumi.ResourceOptions(depends_on=[*reachable, ready, host_config.converge])))
    pulumi.export("appRelease", release.release_id)
    released.append(release)

if spec.benchmark:  # once per server, after the host is finished (and its app released)
    pulumi.export("benchmark", host.benchmark([ready, host_config.converge, *released], private_key=deploy_key).result)

pulumi.export("vendor", spec.vendor)
pulumi.export("plan", f"{spec.size.slug} in {spec.region} ({spec.image})")
pulumi.export("ipv4", host.ipv4)
pulumi.export("ipv6", host.ipv6)
pulumi.export("sshCommand", host.ssh_command)
pulumi.export("sshHostKey", host.ssh_host_key)  # public: pin it in known_hosts (see README)
pulumi.export("url", host.url)
pulumi.export("monthlyCostUsd", host.monthly_cost_usd)
pulumi.export("firstBootDigest", first_boot.digest)
pulumi.export("firstBootApplied", first_boot_applied(spec))
pulumi.export("dataVolumeId", host.data_volume_id)  # None without a data volume
