"""What every e2e check returns, and the bounded shell call most checks make through the VM."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

from .vm import VM


@dataclasses.dataclass
class CheckResult:
    name: str
    ok: bool
    detail: Any = None                      # short human-readable evidence (str / list / dict)
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)   # numbers for the report
    accepted_warnings: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)



def _sh(vm: VM, user: str, key: Path, cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return vm.ssh(user, key, cmd, timeout=timeout)
