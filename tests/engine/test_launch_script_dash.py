"""The Lightsail launch script as Lightsail runs it: after Lightsail's own lines, by /bin/sh (dash).

Models what AWS Lightsail and cloud-init do with an instance's user data (the vendor behaviour this module pins):
Lightsail puts lines of its own in front of the launch script (the browser-SSH setup that writes
/etc/ssh/lightsail_instance_ca.pub and adds `TrustedUserCAKeys` to sshd_config, seen on Lightsail hosts), so the
data cloud-init receives starts with Lightsail's `#!/bin/sh` and ours is a comment in the middle. cloud-init
(`cloudinit/handlers/shell_script.py` writes the part out; `cloudinit/config/cc_scripts_user.py` executes it, so
the kernel reads its first line) then executes the whole with /bin/sh, which is dash on Debian and Ubuntu images.

The test runs the rendered script under the real dash with such a prefix. Only what would touch this machine is
adapted: the absolute paths of the bundle, the unpack root and the provisioning script point into a temporary
directory, and `install`, `base64` and `python3` (the unpack step) are logging wrappers around the real tools.
The provisioning script keeps its real first line (`#!/bin/bash`) but its body is swapped for one that records
which shell runs it, so the test proves the hand-over to bash without provisioning anything; every other file
must be on disk as rendered, with its mode.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from components.config import HostSpec, load_stack_file
from components.firstboot import BUNDLE_PATH, PROVISION_SCRIPT, describe_first_boot, render_first_boot
from components.testing.mockrun import ROOT

DASH = shutil.which("dash")
pytestmark = pytest.mark.skipif(DASH is None, reason="dash not installed (Debian package dash)")

#: Shaped like what Lightsail prepends: its own shebang, a heredoc and sshd edits (here into the sandbox).
LIGHTSAIL_PREFIX = """#!/bin/sh
cat > "$HVPS_ROOT/root/etc/ssh/lightsail_instance_ca.pub" << EOF
ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 lightsail-ca
EOF
chmod 644 "$HVPS_ROOT/root/etc/ssh/lightsail_instance_ca.pub"
echo "TrustedUserCAKeys /etc/ssh/lightsail_instance_ca.pub" >> "$HVPS_ROOT/root/etc/ssh/sshd_config"
"""

#: The provisioning script's stand-in body: which shell runs it, with what arguments.
PROBE_BODY = 'printf "bash=%s args=%s\\n" "${BASH_VERSION:-none}" "$*" >"$HVPS_ROOT/handed-over"\n'


def _wrapper(tool: str, real: str, after: str = "") -> str:
    return (f'#!/bin/sh\necho "{tool} $#" >>"$HVPS_ROOT/calls.log"\n"{real}" "$@" || exit $?\n{after}')


def _sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    provision = f'"$HVPS_ROOT/root{PROVISION_SCRIPT}"'
    swap_body = (f'head -n 1 {provision} >"$HVPS_ROOT/first-line"\n'
                 f'cat "$HVPS_ROOT/first-line" "$HVPS_ROOT/probe" >{provision}\n')
    for tool, after in (("install", ""), ("base64", ""), ("python3", swap_body)):
        real = shutil.which(tool)
        assert real is not None, tool
        path = stubs / tool
        path.write_text(_wrapper(tool, real, after))
        path.chmod(0o755)
    (tmp_path / "probe").write_text(PROBE_BODY)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HVPS_ROOT": str(tmp_path), "LC_ALL": "C"}
    return root, env


def _relocated(script: str, root: Path) -> str:
    """The script with its absolute host paths pointing into the sandbox; every one must be found."""
    swaps = {f" {Path(BUNDLE_PATH).parent}\n": f" {root}{Path(BUNDLE_PATH).parent}\n",
             f">{BUNDLE_PATH} <<": f">{root}{BUNDLE_PATH} <<",
             f"' {BUNDLE_PATH} /\n": f"' {root}{BUNDLE_PATH} {root}/\n",
             f"exec {PROVISION_SCRIPT}\n": f"exec {root}{PROVISION_SCRIPT}\n"}
    for old, new in swaps.items():
        assert script.count(old) == 1, f"launch script no longer has {old!r}"
        script = script.replace(old, new)
    return script


def _spec() -> HostSpec:
    return load_stack_file(ROOT / "stacks" / "Pulumi.lightsail-dev.yaml")


def test_dash_runs_lightsail_prefix_plus_launch_script_and_hands_over_to_bash(tmp_path: Path) -> None:
    root, env = _sandbox(tmp_path)
    user_data = tmp_path / "user-data"
    user_data.write_text(LIGHTSAIL_PREFIX + _relocated(render_first_boot(_spec()).launch_script, root))

    done = subprocess.run([str(DASH), str(user_data)], env=env, capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done.stderr
    assert "Illegal option" not in done.stderr
    assert (root / "etc/ssh/sshd_config").read_text().startswith("TrustedUserCAKeys")  # the prefix ran too
    calls = [line.split()[0] for line in (tmp_path / "calls.log").read_text().splitlines()]
    assert calls == ["install", "base64", "python3"]
    assert (tmp_path / "first-line").read_text() == "#!/bin/bash\n"
    for f in describe_first_boot(_spec()).files:  # the real unpack step wrote every other file as rendered
        if f.path != PROVISION_SCRIPT:
            written = root / f.path.lstrip("/")
            assert (written.read_text(), oct(written.stat().st_mode & 0o7777)) == (f.content, oct(int(f.mode, 8)))
    handed = (tmp_path / "handed-over").read_text()
    assert handed.startswith("bash=") and not handed.startswith("bash=none"), handed


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_launch_script_is_posix_sh(tmp_path: Path) -> None:
    path = tmp_path / "launch-script"
    path.write_text(render_first_boot(_spec()).launch_script)
    lint = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
