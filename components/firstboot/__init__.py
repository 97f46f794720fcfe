"""First-boot data: one provider-neutral description of the host, rendered in two forms.

`describe_first_boot(spec)` lists the files to write (rendered from `templates/`, one template per config
file) and the provisioning script that activates them. `render_cloud_config` delivers that description as
cloud-config (DigitalOcean, Linode); `render_launch_script` delivers the very same files and script as a
POSIX sh launch script (AWS Lightsail, which does not honour #cloud-config). All are pure functions.

One idea per module, every name re-exported here for callers:
- `concerns`: the host as an ordered list of concerns (files, packages, steps); `wire`: the bundle format.
- `templating`: templates and the encoders their placeholders name.
- `values`: what the templates are filled with, and the concerns' steps as bash functions.
- `description`: the files first boot writes and their bundle.
- `forms`: cloud-config and launch-script forms, and the vendors' size limits.
- `converge`: the converge bundle and its per-file digests.
"""

from components.firstboot import wire
from components.firstboot.concerns import (
    ACME_CA_PATH,
    ADMIN_KEYS_PATH,
    CERTBOT_CA_DROPIN,
    CONCERNS,
    DEFERRED,
    DO_AGENT_DROPIN,
    HOST_KEY_PATH,
    MANIFEST_PATH,
    SERVE,
    Concern,
    concerns_for,
)
from components.firstboot.converge import (
    CONVERGE_COMMAND,
    SHORT_DIGEST,
    converge_bundle,
    converge_digests,
    converge_files,
    file_digest,
    short_digest,
)
from components.firstboot.description import (
    PLACEHOLDER_HOST_KEY,
    FirstBoot,
    HostFile,
    bundle,
    concern_digest,
    concern_files,
    concern_paths,
    describe_first_boot,
    manifest,
)
from components.firstboot.forms import (
    MAX_FIRST_BOOT_BYTES,
    PROVISION_SCRIPT,
    SENT_FORM_LIMITS,
    FirstBootTooLarge,
    RenderedFirstBoot,
    form_header,
    linode_user_data,
    render_cloud_config,
    render_first_boot,
    render_launch_script,
)
from components.firstboot.settings import LOGIN_DEFS, SSH_GROUP, SSH_KEX, SSHD_OPTIONS, SYSCTL_SETTINGS
from components.firstboot.templating import (
    COMMENT_PREFIX,
    ENCODERS,
    KEEP_COMMENT_LINES,
    MANAGED_MARKER,
    TEMPLATES,
    TemplateError,
    Trusted,
    encode_apt,
    encode_nginx,
    encode_py,
    encode_raw,
    encode_sh,
    encode_sshd,
    encode_sudoers,
    encode_systemd,
    render_host_file,
    render_template,
    render_text,
    template_names,
    without_comment_lines,
)
from components.firstboot.values import (
    SAMPLE_APP_MODULE,
    concern_functions,
    dhcp_firewall_rules,
    effective_origins,
    has_ipv6,
    packages_for,
    ssh_firewall_rules,
    sshd_options,
    sysctl_settings,
    template_values,
    upgrade_origins,
)
from components.firstboot.wire import BUNDLE_PATH, PAYLOAD_END

__all__ = [
    "ACME_CA_PATH", "ADMIN_KEYS_PATH", "BUNDLE_PATH", "CERTBOT_CA_DROPIN", "COMMENT_PREFIX", "CONCERNS",
    "CONVERGE_COMMAND", "DEFERRED", "DO_AGENT_DROPIN", "ENCODERS", "HOST_KEY_PATH", "KEEP_COMMENT_LINES",
    "LOGIN_DEFS", "MANAGED_MARKER", "MANIFEST_PATH", "MAX_FIRST_BOOT_BYTES", "PAYLOAD_END", "PLACEHOLDER_HOST_KEY",
    "PROVISION_SCRIPT", "SAMPLE_APP_MODULE", "SENT_FORM_LIMITS", "SERVE", "SHORT_DIGEST", "SSHD_OPTIONS",
    "SSH_GROUP", "SSH_KEX", "SYSCTL_SETTINGS", "TEMPLATES", "Concern", "FirstBoot", "FirstBootTooLarge", "HostFile",
    "RenderedFirstBoot", "TemplateError", "Trusted", "bundle", "concern_digest", "concern_files",
    "concern_functions", "concern_paths", "concerns_for", "converge_bundle", "converge_digests", "converge_files",
    "describe_first_boot", "dhcp_firewall_rules", "effective_origins", "encode_apt", "encode_nginx", "encode_py",
    "encode_raw", "encode_sh", "encode_sshd", "encode_sudoers", "encode_systemd", "file_digest", "form_header",
    "has_ipv6",
    "linode_user_data", "manifest", "packages_for", "render_cloud_config", "render_first_boot", "render_host_file",
    "render_launch_script", "render_template", "render_text", "short_digest", "ssh_firewall_rules", "sshd_options",
    "sysctl_settings", "template_names", "template_values", "upgrade_origins", "wire", "without_comment_lines",
]
