"""The VM's benchmark check witnesses what it names: it passes on a complete emulated result with nothing left
behind, and fails on a missing figure, a run not recorded as emulated, or a package or listener left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from components.config import parse_host_spec
from e2e import bench_checks
from tests.conftest import ROOT, raw_config

RESULT = json.loads((ROOT / "tests" / "data" / "bench" / "result-vm.json").read_text())
SPEC = parse_host_spec(raw_config())


class BenchVM:
    """`ssh_base` runs a local shell that prints the given document and swallows the script on stdin; `ssh`
    answers the leftover probe with the state before, then the state after."""

    def __init__(self, tmp: Path, document: dict, states: list[str]):
        self.doc = tmp / "doc.json"
        self.doc.write_text(json.dumps(document))
        self.states = states

    def ssh_base(self, *_a: object) -> list[str]:
        return ["sh", "-c", f"cat >/dev/null; cat {self.doc}", "sh"]

    def ssh(self, _user: str, _key: object, command: str, **_kw: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(command, 0, self.states.pop(0), "")


CLEAN = "listen=0.0.0.0:22\nlisten=0.0.0.0:80\n"


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
    vm = BenchVM(tmp_path, document, [CLEAN, after])
    result = bench_checks.benchmark_run(vm, "deploy", Path("k"), SPEC, tmp_path / "out.json")  # type: ignore[arg-type]
    assert result.ok is ok, result.detail


def test_malformed_output_fails_with_the_error(tmp_path: Path) -> None:
    vm = BenchVM(tmp_path, {"schema": "hvps-bench/1"}, [CLEAN, CLEAN])
    result = bench_checks.benchmark_run(vm, "deploy", Path("k"), SPEC, tmp_path / "out.json")  # type: ignore[arg-type]
    assert not result.ok and result.detail["error"]
