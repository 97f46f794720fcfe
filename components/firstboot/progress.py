"""What the provisioner reports, as data: first boot's progress record and the converge report.

The provisioner (`templates/usr/local/sbin/hvps-provision`) writes both and this module is their one reader; its
journal lines are for people. The progress record is a file on the host, one event per line:
`<seconds since the kernel started> TAB step|state TAB <text>`, where a step is `<phase>: <concern>` (or
`health check`) and a state is what `hvps-provision --status` prints at that moment. The converge report is the
converge's standard output, one line per concern: `hvps-converge: <concern>: unchanged|changed|refused[: why]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The progress record on the host (the provisioner appends to it; HVPS_ROOT prefixes it under test).
PROGRESS_FILE = "/var/lib/hvps/first-boot.progress"
CONVERGE_PREFIX = "hvps-converge: "
OUTCOMES = ("unchanged", "changed", "refused")


@dataclass(frozen=True)
class Event:
    """One line of the progress record."""

    at_s: float
    """Seconds since the host's kernel started (its /proc/uptime when the event was written)."""
    kind: Literal["step", "state"]
    text: str


def parse_progress(text: str) -> list[Event]:
    """The record's events in order; a line that is not an event (a partial last write) is left out."""
    events = []
    for line in text.splitlines():
        fields = line.split("\t", 2)
        if len(fields) != 3 or fields[1] not in ("step", "state"):
            continue
        try:
            at = float(fields[0])
        except ValueError:
            continue
        events.append(Event(at, "step" if fields[1] == "step" else "state", fields[2]))
    return events


def states(events: list[Event]) -> list[str]:
    """The states first boot went through, in order."""
    return [e.text for e in events if e.kind == "state"]


@dataclass(frozen=True)
class ConcernOutcome:
    """What one converge did to one concern."""

    concern: str
    outcome: str
    """`unchanged`, `changed` or `refused`."""
    detail: str
    """The changed files, or why it was refused (previous files kept); empty when unchanged."""


def parse_converge_report(stdout: str) -> list[ConcernOutcome]:
    """The converge's report lines, one per concern it read; other output (the provisioner's log) is skipped."""
    out = []
    for line in stdout.splitlines():
        if not line.startswith(CONVERGE_PREFIX):
            continue
        concern, _, rest = line[len(CONVERGE_PREFIX):].partition(": ")
        outcome, _, detail = rest.rstrip().partition(": ")
        if concern and outcome in OUTCOMES:
            out.append(ConcernOutcome(concern, outcome, detail))
    return out
