"""The benchmark under mocks: present only with `benchmark: true`, once per server, after the finished host, its
JSON document exported as the `benchmark` output."""

from __future__ import annotations

import json

import pytest

from components.benchmark import RUN_TIMEOUT, host_script
from components.config import parse_host_spec
from components.testing import mockrun
from components.testing.mockrun import run_program
from tests.conftest import full_config, raw_config
from tests.test_app_release import run_recording_options
from tests.test_hostconfig import EXAMPLE, REGIONS, names

RUN = "host-benchmark-run"


def test_off_by_default_nothing_runs_and_nothing_is_exported() -> None:
    run = run_program(full_config(), stack="bench")
    assert not [r for r in run.resources if "benchmark" in r.name]
    assert "benchmark" not in run.outputs


@pytest.mark.parametrize("vendor", list(REGIONS))
def test_on_it_runs_the_script_once_per_server_after_the_finished_host(vendor: str) -> None:
    values = {"vendor": vendor, "region": REGIONS[vendor], "appSource": str(EXAMPLE), "benchmark": True}
    run, options = run_recording_options(full_config(**values), "bench")
    spec = parse_host_spec(raw_config(**values), stack="bench")
    (command,) = [r for r in run.of_type("remote:Command") if r.name == RUN]
    assert getattr(options[RUN].parent, "_name", None) == "host-benchmark"
    assert getattr(options["host-benchmark"].parent, "_name", None) == "host"
    assert set(names(options[RUN].depends_on)) == {"host-first-boot-ready", "host-config-converge", "app"}
    script = host_script(spec)
    assert command.inputs["create"] == script.command and command.inputs["stdin"] == script.text
    assert "update" not in command.inputs and "delete" not in command.inputs  # never again, nothing on removal
    ready = next(r for r in run.resources if r.name == "host-first-boot-ready")
    assert command.inputs["triggers"] == [ready.inputs["triggers"][0]]  # the server's identity, nothing else
    assert command.inputs["connection"]["value"]["user"] == spec.admin_user
    timeouts = options[RUN].custom_timeouts
    assert timeouts is not None and timeouts.create == timeouts.update == RUN_TIMEOUT  # an input change re-runs create


def test_its_json_document_is_the_benchmark_output(monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"schema": "hvps-bench/1", "figures": {"web_rps": {"value": 812.5, "unit": "req/s"}}}
    monkeypatch.setattr(mockrun, "COMPUTED", {**mockrun.COMPUTED,
                                              "command:remote:Command": {"stdout": json.dumps(document)}})
    run = run_program(full_config(benchmark=True), stack="bench")
    assert run.outputs["benchmark"] == document and "benchmark" not in run.secret_outputs
