"""What every run of the proof starts from: the stack with the harness's keys in place of its own, the harness's
admin, day-2 and host keys (one directory the lanes share), and what the stack declares that the checks expect
(its sysctl values, its ports).
"""
from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from components.config import HostSpec, load_stack_file, parse_ssh_key
from components.firstboot.settings import SYSCTL_SETTINGS

REPO = Path(__file__).resolve().parent.parent


def test_spec(stack: str, *pubs: str) -> HostSpec:
    """The stack with the harness's admin key(s) in place of its own: the first is the harness's, a second
    one (when given) is the key the day-2 converge removes."""
    spec = load_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    return dataclasses.replace(spec, ssh_keys=tuple(parse_ssh_key(p) for p in pubs))


@dataclasses.dataclass(frozen=True)
class Day2Keys:
    """Admin keys for the converge check: first boot installs `removed`; the converged stack has `added`."""

    removed: Path
    added: Path

    @classmethod
    def generate(cls, work: Path) -> Day2Keys:
        for name in ("removed", "added"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"e2e-{name}", "-f",
                            str(work / name)], check=True)
        return cls(work / "removed", work / "added")

    def public(self, which: Path) -> str:
        return which.with_suffix(".pub").read_text().strip()


def declared_sysctl() -> dict[str, str]:
    """The sysctl values the kernel concern declares: the data its sysctl.d file is rendered from."""
    return dict(SYSCTL_SETTINGS)


def expected_ports(spec: HostSpec) -> tuple[set[int], set[int]]:
    """(ports that must answer, ports the firewall may accept with nothing listening): 443 only serves with a
    domain, but the host firewall always accepts it (the nftables template opens 80 and 443)."""
    return ({22, 80, 443}, set()) if spec.domain else ({22, 80}, {443})


@dataclasses.dataclass(frozen=True)
class HostKeys:
    """The test host key first boot carries (as the Pulumi program's would), and another one it must not match."""

    private: str
    public: str
    other_public: str

    @classmethod
    def generate(cls, work: Path) -> HostKeys:
        for name in ("host", "other"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(work / name)],
                           check=True)
        return cls((work / "host").read_text(), (work / "host.pub").read_text().strip(),
                   (work / "other.pub").read_text().strip())


def harness_keys(d: Path) -> tuple[Path, Day2Keys, HostKeys]:
    """The admin key, the day-2 keys and the host keys in `d`, made unless all are there: the lanes of `all`
    render from one directory's keys, so their hosts hold the same files where the two stacks render alike."""
    names = ("id_ed25519", "removed", "added", "host", "other")
    if not all((d / n).exists() and (d / f"{n}.pub").exists() for n in names):
        for n in names:                         # ssh-keygen asks before overwriting: start from none
            for f in (d / n, d / f"{n}.pub"):
                f.unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", str(d / "id_ed25519")],
                       check=True)
        return d / "id_ed25519", Day2Keys.generate(d), HostKeys.generate(d)
    return d / "id_ed25519", Day2Keys(d / "removed", d / "added"), HostKeys(
        (d / "host").read_text(), (d / "host.pub").read_text().strip(), (d / "other.pub").read_text().strip())
