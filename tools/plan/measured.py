"""The comparison's measured rows: benchmark results (tools.bench) of each vendor's plan at the compared tier,
beside the list prices. Runs under emulation count only when a vendor has no other run, and say so."""

from __future__ import annotations

from collections.abc import Sequence

from components import catalog
from tools.bench.report import PRICE_PERFORMANCE, Column, figure_cell, money
from tools.bench.results import Result
from tools.plan.document import Para

#: figure -> the row that shows it in the comparison.
MEASURED_FIGURES = {"cpu_all": "Measured CPU (all cores)", "disk_rand_read": "Measured disk (4k random read)",
                    "web_rps": "Measured web", "web_p99": "Measured web p99"}


def vendor_runs(results: Sequence[Result], vendor: catalog.Vendor, tier: str) -> Column | None:
    """The runs of `vendor`'s plan at `tier` (real ones; emulated ones only when there is no real one)."""
    size = vendor.size_for(tier)
    runs = [r for r in results if size and r.vendor == vendor.name and r.plan == size.slug]
    real = [r for r in runs if not r.emulated]
    chosen = real or runs
    if not size or not chosen:
        return None
    regions = "/".join(sorted({r.region for r in chosen}))
    return Column(vendor.name, size.slug, regions, not real, tuple(sorted(chosen, key=lambda r: r.date)))


def measured_cells(results: Sequence[Result], vendor: catalog.Vendor, tier: str) -> dict[str, str]:
    """Row label -> this vendor's measured cell."""
    column = vendor_runs(results, vendor, tier)
    if column is None:
        return {"Measured runs": "none of this plan"}
    runs = f"{len(column.runs)} in {column.region}" + (" (emulated: not comparable)" if column.emulated else "")
    cells = {"Measured runs": runs}
    cells |= {label: figure_cell(column, figure) for figure, label in MEASURED_FIGURES.items()}
    cells |= {label: money(column.price_per_1000(figure)) for label, figure in PRICE_PERFORMANCE.items()}
    return cells


def measured_note(results: Sequence[Result]) -> Para:
    return Para(f"Measured rows: the mean of the runs given ({len(results)} result file"
                f"{'s' if len(results) != 1 else ''}, `python -m tools.bench report` shows every figure). One run on "
                "one day is a sample, not a verdict; runs under emulation are not comparable in absolute terms (left "
                "out where the vendor has a real run). "
                "Price-performance: the list price per 1000 of the figure, lower is better.")
