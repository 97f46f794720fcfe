"""The side-by-side report: one column per vendor, plan and region (emulated runs apart), each figure's mean over
its runs, the list price, and price-performance (dollars a month per 1000 of a figure: lower is better)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean

from components import catalog
from components.benchmark.parse import FIGURES
from tools.bench.results import Result
from tools.plan.cost import usd
from tools.plan.document import Bullets, Document, Para, Section, Table

#: Price-performance: label -> the figure it divides the monthly price by (per 1000 of it).
PRICE_PERFORMANCE: dict[str, str] = {
    "$/month per 1000 req/s": "web_rps",
    "$/month per 1000 IOPS (4k random read)": "disk_rand_read",
    "$/month per 1000 CPU events/s (all cores)": "cpu_all",
}
SAMPLE_NOTE = ("Each column is the mean of its runs (the Runs row; a figure measured in fewer runs says so). One "
               "run on one day is a sample, not a verdict: neighbours on a shared host, the time of day and the "
               "region's load all move these figures. Prices are list prices per month from components/catalog.py; "
               "price-performance divides them by the measured figure (lower is better).")
EMULATED_NOTE = ("emulated (qemu without KVM, as in the local VM proof): its figures show that the benchmark runs, "
                 "they are not meaningful in absolute terms and not comparable with a vendor's.")


@dataclass(frozen=True)
class Column:
    """The runs of one vendor, plan and region (emulated runs in a column of their own)."""

    vendor: str
    plan: str
    region: str
    emulated: bool
    runs: tuple[Result, ...]

    @property
    def label(self) -> str:
        title = catalog.vendor(self.vendor).title
        return f"{title} {self.plan} {self.region}" + (" (emulated)" if self.emulated else "")

    @property
    def monthly_usd(self) -> float | None:
        return self.runs[0].monthly_usd

    def values(self, figure: str) -> list[float]:
        return [v for r in self.runs if (v := r.figures[figure]) is not None]

    def mean(self, figure: str) -> float | None:
        found = self.values(figure)
        return mean(found) if found else None

    def price_per_1000(self, figure: str) -> float | None:
        """Dollars a month per 1000 of the figure's mean (None without a price or a positive figure)."""
        value, price = self.mean(figure), self.monthly_usd
        return price / (value / 1000) if value and price is not None else None


def columns(results: Sequence[Result]) -> list[Column]:
    """Results grouped by vendor, plan, region and emulation, in vendor order, then plan and region."""
    groups: dict[tuple[str, str, str, bool], list[Result]] = {}
    for r in results:
        groups.setdefault((r.vendor, r.plan, r.region, r.emulated), []).append(r)
    order = {name: i for i, name in enumerate(catalog.VENDORS)}
    keys = sorted(groups, key=lambda k: (order[k[0]], k[1], k[2], k[3]))
    return [Column(*key, runs=tuple(sorted(groups[key], key=lambda r: r.date))) for key in keys]


def number(value: float) -> str:
    """A figure as people read it: thousands separated, fewer decimals as it grows."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def figure_cell(column: Column, figure: str) -> str:
    """A figure's mean over the column's runs, with its unit (and how many runs measured it, when not all)."""
    found = column.values(figure)
    if not found:
        return "-"
    average = mean(found)
    shown = f"{average:,.0f}" if FIGURES[figure][0] == "requests" else number(average)
    text = f"{shown} {FIGURES[figure][0]}"
    return text if len(found) == len(column.runs) else f"{text} ({len(found)} of {len(column.runs)} runs)"


def money(value: float | None) -> str:
    return "-" if value is None else usd(value)


def report_table(cols: Sequence[Column]) -> Table:
    rows = [["Runs", *(f"{len(c.runs)} ({c.runs[0].date[:10]}" + (f" to {c.runs[-1].date[:10]})" if len(c.runs) > 1
                                                                   else ")") for c in cols)],
            ["Virtualization", *(", ".join(sorted({r.virtualization for r in c.runs})) for c in cols)],
            ["Web load", *(", ".join(sorted({r.web_load for r in c.runs})) for c in cols)],
            ["List price / month", *(money(c.monthly_usd) if c.monthly_usd is not None else "not in the catalog"
                                     for c in cols)]]
    rows += [[label, *(money(c.price_per_1000(figure)) for c in cols)] for label, figure in PRICE_PERFORMANCE.items()]
    rows += [[name, *(figure_cell(c, name) for c in cols)] for name in FIGURES]
    return Table(["", *(c.label for c in cols)], rows, right=frozenset(range(1, len(cols) + 1)))


def build_report(results: Sequence[Result]) -> Document:
    """The report document (text or Markdown through tools.plan.document)."""
    cols = columns(results)
    legend = Bullets([f"{name}: {what} ({unit})" for name, (unit, what) in FIGURES.items()])
    blocks: list[Table | Para | Bullets] = [report_table(cols), Para(SAMPLE_NOTE), Para("The figures:"), legend]
    emulated = [c.label for c in cols if c.emulated]
    if emulated:
        blocks.append(Para(f"{', '.join(emulated)}: {EMULATED_NOTE}"))
    return Document(f"Benchmark: {len(results)} run{'s' if len(results) != 1 else ''}, {len(cols)} "
                    f"column{'s' if len(cols) != 1 else ''}", [Section("Measured", list(blocks))])
