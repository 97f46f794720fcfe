"""The Lynis the audits run: one pinned release, fetched and verified on the harness side, then copied in.

The guest's own distribution may ship an older Lynis (trixie: 3.1.4) whose tests lag behind the newest
release; the audits run the newest Debian package instead, pinned here by version and sha256 (the one place
every audit takes it from). The .deb is downloaded once into the cache, refused unless its digest matches,
and checked again inside the guest before it is unpacked; nothing is installed (it runs from a temporary
directory with --usecwd). `run` is the one runner: the VM check and the container audit call it with their
guest (e2e/guest.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .guest import Guest

LYNIS_VERSION = "3.1.7-1"
LYNIS_SHA256 = "05c4390d8ff521773f6f9f4ae1813dc04f6cc2969ba35399086004062b69e6b9"
LYNIS_URL = f"http://deb.debian.org/debian/pool/main/l/lynis/lynis_{LYNIS_VERSION}_all.deb"
#: The hardening index the container audit requires (e2e/container_checks.py), without the points this machine's
#: kernel costs: 87 there (82 as measured), less a margin. The container cannot earn the points the VM does for
#: the kernel modules and the mounts.
MIN_INDEX = 86
#: The hardening index the VM audit (`python -m e2e lynis`) requires: the goal, 90, reached in the VM with the
#: noexec /dev and /tmp and the squashfs block (305 of 337 points; README, "What Lynis still suggests").
VM_MIN_INDEX = 90

LOG_MARKER = "----- lynis.log -----"


class LynisFetchError(RuntimeError):
    """The pinned package could not be fetched, or its digest is not the pinned one."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hardened-vps" / "lynis"


def verify(data: bytes) -> None:
    """Raise unless `data` has the pinned digest: a mirror serving anything else is refused."""
    got = hashlib.sha256(data).hexdigest()
    if got != LYNIS_SHA256:
        raise LynisFetchError(f"lynis {LYNIS_VERSION}: sha256 {got} is not the pinned {LYNIS_SHA256}")


def fetch(cache: Path | None = None, url: str = LYNIS_URL, timeout: float = 60) -> Path:
    """The pinned .deb in the cache (downloaded on first use), verified every time it is handed out."""
    cache = cache or cache_dir()
    path = cache / url.rsplit("/", 1)[1]
    if path.exists():
        verify(path.read_bytes())
        return path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except OSError as exc:
        raise LynisFetchError(f"lynis {LYNIS_VERSION}: cannot fetch {url}: {exc}") from exc
    verify(data)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def missed_points(log: str) -> list[tuple[str, int, int]]:
    """(test id, points given, points possible) for every test that gave less than its maximum: what to fix."""
    test, out = "", []
    for line in log.splitlines():
        if m := re.search(r"Performing test ID (\S+)", line):
            test = m.group(1)
        elif m := re.search(r"assigned partial number of hardening points \((\d+) of (\d+)\)", line):
            out.append((test, int(m.group(1)), int(m.group(2))))
    return out


def sysctl_mismatches(log: str) -> list[tuple[str, str, str]]:
    """KRNL-6000's sysctl keys whose value is not the scan profile's: (key, expected, real)."""
    return [(m[1], m[2], m[3]) for m in re.finditer(
        r"sysctl key (\S+) has a different value than expected in scan profile\. Expected=(\S+), Real=(\S+)", log)]


def sysctl_differences(log: str) -> list[str]:
    """KRNL-6000's sysctl keys whose value is not the scan profile's, as `key=real (expected)`."""
    return [f"{key}={real} (expected {expected})" for key, expected, real in sysctl_mismatches(log)]


