"""First-boot data (policy/hardening_policies/first_boot.py): present, in the vendor's form, and exactly what
components/firstboot renders for this stack's config, even when a weakened bundle is re-rendered by the product."""

from __future__ import annotations

import base64
import gzip
from dataclasses import replace
from typing import Any

import pytest

from components import firstboot
from components.config import load_stack_file
from components.firstboot import (
    PROVISION_SCRIPT,
    HostFile,
    cloud_config_gzip_base64,
    describe_first_boot,
    render_cloud_config,
    wire,
)
from policy.hardening_policies.first_boot import raw_first_boot, render_as_vendor
from policy.hardening_policies.pack import first_boot_present, first_boot_secrets
from policy.hardening_policies.resources import plain
from policy.offline import StackCase, analysing, check_resource
from tests.conftest import ED25519_KEY, ROOT
from tests.policy_support import (
    DEV_STACKS,
    DROPLET,
    LIGHTSAIL_INSTANCE,
    PROD,
    SERVER_OF,
    first_boot_props,
    names_resource_and_fix,
)


@pytest.mark.parametrize("stack", DEV_STACKS)
def test_bare_server_is_refused(stacks: dict[str, StackCase], stack: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, None))
    assert "no first-boot data" in message and names_resource_and_fix(message, server)


@pytest.mark.parametrize(("stack", "data", "expected"), [
    ("do-dev", "#cloud-config\npackages: [nginx]\n", "no first-boot bundle"),
    ("lightsail-dev", "#!/bin/bash\napt-get -y install nginx\n", "no first-boot bundle"),
    ("linode-dev", "not base64 at all!", "not base64"),
    ("linode-dev", base64.b64encode(b"#cloud-config\nruncmd: [[reboot]]\n").decode(), "no first-boot bundle"),
])
def test_foreign_first_boot_data_is_refused(stacks: dict[str, StackCase], stack: str, data: str,
                                            expected: str) -> None:
    server = stacks[stack].one(SERVER_OF[stack])
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, data))
    assert expected in message and names_resource_and_fix(message, server)


