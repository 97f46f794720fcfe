"""The benchmark check witnesses what it names: it passes on a complete result with nothing left behind, and fails
on a missing figure, a run whose emulation is not what the guest is (TCG VM, native container), or a package or
listener left behind; a container may lack the provisioning timeline, a VM may not."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path

import pytest

from components.config import parse_host_spec
from components.firstboot import AS_ROOT
from e2e import bench_checks
from tests.conftest import ROOT, raw_config

RESULT = json.loads((ROOT / "tests" / "data" / "bench" / "result-vm.json").read_text())
SPEC = parse_host_spec(raw_config())


class BenchGuest:
    """A guest (e2e/guest.py) whose admin login swallows the script on stdin and prints the given document, and
    whose root shell answers the leftover probe with the state before, then the state after."""

    scratch = "/home/deploy"

    def __init__(self, document: dict, states: list[str]):
        self.document = json.dumps(document).encode()
        self.states = states
        self.commands: list[tuple[str, bytes]] = []

    def as_admin(self, command: str, stdin: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
        self.commands.append((command, stdin))
        return subprocess.CompletedProcess(command, 0, self.document, b"")

    def root(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(script, 0, self.states.pop(0), "")

    def copy_in(self, local: Path, remote: str) -> None:
        raise AssertionError("the benchmark is sent on stdin, never copied")


CLEAN = "listen=0.0.0.0:22\nlisten=0.0.0.0:80\n"
#: The VM's power-on (the API create it stands for): 9 s before the fixture's kernel start.
POWER_ON = datetime.datetime.fromtimestamp(RESULT["environment"]["kernel_start"] - 9, datetime.UTC).isoformat()


def test_the_creation_figure_is_added_from_the_power_on(tmp_path: Path) -> None:
    result = bench_checks.benchmark_run(BenchGuest(RESULT, [CLEAN, CLEAN]), SPEC, tmp_path / "out.json",
                                        created_at=POWER_ON)
    saved = json.loads((tmp_path / "out.json").read_text())
    assert result.ok and saved["figures"]["kernel_after_create"] == {"value": 9.0, "unit": "s"}
    without = bench_checks.benchmark_run(BenchGuest(RESULT, [CLEAN, CLEAN]), SPEC, tmp_path / "out.json")
    assert not without.ok and "kernel_after_create: None" in without.detail["problems"], "a VM needs the figure"


def _with(**changes: object) -> dict:
    doc = json.loads(json.dumps(RESULT))
    for path, value in changes.items():
        *outer, last = path.split("__")
        node = doc
        for part in outer:
            node = node[part]
        if value is None and last in node:
            del node[last]
        else:
            node[last] = value
    return doc


@pytest.mark.parametrize(("document", "after", "ok"), [
    (RESULT, CLEAN, True),
    (_with(figures__web_rps={"value": None, "unit": "req/s"}), CLEAN, False),       # a figure not measured
    (_with(figures__cpu_single={"value": 61.3, "unit": "ops"}), CLEAN, False),      # a wrong unit
    (_with(environment__emulated=False, environment__virtualization="kvm"), CLEAN, False),  # TCG not noticed
    (RESULT, CLEAN + "installed=fio\n", False),                                    # a package left behind
    (RESULT, CLEAN + "listen=0.0.0.0:8080\n", False),                              # a listener left behind
])
def test_benchmark_check(tmp_path: Path, document: dict, after: str, ok: bool) -> None:
    guest = BenchGuest(document, [CLEAN, after])
    result = bench_checks.benchmark_run(guest, SPEC, tmp_path / "out.json", created_at=POWER_ON)
    assert result.ok is ok, result.detail
    [(command, stdin)] = guest.commands
    assert f"{AS_ROOT} timeout" in command and stdin.startswith(b"#!/bin/bash"), "the Pulumi command, script on stdin"


NO_TIMELINE = {f"figures__{name}": {"value": None, "unit": "s"} for name in bench_checks.TIMELINE}
IN_CONTAINER = {"environment__emulated": False, "environment__virtualization": "systemd-nspawn"}


@pytest.mark.parametrize(("document", "own_kernel", "ok"), [
    (_with(**IN_CONTAINER), False, True),
    (_with(**IN_CONTAINER, **NO_TIMELINE), False, True),     # a container's timeline is not its own
    (_with(**IN_CONTAINER, **NO_TIMELINE), True, False),     # a VM's must be there
    (RESULT, False, False),                                  # emulated where the run is native
    (_with(**IN_CONTAINER, figures__disk_rand_read={"value": None, "unit": "IOPS"}), False, False),
])
def test_benchmark_check_in_a_container(tmp_path: Path, document: dict, own_kernel: bool, ok: bool) -> None:
    result = bench_checks.benchmark_run(BenchGuest(document, [CLEAN, CLEAN]), SPEC, tmp_path / "out.json",
                                        emulated=False, own_kernel=own_kernel)
    assert result.ok is ok, result.detail


def test_malformed_output_fails_with_the_error(tmp_path: Path) -> None:
    result = bench_checks.benchmark_run(BenchGuest({"schema": "hvps-bench/1"}, [CLEAN, CLEAN]), SPEC,
                                        tmp_path / "out.json")
    assert not result.ok and result.detail["error"]


def test_a_failed_leftover_probe_fails_the_check(tmp_path: Path) -> None:
    """Two failed probes would agree on an empty state: an empty one (no listener at all) is an error."""
    result = bench_checks.benchmark_run(BenchGuest(RESULT, ["", ""]), SPEC, tmp_path / "out.json",
                                        created_at=POWER_ON)
    assert not result.ok and "leftover probe failed" in result.detail["error"]
