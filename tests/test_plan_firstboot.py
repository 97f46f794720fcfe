"""First boot and the converge in the plan (tools/plan/firstboot.py): summarised, never printed; files
read back from the sent bundle, purposes and phases from the concerns."""

from __future__ import annotations

import re

from components import changes
from components.config import load_stack_file
from components.firstboot import (
    CONVERGE_COMMAND,
    HOST_KEY_PATH,
    cloud_config_gzip_base64,
    converge_files,
    describe_first_boot,
    file_digest,
    render_first_boot,
)
from components.firstboot.concerns import concern_of, concerns_for
from components.hostconfig import converge_stdin
from tests.plan_support import markdown_section
from tools import plan


def test_plan_summarises_first_boot_instead_of_printing_it(stack_file, plans):
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    rendered = render_first_boot(spec)
    text = plan.render_markdown(doc)
    for blob in (rendered.cloud_config, rendered.launch_script, cloud_config_gzip_base64(rendered.cloud_config)):
        assert blob[-200:] not in text
    assert "#cloud-config" not in text and "H4sI" not in text  # no YAML, no gzip+base64 payload
    # no line is a blob (thousands of characters); the longest is the converge command (its root prefix and lock)
    assert max(len(line) for line in markdown_section(text, "Resources").splitlines()) < 200
    assert re.search(r"userData: \[secret\] \[first boot: [a-z0-9-]+ form, \d+ bytes, digest [0-9a-f]{12}; "
                     r"see First boot\]", text)

    boot = markdown_section(text, "First boot")
    first_boot = describe_first_boot(spec)
    for f in first_boot.files:
        owner = concern_of(f.path, spec)
        assert owner, f"no concern owns {f.path}"
        assert re.search(rf"^\| `{re.escape(f.path)}` \| {f.mode} \| {file_digest(f)} \| {owner.name} \|$",
                         boot, re.MULTILINE), f.path
    for form, size in rendered.sizes.items():
        assert re.search(rf"^\| {form} \| {size:,} \| \d+% \|", boot, re.MULTILINE)
    assert "Of the 16 KiB limit" in boot
    for concern in concerns_for(spec):
        assert f"| `{concern.name}` | {', '.join(concern.phases)} | {concern.purpose} |" in boot, concern.name
    lockdown, serve, deferred = plan.phase_steps(spec)
    assert lockdown.startswith("lockdown: provisioner, admin-and-ssh") and "- " + lockdown in boot
    assert ("tls" in serve.split(": ")[1].split(", ")) == bool(spec.domain) and "- " + serve in boot
    assert deferred.startswith("deferred: ") and "- " + deferred in boot


def test_plan_shows_what_host_config_converges_file_by_file(stack_file, plans):
    """The converge's stdin is summarised (never printed), its triggers name every file it writes with the digest
    the First boot table shows, and the host key is not among them."""
    doc, _ = plans[stack_file]
    spec = load_stack_file(stack_file)
    text = plan.render_markdown(doc)
    resources = markdown_section(text, "Resources")
    assert converge_stdin(spec)[-200:] not in text
    files = converge_files(spec).files
    assert f"stdin: [converge bundle, base64: {len(files)} files, {len(converge_stdin(spec))} bytes" in resources
    for f in files:
        assert f"{f.path}: {file_digest(f)}" in resources, f.path
    assert f"{HOST_KEY_PATH}:" not in resources
    section = markdown_section(text, "Host configuration")
    assert CONVERGE_COMMAND in section and "never the server" in section
    needs = changes.keys_by_effect(spec.vendor).get(changes.FIRST_BOOT, [])
    assert needs and ", ".join(needs) in section


def test_plan_lists_the_files_read_back_from_the_sent_bundle(stack_file):
    """The plan's file table comes from the bytes sent (the wire format's parser), and they are the render's."""
    spec = load_stack_file(stack_file)
    assert plan.bundled_files(render_first_boot(spec)) == list(describe_first_boot(spec).files)
