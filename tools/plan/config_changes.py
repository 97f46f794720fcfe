"""Which config keys replace, reboot or leave this stack's server alone when changed (components.changes)."""

from __future__ import annotations

from components import changes
from components.config import HostSpec
from tools.plan.document import Block, Bullets, Para


def change_blocks(spec: HostSpec) -> list[Block]:
    """Which keys replace, reboot or leave this stack's server alone when changed (components.changes)."""
    lead = {
        changes.REPLACE: "Changing these keys replaces the server (new disk, data lost)",
        changes.REBOOT: "Changing these keys reboots the server",
        changes.IN_PLACE: "Changed in place, no restart",
        changes.CONVERGE: "Converged in place by HostConfig over SSH (only the changed files), server kept",
        changes.FIRST_BOOT: "Needs reprovision: the running server keeps the old value",
        changes.RELEASE: "A new app release over SSH; the server is kept",
        changes.RUN_ONCE: "A one-time run over SSH (the benchmark); the server is kept",
        changes.NONE: "No server change",
    }
    grouped = changes.keys_by_effect(spec.vendor, spec.reprovision)
    items = [f"{lead[kind]}: {', '.join(keys)}." for kind, keys in grouped.items()]
    notes = [f"{key}: {changes.effect(key, spec.vendor, spec.reprovision).note}."
             for key in grouped.get(changes.REPLACE, []) + grouped.get(changes.REBOOT, [])]
    if spec.has_data_volume:
        items.append(f"Replace the data volume (a new, empty one; refused while keepDataVolume protects it): "
                     f"{', '.join(changes.keys_replacing_the_volume(spec.vendor))}.")
    guard = ("protect is on: Pulumi refuses any replacement until you unprotect the server."
             if spec.protect else "protect is off: a replacement goes ahead after the preview's confirmation.")
    return [Bullets(items), Para("Why:"), Bullets(notes), Para(guard + " Facts per key and vendor, with their "
                                                                "sources: components/changes.py.")]
