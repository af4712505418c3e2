"""Small inline SVG charts: horizontal bars and lines, no script, no font or image to fetch.

Every mark carries its figure (`data-value`), so a reader (or a test) can
check the chart against the table beside it.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

COLOURS = {"error": "#b3261e", "warning": "#b26a00", "reference": "#5f6b7a", "simulated": "#1d5fa8"}
_PALETTE = ("#1d5fa8", "#b3261e", "#b26a00", "#2e7d32", "#6a1b9a", "#00838f")


def bars(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    *,
    unit: str = "",
    width: int = 640,
) -> str:
    """Horizontal bars, one group per row and one bar per series (e.g. simulated vs reference)."""
    label_width, bar_height, gap = 220, 14, 8
    group = bar_height * len(series) + gap
    height = 30 + group * max(1, len(rows)) + 20
    top = max((v for _, values in rows for v in values), default=0) or 1
    span = width - label_width - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    legend_x = label_width
    for index, name in enumerate(series):
        colour = COLOURS.get(name, _PALETTE[index % len(_PALETTE)])
        parts.append(
            f'<rect x="{legend_x}" y="6" width="10" height="10" fill="{colour}"></rect>'
            f'<text x="{legend_x + 14}" y="15" class="legend">{escape(name)}</text>'
        )
        legend_x += 14 + 8 * len(name) + 16
    for position, (label, values) in enumerate(rows):
        y = 30 + position * group
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height}" text-anchor="end" '
            f'class="label">{escape(label[:34])}</text>'
        )
        for index, value in enumerate(values):
            colour = COLOURS.get(series[index], _PALETTE[index % len(_PALETTE)])
            length = max(0.0, value) / top * span
            by = y + index * bar_height
            parts.append(
                f'<rect class="bar" x="{label_width}" y="{by}" width="{length:.1f}" '
                f'height="{bar_height - 2}" fill="{colour}" data-series="{escape(series[index])}" '
                f'data-label="{escape(label)}" data-value="{value:g}"></rect>'
                f'<text x="{label_width + length + 4:.1f}" y="{by + bar_height - 3}" '
                f'class="value">{value:g}{escape(unit)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def lines(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    width: int = 640,
    height: int = 220,
) -> str:
    """A line per series over the labels (nights), with a point per figure."""
    left, right, top_pad, bottom = 50, 20, 24, 36
    top = max((v for values in series.values() for v in values), default=0) or 1
    count = max(1, len(labels) - 1)
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def x(i: int) -> float:
        return left + plot_w * i / count

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" '
        f'y2="{top_pad + plot_h}" class="axis"></line>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" class="label">{top:g}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="label">0</text>',
    ]
    if labels:
        parts.append(
            f'<text x="{left}" y="{height - 12}" class="label">{escape(labels[0])}</text>'
            f'<text x="{width - right}" y="{height - 12}" text-anchor="end" '
            f'class="label">{escape(labels[-1])}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS.get(name, _PALETTE[index % len(_PALETTE)])
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" '
            f'data-series="{escape(name)}" points="{points}"></polyline>'
        )
        parts += [
            f'<circle class="point" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}" '
            f'data-series="{escape(name)}" data-label="{escape(labels[i])}" '
            f'data-value="{v:g}"></circle>'
            for i, v in enumerate(values)
        ]
        parts.append(
            f'<text x="{left + 8 + index * 90}" y="14" class="legend" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
