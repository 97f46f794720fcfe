"""The delivery forms of one first boot and the vendors' size limits.

`render_cloud_config` delivers the description as cloud-config (as it is, or gzipped and base64-encoded for a
metadata service that wants base64: SENT_FORMS); `render_launch_script` delivers the very same bundle as a POSIX
sh launch script (for a vendor that does not honour #cloud-config). `render_first_boot` renders both and refuses
data over the stack's vendor's limit before any resource exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import overload

import pulumi

from components.config import HostSpec
from components.firstboot import wire
from components.firstboot.description import PLACEHOLDER_HOST_KEY, FirstBoot, bundle, describe_first_boot
from components.vendors import VENDORS

#: The smallest user-data limit of any vendor (16 KiB): each vendor's own is `sent_form_limit`.
MAX_FIRST_BOOT_BYTES = 16 * 1024
#: Per vendor: the form it receives (a key of RenderedFirstBoot.sizes) and the most bytes it accepts in that
#: form, from each vendor's description (vendor API documentation).
SENT_FORM_LIMITS = {v.name: (v.sent_form, v.sent_form_limit) for v in VENDORS}
PROVISION_SCRIPT = "/usr/local/sbin/hvps-provision"


@dataclass(frozen=True)
class RenderedFirstBoot:
    """Both delivery forms of the same first boot."""

    cloud_config: str
    launch_script: str
    digest: str

    def for_vendor(self, form: str) -> str:
        return self.cloud_config if form == "cloud-config" else self.launch_script

    @property
    def sizes(self) -> dict[str, int]:
        """Bytes per sent form (SENT_FORMS) as a vendor receives it."""
        return {name: len(encode_sent_form(name, self).encode()) for name in SENT_FORMS}


class FirstBootTooLarge(ValueError):
    """Rendered first-boot data exceeds what a vendor accepts."""


def form_header(first_boot: FirstBoot, form: str) -> str:
    """The form's header comment (wire.header_comment): what the bundle holds, for a reader on the host."""
    return wire.header_comment(first_boot.digest, form, len(first_boot.files), PROVISION_SCRIPT)


def render_cloud_config(first_boot: FirstBoot) -> str:
    """cloud-config form: cloud-init writes the bundle, then unpacks it and runs the provisioning script."""
    bundle_file, unpack = wire.cloud_config_parts(bundle(first_boot))
    document = {
        "disable_root": True,
        "ssh_pwauth": False,
        # Naming the admin here keeps cloud-init from creating the distro's default user; the provisioning
        # script adds the groups and keys, as it does in the launch-script form.
        "users": [{"name": first_boot.admin_user, "shell": "/bin/bash", "lock_passwd": True}],
        "write_files": [bundle_file],
        "runcmd": [unpack, [PROVISION_SCRIPT]],
    }
    return wire.cloud_config_text(form_header(first_boot, "cloud-config"), document)


def render_launch_script(first_boot: FirstBoot) -> str:
    """Launch-script form: POSIX sh unpacks the same bundle, then hands over to the bash provisioning script.

    A vendor may run user data after lines of its own, so our `#!` line may be a mere comment and the whole
    script run by /bin/sh (dash on Debian and Ubuntu). Only POSIX sh belongs here: `set -o pipefail` alone
    would stop dash before first boot starts. The provisioning script is bash by its own `#!/bin/bash`.
    """
    return wire.launch_script_text(form_header(first_boot, "launch-script"), bundle(first_boot),
                                   before=["set -eu"], after=[f"exec {PROVISION_SCRIPT}"])


@overload
def cloud_config_gzip_base64(cloud_config: str) -> str: ...


@overload
def cloud_config_gzip_base64(cloud_config: pulumi.Output[str]) -> pulumi.Output[str]: ...


def cloud_config_gzip_base64(cloud_config: str | pulumi.Output[str]) -> str | pulumi.Output[str]:
    """For a metadata service that wants base64: gzip first (cloud-init unpacks gzip user data) to stay far below
    16 KiB.

    The host sends its first boot as a secret Output (it carries the host key): that maps to a secret Output.
    """
    if isinstance(cloud_config, pulumi.Output):
        return cloud_config.apply(cloud_config_gzip_base64)
    return wire.gzip_base64(cloud_config)


def render_first_boot(spec: HostSpec, host_key: str = PLACEHOLDER_HOST_KEY) -> RenderedFirstBoot:
    """Render both forms and refuse the data when the spec's vendor would reject the form it receives for size.

    Without `host_key` the size-equal stand-in is used: the check runs before the engine made the real key.
    """
    first_boot = describe_first_boot(spec, host_key)
    rendered = RenderedFirstBoot(render_cloud_config(first_boot), render_launch_script(first_boot),
                                 first_boot.digest)
    form, limit = SENT_FORM_LIMITS[spec.vendor]
    size = len(encode_sent_form(form, rendered).encode())  # this vendor's form only: the others are not sent
    if size > limit:
        raise FirstBootTooLarge(
            f"first-boot data is over {spec.vendor}'s {limit}-byte limit ({form} {size} bytes); fewer or shorter "
            "sshPublicKeys, tags or settings would shrink it")
    return rendered


@dataclass(frozen=True)
class SentForm:
    """How a vendor receives first-boot data: the form it carries and how that is encoded and read back."""

    carries: str  # "cloud-config" or "launch-script"
    encode: Callable[[str], str]
    decode: Callable[[str], str]  # wire.WireError when the data is not of this form


def _as_is(text: str) -> str:
    return text


#: Every way a vendor receives first boot (a vendor names one: `sent_form`).
SENT_FORMS: Mapping[str, SentForm] = MappingProxyType({
    "cloud-config": SentForm("cloud-config", _as_is, _as_is),
    "cloud-config-gzip-base64": SentForm("cloud-config", wire.gzip_base64, wire.cloud_config_of_gzip_base64),
    "launch-script": SentForm("launch-script", _as_is, _as_is),
})


def encode_sent_form(sent_form: str, rendered: RenderedFirstBoot) -> str:
    """`rendered` as a vendor that receives `sent_form` gets it."""
    form = SENT_FORMS[sent_form]
    return form.encode(rendered.for_vendor(form.carries))