def test_wrong_form_for_the_vendor_is_refused(stacks: dict[str, StackCase]) -> None:
    lightsail = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    droplet = stacks["do-dev"].one(DROPLET)
    lightsail_as_cloud_config = render_cloud_config(describe_first_boot(load_stack_file(
        ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")))
    assert plain(droplet.inputs["userData"]) != lightsail_as_cloud_config  # another stack's data: refused too
    with analysing(stacks["lightsail-dev"]):
        (message,) = check_resource(first_boot_present, lightsail,
                                    first_boot_props(lightsail, lightsail_as_cloud_config))
    assert "#cloud-config is ignored" in message and names_resource_and_fix(message, lightsail)


def test_bundle_without_provisioning_script_is_refused(stacks: dict[str, StackCase]) -> None:
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.do-dev.yaml")
    first_boot = describe_first_boot(spec)
    gutted = replace(first_boot, files=tuple(f for f in first_boot.files if f.path != PROVISION_SCRIPT))
    server = stacks["do-dev"].one(DROPLET)
    with analysing(stacks["do-dev"]):
        (message,) = check_resource(first_boot_present, server,
                                    first_boot_props(server, render_cloud_config(gutted)))
    assert PROVISION_SCRIPT in message and names_resource_and_fix(message, server)


def _cloud_config_edited(data: str, edit: Any) -> str:
    """The rendered cloud-config with `edit` applied to its document, laid out by the wire format with the header
    the renderer gives the bundle it carries (read with the wire format's parser, never from the comment)."""
    document = wire.cloud_config_document(data)
    files = tuple(HostFile(e.path, e.content.decode(), f"{e.mode:04o}")
                  for e in wire.unpack(wire.bundle_of_cloud_config(data)))
    admin = document["users"][0]["name"]  # type: ignore[index]
    header = firstboot.form_header(firstboot.FirstBoot(files, admin), "cloud-config")
    assert wire.cloud_config_text(header, document) == data  # unedited, the same bytes
    edit(document)
    return wire.cloud_config_text(header, document)


def _weakened(document: dict[str, Any]) -> None:
    """Password login for root, and a runcmd that only names the provisioning script."""
    document.update(ssh_pwauth=True, disable_root=False,
                    chpasswd={"expire": False, "users": [{"name": "root", "type": "hash",
                                                          "password": "$6$salt$" + "x" * 86}]})
    document["runcmd"] = [["echo", PROVISION_SCRIPT]]


@pytest.mark.parametrize(("stack", "weaken"), [
    ("lightsail-dev", lambda d: d.replace("\npython3 -c", "\nexit 0\npython3 -c", 1)),
    ("lightsail-dev", lambda d: d.replace("set -eu\n", "set -eu\nsleep 1 && exit\n", 1)),
    ("lightsail-dev", lambda d: d + "passwd -d root\n"),  # after exec: never runs, still not ours
    ("do-dev", lambda d: _cloud_config_edited(d, _weakened)),
    (PROD, lambda d: _cloud_config_edited(d, lambda doc: doc.update(ssh_pwauth=True))),
    ("linode-dev", lambda d: cloud_config_gzip_base64(_cloud_config_edited(wire.cloud_config_of_gzip_base64(d),
                                                                   _weakened))),
    # cloud-init reads every member of a gzip stream: a second member appends to the cloud-config
    ("linode-dev", lambda d: base64.b64encode(base64.b64decode(d) + gzip.compress(b"ssh_pwauth: true\n")).decode()),
    ("linode-dev", lambda d: d + "\n"),  # not the rendered bytes, even if it decodes the same
])
def test_first_boot_data_must_equal_a_fresh_render_of_its_bundle(stacks: dict[str, StackCase], stack: str,
                                                                 weaken: Any) -> None:
    """Header, bundle and provisioning script all present, but the data around them does something else."""
    server = stacks[stack].one(SERVER_OF[stack])
    raw = raw_first_boot(server.type, server.inputs)
    assert raw is not None
    data = weaken(raw.data)
    assert data != raw.data
    with analysing(stacks[stack]):
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, data))
    assert "differs from a fresh render" in message and names_resource_and_fix(message, server)


def test_first_boot_check_follows_the_renderer(stacks: dict[str, StackCase], monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack renders with the project's renderer: when it changes (here one more line before the launch
    script's bundle), data rendered the new way passes and data rendered the old way does not."""
    server = stacks["lightsail-dev"].one(LIGHTSAIL_INSTANCE)
    old = server.inputs["userData"]
    original = firstboot.render_launch_script

    def wrapped(first_boot: firstboot.FirstBoot) -> str:
        return original(first_boot).replace("set -eu\n", "set -eu\numask 077\n", 1)

    monkeypatch.setattr(firstboot, "render_launch_script", wrapped)
    spec = load_stack_file(ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")
    new = firstboot.render_launch_script(describe_first_boot(spec))
    with analysing(stacks["lightsail-dev"]):
        assert check_resource(first_boot_present, server, first_boot_props(server, new)) == []
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, old))
    assert "differs from a fresh render" in message


# The red-team proof: weaken the bundle itself, then re-render it with the project's own renderer. The wrapper then
# matches the bundle perfectly; only a comparison with the render for the stack's config tells it is not ours.
SSHD_DROPIN = "/etc/ssh/sshd_config.d/10-hvps-hardening.conf"


def _edit(first_boot: firstboot.FirstBoot, path: str, edit: Any) -> firstboot.FirstBoot:
    edited = replace(first_boot, files=tuple(replace(f, content=edit(f.content)) if f.path == path else f
                                            for f in first_boot.files))
    assert edited != first_boot, f"the weakening of {path} changed nothing"
    return edited


def _early_exit(fb: firstboot.FirstBoot) -> firstboot.FirstBoot:
    return _edit(fb, PROVISION_SCRIPT, lambda c: c.replace("\n", "\nexit 0\n", 1))  # right after #!/bin/bash


def _password_root_login(fb: firstboot.FirstBoot) -> firstboot.FirstBoot:
    return _edit(fb, SSHD_DROPIN, lambda c: c.replace("PermitRootLogin no", "PermitRootLogin yes")
                 .replace("PasswordAuthentication no", "PasswordAuthentication yes"))


def _with_file(path: str, content: str, mode: str = "0600") -> Any:
    return lambda fb: replace(fb, files=(HostFile(path, content, mode), *fb.files))


def _mode(path: str, mode: str) -> Any:
    return lambda fb: replace(fb, files=tuple(replace(f, mode=mode) if f.path == path else f for f in fb.files))


WEAKENINGS = {
    "provision-exits-early": (_early_exit, PROVISION_SCRIPT),
    "sshd-password-and-root-login": (_password_root_login, SSHD_DROPIN),
    "sshd-dropin-sorting-first": (_with_file("/etc/ssh/sshd_config.d/00-x.conf", "PasswordAuthentication yes\n"),
                                  "/etc/ssh/sshd_config.d/00-x.conf"),
    "root-authorized-keys": (_with_file("/root/.ssh/authorized_keys", ED25519_KEY + "\n"),
                             "/root/.ssh/authorized_keys"),
    "sudoers-world-writable": (_mode("/etc/sudoers.d/90-hvps-admin", "0666"), "/etc/sudoers.d/90-hvps-admin"),
}


@pytest.mark.parametrize("stack", [*DEV_STACKS, PROD])
@pytest.mark.parametrize("weakening", list(WEAKENINGS))
def test_weakened_bundle_rendered_anew_is_refused(stacks: dict[str, StackCase], stack: str, weakening: str) -> None:
    """The bundle must be what the templates make for THIS stack's config, not merely match its own wrapper."""
    weaken, path = WEAKENINGS[weakening]
    case = stacks[stack]
    server = case.one(SERVER_OF[stack])
    spec = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    weakened = weaken(describe_first_boot(spec))
    assert weakened != describe_first_boot(spec)
    data = render_as_vendor(server.type, weakened)
    props = first_boot_props(server, data)
    with analysing(case):
        assert check_resource(first_boot_present, server) == []  # the data the program sends passes
        (message,) = check_resource(first_boot_present, server, props)
        assert check_resource(first_boot_secrets, server, props) == []  # nothing secret: only this policy can tell
    assert "not what components/firstboot renders for this stack's config" in message and path in message
    assert names_resource_and_fix(message, server)


def test_another_stacks_first_boot_is_refused(stacks: dict[str, StackCase]) -> None:
    """prod's first boot (its admin keys, SSH ranges, domain) on the do-dev droplet: rendered by the product,
    but not for this stack."""
    prod_data = plain(stacks[PROD].one(DROPLET).inputs["userData"])
    server = stacks["do-dev"].one(DROPLET)
    with analysing(stacks["do-dev"]):
        (message,) = check_resource(first_boot_present, server, first_boot_props(server, prod_data))
    assert "not what components/firstboot renders for this stack's config" in message
