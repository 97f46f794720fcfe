"""Helpers for the tests of hvps-release (tests/test_release_script*.py): a temporary root with systemctl, curl,
python3, setpriv, aide and the rest stubbed, the example app as a release archive, and a release run through the real
script under bash."""

from __future__ import annotations

import os
import subprocess
import tarfile
import time
from pathlib import Path

from components.app import RELEASE_SCRIPT
from tests.conftest import ROOT

#: What the pip stub records for a build run through setpriv as the unprivileged build user.
BUILDER = "pip[--reuid=hvps-build --regid=999 --clear-groups --no-new-privs"

STUBS = {
    "systemctl": '#!/bin/bash\necho "systemctl $*" >>"$HVPS_ROOT/calls.log"\n',
    # Healthy unless the active release carries a BROKEN marker file.
    "curl": '#!/bin/bash\necho "curl $*" >>"$HVPS_ROOT/calls.log"\n[ ! -e "$HVPS_ROOT/srv/app/current/BROKEN" ]\n',
    "python3": ('#!/bin/bash\n[ "$1 $2" = "-m venv" ] || exit 64\nmkdir -p "$3/bin"\n'
                'printf \'#!/bin/bash\\necho "pip[$HVPS_AS] $*" >>"$HVPS_ROOT/calls.log"\\n\' >"$3/bin/pip"\n'
                'chmod +x "$3/bin/pip"\n'),
    "chown": "#!/bin/bash\nexit 0\n",
    # Records the identity the command would run as, then runs it (as the test's own user).
    "setpriv": ('#!/bin/bash\necho "setpriv $*" >>"$HVPS_ROOT/calls.log"\nas=""\n'
                'while [[ $1 == --* ]]; do as="$as $1"; shift; done\n'
                '[ "$1 $2" = "env -i" ] && shift 2\nexec env -i HVPS_ROOT="$HVPS_ROOT" HVPS_AS="${as# }" "$@"\n'),
    "useradd": '#!/bin/bash\necho "useradd $*" >>"$HVPS_ROOT/calls.log"\necho "${!#}" >>"$HVPS_ROOT/users"\n',
    # Users the useradd stub made exist (uid and gid 999), the rest are looked up for real.
    "id": ('#!/bin/bash\nif grep -qx -- "${!#}" "$HVPS_ROOT/users" 2>/dev/null; then echo 999; exit 0; fi\n'
           'exec /usr/bin/id "$@"\n'),
    "pkill": '#!/bin/bash\necho "pkill $*" >>"$HVPS_ROOT/calls.log"\nexit 1\n',
    # AIDE's update: records its arguments, writes the new database, and exits as told (5: added + changed
    # entries, what a deploy's own files give).
    "aide": ('#!/bin/bash\nprintf \'%s\\n\' "$*" >>"$HVPS_ROOT/aide.log"\n'
             'echo "after $(wc -l <"$HVPS_ROOT/aide.log")" >"$HVPS_ROOT/var/lib/aide/aide.db.new"\n'
             'exit "$(cat "$HVPS_ROOT/aide.rc" 2>/dev/null || echo 5)"\n'),
}


def make_host(tmp_path: Path) -> Path:
    """The host's root under tmp_path, with the stubs beside it (tmp_path/stubs, first on the script's PATH)."""
    root = tmp_path / "root"
    for d in ("run/lock", "srv/app/releases", "etc", "var/tmp"):
        (root / d).mkdir(parents=True)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    return root


def archive(tmp_path: Path, name: str, broken: bool = False) -> Path:
    path = tmp_path / f"{name}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for f in ("app.py", "requirements.txt", "static/style.css"):
            tar.add(ROOT / "examples" / "flask-app" / f, arcname=f)
        if broken:
            marker = tmp_path / "BROKEN"
            marker.write_text("x")
            tar.add(marker, arcname="BROKEN")
    return path


#: What the program passes from the stack's values (components/app/deploy.py); the script has no defaults.
STACK_ARGS = ("--server", "wsgi", "--workers", "2", "--health", "/healthz", "--keep", "5")


def release(host: Path, rid: str, *extra: str, broken: bool = False, stdin: str | None = None,
            keep: int = 5) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"HVPS_ROOT": str(host), "PATH": f"{host.parent / 'stubs'}:{os.environ['PATH']}",
                        "HVPS_HEALTH_TRIES": "2", "HVPS_HEALTH_DELAY": "0"}
    args = ["bash", str(RELEASE_SCRIPT), "--app", "app", "--id", rid, "--module", "app:app", *STACK_ARGS,
            "--archive", str(archive(host.parent, rid, broken)), "--keep", str(keep), *extra]
    result = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    time.sleep(0.01)  # distinct build times for the keep-N ordering
    return result


def current(host: Path) -> str:
    return os.readlink(host / "srv/app/current").rsplit("/", 1)[-1]
