"""`python -m tools.bench report`: result files checked (a bad one named with its field, exit 2), the side-by-side
report (goldens from tests/data/bench), the PNG chart, and the comparison's measured rows."""

from __future__ import annotations

import copy
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from components import catalog
from components.benchmark.parse import FIGURES
from tools import bench, plan
from tools.bench import cli, goldens
from tools.bench.chart import draw_chart
from tools.bench.report import build_report, columns
from tools.bench.results import ResultError, load_result
from tools.plan.document import render_markdown, render_text

FIXTURES = sorted(goldens.FIXTURES.glob("result-*.json"))


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((goldens.FIXTURES / f"result-{name}.json").read_text())
    return document


def test_the_goldens_are_the_report_of_the_fixtures() -> None:
    doc = build_report(goldens.fixture_results())
    assert (goldens.GOLDEN_DIR / "bench-report.txt").read_text() == render_text(doc)
    assert (goldens.GOLDEN_DIR / "bench-report.md").read_text() == render_markdown(doc)


def test_runs_of_one_plan_and_region_share_a_column_and_emulated_runs_stand_apart() -> None:
    cols = columns(goldens.fixture_results())
    labels = [c.label for c in cols]
    assert labels == ["DigitalOcean s-1vcpu-1gb fra1", "DigitalOcean s-1vcpu-1gb fra1 (emulated)",
                      "Linode (Akamai) g6-nanode-1 fr-par", "AWS Lightsail micro_3_0 eu-central-1"]
    do = cols[0]
    rps = [fixture(n)["figures"]["web_rps"]["value"] for n in ("do-1", "do-2")]
    assert len(do.runs) == 2 and do.mean("web_rps") == pytest.approx(sum(rps) / 2)
    price = catalog.vendor("digitalocean").size_by_slug("s-1vcpu-1gb").monthly_usd  # type: ignore[union-attr]
    assert do.price_per_1000("web_rps") == pytest.approx(price / (sum(rps) / 2 / 1000))
    text = render_text(build_report(goldens.fixture_results()))
    assert "One run on one day is a sample" in text and "(emulated): emulated (qemu without KVM" in text
    assert "2 (2026-12-01 to 2026-12-02)" in text


def test_a_figure_missing_in_some_runs_says_on_how_many_it_rests(tmp_path: Path) -> None:
    second = fixture("do-2")
    second["figures"]["first_boot_done"]["value"] = None  # a host benchmarked after a reboot
    (tmp_path / "b.json").write_text(json.dumps(second))
    cols = columns([load_result(goldens.FIXTURES / "result-do-1.json"), load_result(tmp_path / "b.json")])
    text = render_text(build_report([r for c in cols for r in c.runs]))
    first = fixture("do-1")["figures"]["first_boot_done"]["value"]
    assert f"{first:.0f} s (1 of 2 runs)" in text


def _broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(fixture("linode"))
    change(document)
    return document


BROKEN = {
    "figures.web_rps": (lambda d: d["figures"].pop("web_rps"), "missing field figures.web_rps"),
    "unit": (lambda d: d["figures"]["cpu_all"].update(unit="Hz"), "field figures.cpu_all.unit is 'Hz'"),
    "value": (lambda d: d["figures"]["web_p99"].update(value="fast"), "field figures.web_p99.value is 'fast'"),
    "negative": (lambda d: d["figures"]["web_p99"].update(value=-1), "field figures.web_p99.value is -1"),
    "schema": (lambda d: d.update(schema="hvps-bench/9"), "field schema is 'hvps-bench/9'"),
    "vendor": (lambda d: d["host"].update(vendor="ovhcloud"), "field host.vendor is 'ovhcloud'; allowed: "),
    "plan": (lambda d: d["host"].pop("plan"), "missing field host.plan"),
    "emulated": (lambda d: d["environment"].update(emulated="no"), "field environment.emulated is not true"),
    "host": (lambda d: d.update(host=[]), "missing field host.vendor"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_bad_file_is_refused_naming_the_file_and_field(case: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    change, message = BROKEN[case]
    bad = tmp_path / "run.json"
    bad.write_text(json.dumps(_broken(change)))
    with pytest.raises(ResultError, match="^" + re.escape(f"{bad}: {message}")):
        load_result(bad)
    assert cli.main(["report", str(FIXTURES[0]), str(bad)]) == 2
    err = capsys.readouterr()
    assert err.err.startswith(f"bench: {bad}: {message}") and err.err.count("\n") == 1 and err.out == ""


@pytest.mark.parametrize(("content", "message"), [("{not json", "not a JSON document"), (None, "cannot read it")])
def test_unreadable_or_non_json_files_are_refused(tmp_path: Path, content: str | None, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    assert cli.main(["report", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"bench: {path}: {message}")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        at += 12 + length
    return chunks


def test_the_chart_is_a_valid_png_with_a_bar_per_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chart.png"
    assert cli.main(["report", *map(str, FIXTURES), "--markdown", "--chart", str(out)]) == 0
    assert capsys.readouterr().out == (goldens.GOLDEN_DIR / "bench-report.md").read_text()
    chunks = _png_chunks(out.read_bytes())
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, color) == (8, 2) and width > 0 and height > 0
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == height * (1 + width * 3)
    rows = [raw[y * (1 + width * 3) + 1:(y + 1) * (1 + width * 3)] for y in range(height)]
    bar = bytes((46, 110, 180))
    assert sum(bar in row for row in rows) > 0 and len({bytes(r) for r in rows}) > 10
    assert draw_chart(columns(goldens.fixture_results())) == out.read_bytes()


def test_the_comparison_shows_measured_rows_beside_the_prices(capsys: pytest.CaptureFixture[str]) -> None:
    assert (plan.GOLDEN_DIR / "compare-small-measured.md").read_text() == render_markdown(
        plan.build_compare("small", results=goldens.fixture_results()))
    assert plan.main(["--compare", "--results", *map(str, FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "| Measured web" not in out and "Measured web" in out and "$/month per 1000 req/s" in out
    # the emulated run is left out where the vendor has real ones: DigitalOcean's column rests on 2 runs
    assert "2 in fra1" in out and "(emulated: not comparable)" not in out
    only_vm = plan.render_text(plan.build_compare("small", results=[load_result(goldens.FIXTURES / "result-vm.json")]))
    assert "1 in fra1 (emulated: not comparable)" in only_vm and "none of this plan" in only_vm
    assert "Measured" not in plan.render_text(plan.build_compare("small"))


def test_compare_refuses_a_bad_result_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert plan.main(["--compare", "--results", str(bad)]) == 2
    assert capsys.readouterr().err == f"compare: {bad}: missing field schema\n"


def test_every_figure_has_a_row_and_the_lead_can_get_the_host_script() -> None:
    text = render_text(build_report(goldens.fixture_results()))
    assert all(f"\n{name} " in text for name in FIGURES)
    assert bench.host_script.__module__ == "components.benchmark.script"
