"""systemd sandboxing of every unit the project adds or configures, and the exposure each must stay under.

`systemd-analyze security UNIT` rates a unit's confinement from 0 (locked down) to 10 (none). Units the project
ships whole (the app, hvps-*) carry their sandbox in their templates; Debian's units that the project configures
get a drop-in `/etc/systemd/system/<unit>.d/hvps-sandbox.conf`. The e2e run and the unit tests read the bounds
from here, so the figure a check requires is the one this file promises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.config import HostSpec
from components.firstboot.concerns import SSH_SANDBOX_STAGED

#: The bound every unit the project adds or configures must meet, unless its entry says why it cannot.
DEFAULT_BOUND = 5.0
APP_BOUND = 1.5
DROPIN_NAME = "hvps-sandbox.conf"


@dataclass(frozen=True)
class SandboxedUnit:
    """One unit, the most exposure it may show, and where its sandbox comes from."""

    unit: str
    bound: float = DEFAULT_BOUND
    #: it gets our drop-in /etc/systemd/system/<unit>.d/hvps-sandbox.conf (a file of the unit's concern);
    #: False: shipped whole (its sandbox is in its unit) or Debian's sandbox meets the bound
    dropin: bool = False
    #: why it is above DEFAULT_BOUND (README, "systemd sandboxing"); empty when it meets it
    reason: str = ""
    #: only on hosts with a domain (certbot and hvps-tls)
    tls_only: bool = False
    #: only on hosts with a data volume (its mount helper, backups) / with its database
    volume_only: bool = False
    database_only: bool = False
    #: its sandbox comes with a concern only the converge delivers (HostConfig, right after first boot): a host
    #: that first boot made and no converge has reached runs Debian's unit as it is
    converge_only: bool = False
    #: where its concern keeps the drop-in until the activation installs it at dropin_path (once it is safe to:
    #: ssh-sandbox proves the admins' way to root first); empty: the drop-in is written where systemd reads it
    staged: str = ""

    @property
    def dropin_path(self) -> str:
        return f"/etc/systemd/system/{self.unit}.d/{DROPIN_NAME}"

    @property
    def dropin_source(self) -> str:
        """The host file holding its drop-in's content: dropin_path itself unless the concern stages it."""
        return self.staged or self.dropin_path


def sandboxed_units(spec: HostSpec, converged: bool = True) -> tuple[SandboxedUnit, ...]:
    """Every unit the project adds or configures on this host, with its bound (units of the spec's own); without
    `converged`, those of a host no converge has reached yet (first boot's alone)."""
    units = (
        SandboxedUnit(f"{spec.app_name}.service", APP_BOUND),
        SandboxedUnit("hvps-integrity.service"),
        SandboxedUnit("hvps-tls.service", tls_only=True),
        SandboxedUnit("nginx.service", dropin=True),
        SandboxedUnit("fail2ban.service", dropin=True),
        SandboxedUnit("nftables.service", dropin=True),
        SandboxedUnit("certbot.service", dropin=True, tls_only=True),
        SandboxedUnit("hvps-data-volume.service", volume_only=True),  # no mount namespace: its mounts are the host's
        SandboxedUnit("hvps-backup.service", volume_only=True),
        SandboxedUnit("postgresql@.service", dropin=True, database_only=True),
        SandboxedUnit("systemd-journald.service"),      # configured (journald.conf.d); Debian's sandbox meets it
        SandboxedUnit("systemd-timesyncd.service"),     # enabled; Debian's sandbox meets it
        # the install phase runs apt as root: within the bound by what it need not touch (its unit says what)
        SandboxedUnit("hvps-provision.service"),
        # sshd's sandbox confines every login session with it (no sudo there): admins reach root through PID 1
        # (hvps-root, allowed by polkit, whose Debian sandbox meets the bound)
        SandboxedUnit("ssh.service", dropin=True, converge_only=True, staged=SSH_SANDBOX_STAGED),
        SandboxedUnit("polkit.service", converge_only=True),
        # Debian's unit only waits at shutdown for an upgrade in progress: InstallOnShutdown is off, so it never
        # runs dpkg (apt-daily-upgrade.service does, unconfined: maintainer scripts write anywhere).
        SandboxedUnit("unattended-upgrades.service", dropin=True),
    )
    return tuple(u for u in units if (spec.domain or not u.tls_only) and (spec.has_data_volume or not u.volume_only)
                 and (spec.database == "postgresql" or not u.database_only) and (converged or not u.converge_only))


def exposures(text: str) -> dict[str, float]:
    """unit -> overall exposure, from `systemd-analyze security UNIT` outputs (each line names its unit)."""
    return {u: float(x) for u, x in re.findall(r"Overall exposure level for (\S+): ([0-9.]+)", text)}
