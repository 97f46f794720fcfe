"""The Lynis the audits run: one pinned release, fetched and verified on the harness side, then copied in.

The guest's own distribution may ship an older Lynis (trixie: 3.1.4) whose tests lag behind the newest
release; the audits run the newest Debian package instead, pinned here by version and sha256 (the one place
both `e2e/checks.py` and `e2e/nspawn_lynis.py` take it from). The .deb is downloaded once into the cache,
refused unless its digest matches, and checked again inside the guest before it is unpacked; nothing is
installed (it runs from a temporary directory with --usecwd).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import urllib.request
from pathlib import Path

LYNIS_VERSION = "3.1.7-1"
LYNIS_SHA256 = "05c4390d8ff521773f6f9f4ae1813dc04f6cc2969ba35399086004062b69e6b9"
LYNIS_URL = f"http://deb.debian.org/debian/pool/main/l/lynis/lynis_{LYNIS_VERSION}_all.deb"
#: The hardening index the VM proof requires: the last index seen in the VM (88, Lynis 3.1.4) less a margin for
#: the run-to-run spread. The goal is 90; it is not reached yet (README, "What Lynis still suggests").
MIN_INDEX = 86

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


def sysctl_differences(log: str) -> list[str]:
    """KRNL-6000's sysctl keys whose value is not the scan profile's, as `key=real (expected)`."""
    return [f"{m[1]}={m[3]} (expected {m[2]})" for m in re.finditer(
        r"sysctl key (\S+) has a different value than expected in scan profile\. Expected=(\S+), Real=(\S+)", log)]


def audit_script(deb: str, timeout_s: int, with_log: bool) -> str:
    """Bash (as root in the guest): check the copied .deb against the pin, unpack it in a temporary directory,
    run the audit, print the report (and, with_log, a marker and the log, which names the points per test)."""
    deb = shlex.quote(deb)
    log_opt = '--logfile "$d/lynis.log"' if with_log else "--no-log"
    tail = f'echo "{LOG_MARKER}"; cat "$d/lynis.log"' if with_log else ":"
    return f"""
set -eu
d=$(mktemp -d); cd "$d"
echo "{LYNIS_SHA256}  {deb}" | sha256sum -c --quiet -
dpkg -x {deb} root
mkdir lynis && cp -a root/usr/share/lynis/. lynis/ && cp root/usr/sbin/lynis lynis/lynis
cp root/etc/lynis/default.prf lynis/default.prf
[ ! -d root/etc/lynis/plugins ] || cp -a root/etc/lynis/plugins lynis/plugins   # --usecwd wants ./plugins
cd lynis
timeout {timeout_s} ./lynis audit system --usecwd --no-colors --quick --profile ./default.prf {log_opt} \\
  --report-file "$d/report.dat" >"$d/lynis.out" 2>&1 || tail -n 20 "$d/lynis.out" >&2
cat "$d/report.dat"; {tail}
cd /; rm -rf "$d" {deb}
"""
