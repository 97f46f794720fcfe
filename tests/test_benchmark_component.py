"""The benchmark under mocks: present only with `benchmark: true`, once per server, after the finished host, its
JSON document exported as the `benchmark` output."""

from __future__ import annotations

import datetime
import json

import pytest

from components.benchmark import RUN_TIMEOUT, host_script
from components.benchmark.parse import with_creation
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


#: The mocks' creation time of the server (components/vendors/*: mock_outputs), as epoch seconds.
CREATED = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC).timestamp()


@pytest.mark.parametrize(("vendor", "after_create"), [("digitalocean", 47.0), ("lightsail", 47.0), ("linode", None)])
def test_its_json_document_is_the_benchmark_output(monkeypatch: pytest.MonkeyPatch, vendor: str,
                                                   after_create: float | None) -> None:
    """The host's document as it came, plus the one figure only the program knows: the vendor's creation time of
    the server to its kernel start (Linode's SDK has no creation time)."""
    document = {"schema": "hvps-bench/1", "environment": {"kernel_start": CREATED + 47},
                "figures": {"web_rps": {"value": 812.5, "unit": "req/s"}}}
    monkeypatch.setattr(mockrun, "COMPUTED", {**mockrun.COMPUTED,
                                              "command:remote:Command": {"stdout": json.dumps(document)}})
    run = run_program(full_config(benchmark=True, vendor=vendor, region=REGIONS[vendor]), stack="bench")
    exported = run.outputs["benchmark"]
    assert exported["figures"].pop("kernel_after_create") == {"value": after_create, "unit": "s"}
    assert exported == document and "benchmark" not in run.secret_outputs


def test_the_creation_figure_is_null_unless_both_times_are_known_and_in_order() -> None:
    document = {"environment": {"kernel_start": CREATED + 12.5}, "figures": {}}
    assert with_creation(document, "2026-12-01T09:00:00Z")["figures"]["kernel_after_create"]["value"] == 12.5
    assert with_creation(document, "2026-12-01T10:00:00+01:00")["figures"]["kernel_after_create"]["value"] == 12.5
    for created in (None, "", "yesterday", "2026-12-01T09:00:00", "2026-12-01T09:00:13Z"):  # no zone; kernel first
        assert with_creation(document, created)["figures"]["kernel_after_create"]["value"] is None, created
    assert with_creation({"figures": {}}, "2026-12-01T09:00:00Z")["figures"]["kernel_after_create"]["value"] is None
    assert with_creation(None, "2026-12-01T09:00:00Z") is None   # a preview: nothing ran
