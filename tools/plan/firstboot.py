"""First boot and the converge in the plan: what the host is sent and why, from the host-configuration data
(components/firstboot/concerns.py) and the bundle read back with the wire format's parser."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components import changes
from components.config import HostSpec
from components.firstboot import (
    CONVERGE_COMMAND,
    HOST_KEY_PATH,
    MAX_FIRST_BOOT_BYTES,
    PROVISION_SCRIPT,
    SENT_FORMS,
    FirstBoot,
    HostFile,
    RenderedFirstBoot,
    converge_bundle,
    converge_files,
    encode_sent_form,
    file_digest,
    packages_for,
    wire,
)
from components.firstboot.concerns import PHASES, concern_of, concerns_for
from components.testing import mockrun
from tools.plan.document import Block, Bullets, Para, Table


def file_concern(path: str, spec: HostSpec) -> str:
    """The concern that owns a first-boot file (components/firstboot/concerns.py), by name."""
    concern = concern_of(path, spec)
    return concern.name if concern else ""


def concern_rows(spec: HostSpec) -> list[list[str]]:
    """Each concern that applies to the stack, in the order first boot activates it: phases, purpose, packages."""
    return [[c.name, ", ".join(c.phases), c.purpose,
             " ".join((*c.packages, *(f"{p} (deferred)" for p in c.later_packages)))] for c in concerns_for(spec)]


def phase_steps(spec: HostSpec) -> list[str]:
    """Per phase, the concerns first boot activates in it, in order (a concern may come back in a later phase)."""
    return [f"{phase}: {', '.join(c.name for c in concerns_for(spec) if phase in c.phases)}" for phase in PHASES]


def first_boot_forms(rendered: RenderedFirstBoot) -> dict[str, str]:
    """Each form's exact bytes as a vendor receives them, keyed like `RenderedFirstBoot.sizes`."""
    return {name: encode_sent_form(name, rendered) for name in SENT_FORMS}


def sent_forms(resources: Iterable[mockrun.RecordedResource], forms: Mapping[str, str]) -> dict[str, str]:
    """form -> name of the resource that carries it in this run."""
    by_data = {data: form for form, data in forms.items()}
    sent: dict[str, str] = {}

    def walk(value: Any, owner: str) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v, owner)
        elif isinstance(value, list):
            for v in value:
                walk(v, owner)
        elif isinstance(value, str) and value in by_data:
            sent[by_data[value]] = owner

    for r in resources:
        walk(r.inputs, r.name)
    return sent



def bundled_files(rendered: RenderedFirstBoot) -> list[HostFile]:
    """The files as sent: read back from the cloud-config form with the wire format's own parser."""
    return [HostFile(e.path, e.content.decode(), f"{e.mode:04o}")
            for e in wire.unpack(wire.bundle_of_cloud_config(rendered.cloud_config))]


def first_boot_blocks(spec: HostSpec, first_boot: FirstBoot, rendered: RenderedFirstBoot, sent: Mapping[str, str],
                      run: mockrun.StackRun) -> list[Block]:
    applied = run.outputs.get("firstBootApplied")
    summary = (f"Digest {rendered.digest[:16]}: {len(bundled_files(rendered))} files unpacked, then {PROVISION_SCRIPT} "
               "runs once as root." + (f" Applied {applied}." if applied else ""))
    limit = MAX_FIRST_BOOT_BYTES
    sizes = Table(["Form", "Bytes", f"Of the {limit // 1024} KiB limit", "Sent by"], [
        [form, f"{n:,}", f"{n / limit:.0%}", sent.get(form, "")] for form, n in rendered.sizes.items()
    ], right=frozenset({1, 2}))
    sent_files = bundled_files(rendered)
    files = Table(["File", "Mode", "Digest", "Concern"],
                  [[f.path, f.mode, file_digest(f), file_concern(f.path, spec)] for f in sent_files],
                  code=frozenset({0}))
    return [
        Para(summary),
        sizes,
        Para("Files (digest: sha256 of mode and content, as HostConfig's triggers name them; a changed file shows "
             "as a changed digest):"),
        files,
        Para("Concerns (components/firstboot/concerns.py), in the order first boot activates them:"),
        Table(["Concern", "Phases", "Purpose", "Packages"], concern_rows(spec), code=frozenset({0})),
        Para("Phases (lockdown before any apt call; serve before the host answers; deferred right after):"),
        Bullets(phase_steps(spec)),
        Para(f"Packages: {' '.join(packages_for(spec))}."),
    ]


def host_config_blocks(spec: HostSpec, run: mockrun.StackRun) -> list[Block]:
    """What HostConfig converges on the running host, file by file (the digests its triggers hold)."""
    converge = next((r for r in run.resources if r.type == "command:remote:Command"
                     and r.inputs.get("create") == CONVERGE_COMMAND), None)
    if converge is None:
        return [Para("No HostConfig in this run: the running host is not converged.")]
    files = converge_files(spec).files
    needs = changes.keys_by_effect(spec.vendor).get(changes.FIRST_BOOT, [])
    return [
        Para(f"{converge.name} runs `{CONVERGE_COMMAND}` over SSH as {spec.admin_user} (host key pinned), after "
             f"the first-boot readiness wait and before the app release, with {len(files)} files on stdin "
             f"({len(converge_bundle(spec)):,} bytes gzip'd): the files of First boot above except "
             f"{HOST_KEY_PATH}, which a converge never rotates. Its triggers hold each file's digest (the Digest "
             "column), so a preview names the files an edit changes; a changed digest replaces this command "
             "resource, never the server. The host writes, validates and reloads only the concerns whose files "
             "differ; a failed check restores the previous files."),
        Para(f"Still need reprovision: true (values first boot's one-time steps read): {', '.join(needs)}."),
    ]
