"""hvps-root (the admins' way to root once sshd is sandboxed) run for real by dash and bash, systemd-run stubbed:
what it asks PID 1 to run is the command as given, once systemd has expanded the command line as it does."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from components.config import parse_host_spec
from components.firstboot import describe_first_boot
from components.firstboot.concerns import ROOT_COMMAND
from tests.conftest import raw_config

HOSTILE = ("$HOME ${IFS}`id`", "a$$b", "100%n %% done", "ends in \\", "two\nlines\n", "", "-p", "--uid=nobody")


def systemd_expands(word: str) -> str:
    """What systemd does to one ExecStart= word (systemd.service(5), "Command lines"): $$ is a $, $NAME and
    ${NAME} are variables (none is set here, so they vanish)."""
    return re.sub(r"\$(\$|\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: "$" if m.group(1) == "$" else "", word)


@pytest.fixture
def hvps_root(tmp_path: Path) -> Path:
    content = next(f.content for f in describe_first_boot(parse_host_spec(raw_config()), converge=True).files
                   if f.path == ROOT_COMMAND)
    script = tmp_path / "hvps-root"
    script.write_text(content)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    # the stub prints each argument it got, NUL-terminated
    (stubs / "systemd-run").write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
    (stubs / "systemd-run").chmod(0o755)
    return script


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_the_command_reaches_pid_1_as_given(hvps_root: Path, shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")
    env = {"PATH": f"{hvps_root.parent / 'bin'}:/usr/bin:/bin"}
    p = subprocess.run([shell, str(hvps_root), "printf", *HOSTILE], capture_output=True, env=env, check=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    args = p.stdout.decode().split("\0")[:-1]
    options, command = args[:args.index("--")], args[args.index("--") + 1:]
    assert "--pipe" in options and "--wait" in options and "--uid=root" in options  # no terminal here
    assert [systemd_expands(w) for w in command] == ["printf", *HOSTILE]
    assert any(o.startswith("--description=hvps-root (") and o.endswith("): printf " + " ".join(HOSTILE))
               for o in options)


def test_without_the_doubling_systemd_would_expand_the_values() -> None:
    """The witness of the model above: a $ left alone is lost."""
    assert systemd_expands("$HOME ${IFS}x") == " x"
