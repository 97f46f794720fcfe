"""The price-performance chart: for each measure, one horizontal bar per report column (dollars a month per 1000
of the figure; shorter is better), emulated columns in grey. A PNG drawn by tools.bench.png."""

from __future__ import annotations

from collections.abc import Sequence

from tools.bench.png import GLYPH_H, Canvas, text_width
from tools.bench.report import PRICE_PERFORMANCE, Column

WIDTH = 960
MARGIN = 24
SCALE = 2
LINE = GLYPH_H * SCALE
BAR_H = 18
ROW = LINE + 4 + BAR_H + 10  # label, bar, gap
PANEL_TITLE = LINE + 14
BAR_COLOR = (46, 110, 180)
EMULATED_COLOR = (170, 170, 170)
INK = (30, 30, 30)
NOTES = ("ONE RUN ON ONE DAY IS A SAMPLE. NO BAR: NOT MEASURED.",
         "GREY: EMULATED (NOT COMPARABLE, ITS BAR IS CUT AT THE WIDTH OF THE REST).")


def chart_height(columns: int) -> int:
    return MARGIN * 2 + PANEL_TITLE + len(PRICE_PERFORMANCE) * (PANEL_TITLE + columns * ROW) + len(NOTES) * (LINE + 8)


def draw_chart(cols: Sequence[Column]) -> bytes:
    """The chart of these columns, as PNG bytes."""
    canvas = Canvas(WIDTH, chart_height(len(cols)))
    y = MARGIN
    canvas.text(MARGIN, y, "PRICE-PERFORMANCE (LOWER IS BETTER)", INK, SCALE + 1)
    y += PANEL_TITLE + 6
    longest = max(len(f"${v:,.2f}") for v in _all_values(cols)) if _all_values(cols) else 1
    bar_room = WIDTH - 2 * MARGIN - text_width("X" * (longest + 1), SCALE)
    for label, figure in PRICE_PERFORMANCE.items():
        canvas.text(MARGIN, y, label, INK, SCALE)
        y += PANEL_TITLE
        values = [c.price_per_1000(figure) for c in cols]
        # scaled to the vendors' runs: an emulated run's figure is far off and would flatten the rest
        measured = [v for c, v in zip(cols, values, strict=True) if v is not None and not c.emulated]
        top = max(measured or [v for v in values if v is not None] or [0.0])
        for column, value in zip(cols, values, strict=True):
            canvas.text(MARGIN, y, f"{column.label} ({len(column.runs)} RUN{'S' if len(column.runs) > 1 else ''})",
                        INK, SCALE)
            bar_y = y + LINE + 4
            if value is not None and top > 0:
                length = max(2, min(bar_room, round(bar_room * value / top)))
                canvas.rect(MARGIN, bar_y, length, BAR_H, EMULATED_COLOR if column.emulated else BAR_COLOR)
                canvas.text(MARGIN + length + 8, bar_y + (BAR_H - LINE) // 2, f"${value:,.2f}", INK, SCALE)
            y += ROW
    for note in NOTES:
        canvas.text(MARGIN, y + 4, note, INK, SCALE)
        y += LINE + 8
    return canvas.png()


def _all_values(cols: Sequence[Column]) -> list[float]:
    return [v for c in cols for f in PRICE_PERFORMANCE.values() if (v := c.price_per_1000(f)) is not None]