def slowest_tests(log: str, most: int = 8) -> list[tuple[str, int]]:
    """(test id, seconds) of the `most` slowest tests, slowest first. Approximate: a test is charged from its
    `Performing test ID` line to the next one (what Lynis does between tests, e.g. a section's preamble, counts
    for the test before; the last test runs to the log's last line), with one-second timestamps. Under TCG a whole
    audit takes 13-20 minutes; this says roughly where."""
    marks = [(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"), m.group(2)) for m in re.finditer(
        r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) Performing test ID (\S+)", log, re.M)]
    ends = [t for t, _ in marks[1:]]
    if marks and (last := re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", log, re.M)):
        ends.append(datetime.strptime(last[-1], "%Y-%m-%d %H:%M:%S"))
    spans = [(test, int((end - start).total_seconds())) for (start, test), end in zip(marks, ends, strict=True)]
    return sorted(spans, key=lambda s: -s[1])[:most]


@dataclass
class Audit:
    """One Lynis run's output, parsed once for every reader (the VM check and the container's audit).

    report: the report file's plain keys (hardening_index, lynis_version, lynis_tests_done, ...); warnings and
    suggestions: their whole `TEST|message|details|` entries; points: the last running total and its maximum."""

    report: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    log: str = ""
    points: tuple[int, int] | None = None
    error: str = ""             # the run's stderr tail when it wrote no report


    @property
    def hardening_index(self) -> int | None:
        value = self.report.get("hardening_index", "")
        return int(value) if value.isdigit() else None

    def missed_points(self) -> list[tuple[str, int, int]]:
        return missed_points(self.log)

    def sysctl_differences(self) -> list[str]:
        return sysctl_differences(self.log)

    def slowest_tests(self, most: int = 8) -> list[tuple[str, int]]:
        return slowest_tests(self.log, most)


def parse(stdout: str) -> Audit:
    """audit_script's output: the report file, then (with_log) the marker and the log."""
    report_text, _, log = stdout.partition(LOG_MARKER)
    audit = Audit(log=log)
    for line in report_text.splitlines():
        k, _, v = line.partition("=")
        if k == "warning[]":
            audit.warnings.append(v)
        elif k == "suggestion[]":
            audit.suggestions.append(v)
        elif k and not k.startswith("#"):
            audit.report[k] = v
    if totals := re.findall(r"Currently having (\d+) points \(out of (\d+)\)", log):
        got, most = totals[-1]
        audit.points = (int(got), int(most))
    return audit


def audit_script(deb: str, timeout_s: int, with_log: bool) -> str:
    """Bash (as root in the guest): check the copied .deb against the pin, unpack it in a temporary directory,
    run the audit, print the report (and, with_log, a marker and the log, which names the points per test)."""
    deb = shlex.quote(deb)
    log_opt = '--logfile "$d/lynis.log"' if with_log else "--no-log"
    tail = f'echo "{LOG_MARKER}"; cat "$d/lynis.log"' if with_log else ":"
    return f"""
set -eu
d=$(mktemp -d -p /var/tmp); cd "$d"; trap 'cd /; rm -rf "$d"' EXIT  # /tmp is noexec on the host
echo "{LYNIS_SHA256}  {deb}" | sha256sum -c --quiet -
dpkg -x {deb} root
mkdir lynis && cp -a root/usr/share/lynis/. lynis/ && cp root/usr/sbin/lynis lynis/lynis
cp root/etc/lynis/default.prf lynis/default.prf
[ ! -d root/etc/lynis/plugins ] || cp -a root/etc/lynis/plugins lynis/plugins   # --usecwd wants ./plugins
cd lynis
timeout {timeout_s} ./lynis audit system --usecwd --no-colors --quick --profile ./default.prf {log_opt} \\
  --report-file "$d/report.dat" >"$d/lynis.out" 2>&1 || tail -n 20 "$d/lynis.out" >&2
cat "$d/report.dat"; {tail}
rm -f {deb}  # the trap removes "$d"
"""


def run(guest: Guest, bound_s: int) -> Audit:
    """The pinned Lynis on `guest`: the verified .deb copied in, the audit bounded by `bound_s` (plus time for
    the unpacking and the copy back), the output parsed; a run without a report keeps its stderr tail."""
    deb = fetch()
    remote = f"{guest.scratch}/{deb.name}"
    guest.copy_in(deb, remote)
    p = guest.root(audit_script(remote, bound_s, with_log=True), timeout=bound_s + 300)
    audit = parse(p.stdout)
    if audit.hardening_index is None:
        audit.error = f"exit code {p.returncode}: {p.stderr.strip()[-500:]}"
    return audit
