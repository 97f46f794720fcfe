"""`pulumi up` fails unless first boot completed: the wait the first-boot-ready command runs, and its wiring.

The wait runs under bash with `sudo` and `sleep` as shell functions: `sudo -n hvps-provision --status` answers
from a list of states (the last one repeats), as provision.sh's --status does (exit 0 only for `complete`).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.readiness import READY_TIMEOUT, first_boot_wait
from components.testing.mockrun import PLACEHOLDER_PUBLIC_HOST_KEY, run_program
from tests.conftest import full_config
from tests.test_app_release import app_options, secret_value


def wait(tmp_path: Path, states: list[str], seconds: int = 5) -> subprocess.CompletedProcess[str]:
    answers = " ".join(f"'{s}'" for s in states)
    count = tmp_path / "count"  # `sudo` runs in a command substitution: it counts in a file
    prelude = (f"answers=({answers}); echo 0 >{count}\n"
               f"sudo() {{ local n; n=$(cat {count}); echo $((n + 1)) >{count}; "
               'local s=${answers[$n]:-${answers[-1]}}; echo "$s"; [ "$s" = complete ]; }\n'
               "sleep() { :; }\n")
    return subprocess.run(["bash", "-c", prelude + first_boot_wait(seconds, poll=1)], capture_output=True,
                          text=True, timeout=20)


def test_waits_through_the_install_until_complete(tmp_path: Path) -> None:
    done = wait(tmp_path, ["locked-down", "installing attempt 1", "installing attempt 1 failed: apt; next in 60s",
                 "installing attempt 2", "complete"])
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("state", ["failed: not complete after 24 h and 41 attempts: line 9: apt-get -q update",
                                   "failed: lockdown: sshd -t rejected the hardening drop-in; it was set aside"])
def test_a_failed_first_boot_fails_at_once_with_its_state(state: str, tmp_path: Path) -> None:
    done = wait(tmp_path, ["locked-down", state, "complete"])  # never reaches the third answer
    assert done.returncode == 1 and done.stderr.strip() == f"first boot did not complete: {state}"


def test_gives_up_after_its_bound_with_the_last_state(tmp_path: Path) -> None:
    done = wait(tmp_path, ["installing attempt 3 failed: line 9: apt-get -q update; next in 240s"], seconds=3)
    assert done.returncode == 1
    assert done.stderr.strip() == ("first boot did not complete: installing attempt 3 failed: line 9: "
                                   "apt-get -q update; next in 240s")


def test_every_stack_waits_for_first_boot_and_the_release_after_it() -> None:
    run = run_program(full_config(), stack="noapp")
    (ready,) = [r for r in run.of_type("remote:Command") if r.name.endswith("-first-boot-ready")]
    assert ready.name == "host-first-boot-ready" and ready.inputs["create"] == first_boot_wait()
    assert ready.inputs["triggers"] == [run.one("droplet:Droplet").id]  # a rebuilt server is waited for again
    connection = secret_value(ready.inputs["connection"])
    assert isinstance(connection, dict) and connection["hostKey"] == PLACEHOLDER_PUBLIC_HOST_KEY.strip()

    app_run, options = app_options()
    ready_name = next(r.name for r in app_run.of_type("remote:Command") if r.name.endswith("-first-boot-ready"))
    timeouts = options[ready_name].custom_timeouts
    assert timeouts is not None and timeouts.create == READY_TIMEOUT
    for child in ("app-deploy", "app-script", "app-archive"):  # the release's children (named "app-...")
        name = next(n for n in options if n == child)
        depends_on = options[name].depends_on
        assert isinstance(depends_on, list), child
        assert ready_name in [getattr(d, "_name", None) for d in depends_on], child
