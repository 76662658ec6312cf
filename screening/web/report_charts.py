"""Report charts drawn on the server as SVG: presentation attributes only (no scripts, no
inline styles), so the strict Content-Security-Policy holds. Charts show only what the
tables publish; a hidden figure is drawn as an empty, dashed bar with its own mark, as in
the table ("<5", "x" or ":")."""

from __future__ import annotations

import math
from collections.abc import Sequence

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..core.aggregation import (
    LARGE,
    MARK_TEXT,
    TOTAL,
    Position,
    ReleasedTable,
    mark_text,
    row_total,
)
from ..core.report_tables import LEVELS, Report
from .period_names import quarter_text
from .report_view import NO_DATA, level_name, result_name

BAR = "#0b5cad"
HIDDEN_STROKE = "#7a8794"
INK = "#1b1f24"
MUTED = "#5a6470"


def _number(value: float, percent: bool) -> str:
    if percent:
        return format_decimal(value, format="0.0") + " %"
    return format_decimal(int(value), format="#,##0")


def _value(table: ReleasedTable, position: Position) -> float | str:
    mark = table.mark(position)
    if mark is not None:
        return mark_text(mark, table.k)
    return float(table[position].value or 0)


def _peak(items: Sequence[Item], percent: bool) -> float:
    shown = [v for _l, v in items if isinstance(v, float) and not math.isnan(v)]
    return max(max(shown or [0.0]), 1.0 if percent else 0.0) or 1.0


Item = tuple[str, float | str]  # (label, value); a text: a hidden figure's mark; NaN: none


def bars_svg(items: Sequence[Item], title: str, chart_id: str,
             percent: bool = False, colours: Sequence[str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value)."""
    label_w, bar_w, row_h, top = 230, 330, 30, 8
    width, height = label_w + bar_w + 90, top + row_h * len(items) + 8
    peak = _peak(items, percent)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="{chart_id}-title" class="chart report-bars">',
             f'<title id="{chart_id}-title">{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" font-size="13" '
                     f'fill="{INK}">{escape(label)}</text>')
        if isinstance(value, str):
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{bar_w}" height="{row_h - 10}" '
                         f'fill="none" stroke="{HIDDEN_STROKE}" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{label_w + 8}" y="{y + 19}" font-size="13" '
                         f'fill="{MUTED}">{escape(value)}</text>')
            continue
        if math.isnan(value):
            parts.append(f'<text x="{label_w + 8}" y="{y + 19}" font-size="13" '
                         f'fill="{MUTED}">{NO_DATA}</text>')
            continue
        length = bar_w * value / peak
        colour = colours[i] if colours and i < len(colours) else BAR
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" '
                     f'height="{row_h - 10}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 19}" font-size="13" '
                     f'fill="{INK}">{_number(value, percent)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def columns_svg(items: Sequence[Item], title: str, chart_id: str,
                percent: bool = False) -> Markup:
    """Vertical columns over time, one per (label, value)."""
    width, height, left, bottom, top = 640, 236, 12, 48, 22
    plot_h = height - top - bottom
    slot = (width - 2 * left) / max(len(items), 1)
    peak = _peak(items, percent)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="{chart_id}-title" class="chart report-columns">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" '
             f'stroke="{MUTED}"/>']
    for i, (label, value) in enumerate(items):
        x = left + i * slot + slot * 0.15
        w = slot * 0.7
        centre = left + i * slot + slot / 2
        parts.append(_axis_label(label, centre, height - 28))
        if isinstance(value, str):
            parts.append(f'<rect x="{x:.1f}" y="{top}" width="{w:.1f}" height="{plot_h}" '
                         f'fill="none" stroke="{HIDDEN_STROKE}" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{centre:.1f}" y="{top + plot_h / 2:.1f}" '
                         f'text-anchor="middle" font-size="14" fill="{MUTED}">'
                         f'{escape(value)}</text>')
            continue
        if math.isnan(value):
            parts.append(f'<text x="{centre:.1f}" y="{top + plot_h - 6:.1f}" '
                         f'text-anchor="middle" font-size="14" fill="{MUTED}">{NO_DATA}</text>')
            continue
        h = plot_h * value / peak
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" '
                     f'height="{h:.1f}" fill="{BAR}"/>')
        parts.append(f'<text x="{centre:.1f}" y="{top + plot_h - h - 5:.1f}" '
                     f'text-anchor="middle" font-size="12" fill="{INK}">'
                     f'{_number(value, percent)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _axis_label(label: str, centre: float, y: int) -> str:
    """A column's label under the axis, in two lines when it has a space ("1. kvartal" over
    "2026"): eight quarter names side by side would not fit on one line each."""
    first, _space, second = label.rpartition(" ")
    lines = [first, second] if first else [second]
    spans = "".join(f'<tspan x="{centre:.1f}" dy="{0 if i == 0 else 15}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text x="{centre:.1f}" y="{y}" text-anchor="middle" font-size="12" '
            f'fill="{INK}">{spans}</text>')


ZONE_COLOURS = ("#2e7d32", "#b58900", "#c25e00", "#a4161a")


def charts(report: Report) -> list[tuple[str, Markup]]:
    """(title, SVG) of each chart of a report page, from published figures only."""
    results = report.release["results"]
    audit = report.instrument == "audit"
    drawn = []
    title = (_("Assessments by zone") if audit
             else _("Assessments by AUDIT-C result") if report.instrument == "audit_c"
             else _("Assessments by DUDIT result"))
    drawn.append((title, bars_svg(
        [(result_name(report.instrument, r), _value(results, row_total(r)))
         for r in report.result_rows], title, "chart-results",
        colours=ZONE_COLOURS if audit else None)))
    if audit:
        levels = report.release["levels"]
        title = _("Assessments by action level")
        drawn.append((title, bars_svg([(level_name(lv), _value(levels, row_total(lv)))
                                       for lv in LEVELS], title, "chart-levels")))
    title = _("Assessments per quarter")
    drawn.append((title, columns_svg([(quarter_text(label), _value(release["results"], TOTAL))
                                      for label, release, _rates in report.trend],
                                     title, "chart-trend")))
    if audit:
        shares: list[Item] = []
        for label, _release, rates in report.trend:
            rate = rates["conversation_level2"]
            percent = rate.percent
            shares.append((quarter_text(label), MARK_TEXT[LARGE] if rate.hidden
                           else math.nan if percent is None else percent))
        title = _("Conversations delivered at level 2 or higher, per quarter (%)")
        drawn.append((title, columns_svg(shares, title, "chart-conversations", percent=True)))
    return drawn
