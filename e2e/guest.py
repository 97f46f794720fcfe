"""The guest interface: what an audit needs of a booted host, whichever way it was booted.

A qemu VM (e2e/vm.py) is reached over SSH as the admin, who runs root commands through sudo; a systemd-nspawn
container (e2e/nspawn_lynis.py) through nsenter, as root. An audit that takes a `Guest` (the Lynis runner,
e2e/lynis.py `run`) is written once for both.
"""
from __future__ import annotations

import dataclasses
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from components.firstboot import AS_ROOT

if TYPE_CHECKING:
    from .vm import VM


class Guest(Protocol):
    """A booted host: a root shell, a way to copy a file in, a directory the copy may go to, and the admin's SSH
    login (what the benchmark and the other remote commands of `pulumi up` use)."""

    @property
    def scratch(self) -> str:
        """A directory on the guest where a copied file may be left for a root command to read."""
        ...

    def root(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """`script` in bash as root; its exit code and output, never an exception for a non-zero exit."""
        ...

    def copy_in(self, local: Path, remote: str) -> None:
        """One local file onto the guest at `remote` (under `scratch`)."""
        ...

    def as_admin(self, command: str, stdin: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
        """`command` in the admin's SSH login with `stdin`: the path the Pulumi program's remote commands take."""
        ...


@dataclasses.dataclass(frozen=True)
class VMGuest:
    """The qemu VM through the admin's SSH login and sudo (what `pulumi up`'s own commands use)."""

    vm: VM
    admin: str
    key: Path

    @property
    def scratch(self) -> str:
        return f"/home/{self.admin}"

    def root(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return self.vm.ssh(self.admin, self.key, f"{AS_ROOT} bash -c " + shlex.quote(script), timeout=timeout)

    def copy_in(self, local: Path, remote: str) -> None:
        self.vm.scp_to(self.admin, self.key, local, remote)

    def as_admin(self, command: str, stdin: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*self.vm.ssh_base(self.admin, self.key), command], input=stdin,
                              capture_output=True, timeout=timeout, check=False)
