"""The comparison's measured rows (tools/plan/measured.py): which runs a vendor's column rests on, its cells."""

from __future__ import annotations

import dataclasses

from components import catalog
from tools.bench import goldens
from tools.bench.results import Result
from tools.plan import measured


def _runs() -> list[Result]:
    return goldens.fixture_results()


def test_real_runs_win_over_emulated_ones_and_the_plan_must_match_the_tier() -> None:
    do = catalog.vendor("digitalocean")
    column = measured.vendor_runs(_runs(), do, "small")
    assert column is not None and not column.emulated
    assert all(not r.emulated and r.plan == do.size_for("small").slug for r in column.runs)   # type: ignore[union-attr]
    assert [r.date for r in column.runs] == sorted(r.date for r in column.runs)
    assert measured.vendor_runs(_runs(), do, "large") is None            # no run of that plan


def test_emulated_runs_count_only_alone_and_say_so() -> None:
    do = catalog.vendor("digitalocean")
    emulated = [dataclasses.replace(r, emulated=True) for r in _runs() if r.vendor == "digitalocean"]
    column = measured.vendor_runs(emulated, do, "small")
    assert column is not None and column.emulated and len(column.runs) == len(emulated)
    cells = measured.measured_cells(emulated, do, "small")
    assert cells["Measured runs"].endswith("(emulated: not comparable)")


def test_cells_name_every_figure_row_or_say_there_is_no_run() -> None:
    do = catalog.vendor("digitalocean")
    cells = measured.measured_cells(_runs(), do, "small")
    assert set(measured.MEASURED_FIGURES.values()) <= cells.keys()
    assert measured.measured_cells([], do, "small") == {"Measured runs": "none of this plan"}


def test_the_note_counts_the_result_files() -> None:
    runs = _runs()
    assert f"({len(runs)} result files," in measured.measured_note(runs).text
    assert "(1 result file," in measured.measured_note(runs[:1]).text
