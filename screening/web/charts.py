"""Charts drawn on the server as SVG (no scripts, no inline styles: presentation attributes
only, so the strict Content-Security-Policy holds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from ..localtime import local_date

ZONE_COLOURS = {"I": "#2e7d32", "II": "#b58900", "III": "#c25e00", "IV": "#a4161a"}
ZONE_BANDS = (("I", 0, 7), ("II", 8, 15), ("III", 16, 19), ("IV", 20, 40))


def trend_svg(
    points: Sequence[tuple[datetime, int, str | None]],
    title: str,
    max_total: int = 40,
    bands: Sequence[tuple[str, int, int]] = ZONE_BANDS,
) -> Markup:
    """Totals over time on the zone bands. ``points``: (time, total, zone), oldest first."""
    width, height, left, right, top, bottom = 640, 220, 40, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / max_total

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="trend-title" class="chart trend">',
        f'<title id="trend-title">{escape(title)}</title>',
    ]
    for zone, low, high in bands:
        top_y, bottom_y = y(min(high + 1, max_total)), y(low)
        parts.append(
            f'<rect x="{left}" y="{top_y:.1f}" width="{plot_w}" '
            f'height="{bottom_y - top_y:.1f}" fill="{ZONE_COLOURS.get(zone, "#ccc")}" '
            f'fill-opacity="0.12"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{(top_y + bottom_y) / 2 + 4:.1f}" '
            f'text-anchor="end" font-size="16" fill="#333">{escape(zone)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" stroke="#555"/>'
    )
    if points:
        n = len(points)
        xs = [left + (plot_w * (i + 0.5) / n) for i in range(n)]
        coords = " ".join(
            f"{x:.1f},{y(total):.1f}" for x, (_, total, _z) in zip(xs, points, strict=True)
        )
        if n > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="#0b5cad" stroke-width="2"/>'
            )
        for x, (when, total, zone_id) in zip(xs, points, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y(total):.1f}" r="5" '
                f'fill="{ZONE_COLOURS.get(zone_id or "", "#0b5cad")}"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{y(total) - 9:.1f}" text-anchor="middle" '
                f'font-size="16" fill="#111">{total}</text>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" '
                f'font-size="14" fill="#333">{local_date(when).strftime("%d.%m.%y")}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above


def zone_scale_svg(
    total: int,
    labels: Sequence[str],
    title: str,
    max_total: int = 40,
    bands: Sequence[tuple[str, int, int]] = ZONE_BANDS,
) -> Markup:
    """The feedback picture for the patient: the four zones as a bar and a marker where the
    score sits. ``labels``: one short text per zone, in order."""
    width, height, left, right = 640, 110, 10, 10
    bar_y, bar_h = 40, 30
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + plot_w * value / (max_total + 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="scale-title" class="chart scale">',
        f'<title id="scale-title">{escape(title)}</title>',
    ]
    for (zone, low, high), label in zip(bands, labels, strict=True):
        x0, x1 = x(low), x(high + 1)
        parts.append(
            f'<rect x="{x0:.1f}" y="{bar_y}" width="{x1 - x0:.1f}" height="{bar_h}" '
            f'fill="{ZONE_COLOURS.get(zone, "#ccc")}"/>'
        )
        parts.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{bar_y + bar_h + 22}" text-anchor="middle" '
            f'font-size="22" font-weight="bold" fill="#111">{escape(label)}</text>'
        )
    marker = x(min(max(total, 0), max_total) + 0.5)
    parts.append(
        f'<path d="M{marker - 9:.1f},{bar_y - 16} L{marker + 9:.1f},{bar_y - 16} '
        f'L{marker:.1f},{bar_y - 2} Z" fill="#111"/>'
    )
    parts.append(
        f'<text x="{marker:.1f}" y="{bar_y - 20}" text-anchor="middle" '
        f'font-size="24" font-weight="bold" fill="#111">{total}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part is escaped above
