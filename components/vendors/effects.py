"""What changing a config key does to a running server, as a model: the effect kinds, one key's effect on one
vendor, and which inputs of a vendor's server and data volume its provider answers by replacing them. Each vendor
folder states its own facts in this model (`changes.py` there); components/changes.py assembles the table. No SDK."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# Effects, worst first. A key's effect is the worst thing one change of it does to the running server.
REPLACE = "replace"
REBOOT = "reboot"
IN_PLACE = "in-place"
CONVERGE = "converge"
FIRST_BOOT = "first-boot"
RELEASE = "release"
RUN_ONCE = "run-once"
NONE = "none"
EFFECTS: tuple[str, ...] = (REPLACE, REBOOT, IN_PLACE, CONVERGE, FIRST_BOOT, RELEASE, RUN_ONCE, NONE)

# What a change does to the data volume (a stack with dataVolumeGb), beside what it does to the server. The volume
# outlives the server: a replaced server finds it again (VOLUME_KEPT), unless the change replaces the volume too.
VOLUME_REPLACE = "volume-replace"
VOLUME_IN_PLACE = "volume-in-place"
VOLUME_KEPT = "volume-kept"
VOLUME_EFFECTS: tuple[str, ...] = (VOLUME_REPLACE, VOLUME_IN_PLACE, VOLUME_KEPT)
VOLUME_TEXT: Mapping[str, str] = MappingProxyType({
    VOLUME_REPLACE: "replaces the data volume (a new, empty one; refused while keepDataVolume protects it)",
    VOLUME_IN_PLACE: "changes the data volume in place",
    VOLUME_KEPT: "the data volume is kept",
})

#: What each effect means for the server, for people.
EFFECT_TEXT: Mapping[str, str] = MappingProxyType({
    REPLACE: "replaces the server (new disk, data lost)",
    REBOOT: "reboots the server",
    IN_PLACE: "in place, no restart",
    CONVERGE: "converged in place by HostConfig over SSH; server kept",
    FIRST_BOOT: "needs reprovision: the running server keeps the old value",
    RELEASE: "new app release over SSH; server kept",
    RUN_ONCE: "a one-time run over SSH; server kept",
    NONE: "no server change",
})


@dataclass(frozen=True)
class Effect:
    """What one change of a key does to the running server on one vendor, and where that is decided."""

    kind: str  # one of EFFECTS
    note: str
    source: str
    volume: str = VOLUME_KEPT  # one of VOLUME_EFFECTS: what it does to the data volume, when there is one

    @property
    def text(self) -> str:
        return EFFECT_TEXT[self.kind]


@dataclass(frozen=True)
class ForceNewInputs:
    """A server resource's inputs (as the engine names them) whose change the provider answers by replacing it.

    `only_when_turned_off`: booleans that force a new resource only on true -> false (an ipv6 switch).
    `reboot`: inputs updated in place but with the server powered off or migrated.
    """

    source: str
    inputs: frozenset[str]
    reboot: frozenset[str] = frozenset()
    only_when_turned_off: frozenset[str] = frozenset()


@dataclass(frozen=True)
class VolumeInputs:
    """A data volume resource's inputs (engine names) whose change replaces it, and those that attach it to the
    server (updated in place, following the server, where the volume is its own attachment)."""

    source: str
    inputs: frozenset[str]
    attaching: frozenset[str] = frozenset()
