"""Render the report pages from their figures with jinja2 (templates beside this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from casesync.report import charts
from casesync.report.masking import mask

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Work-queue rows shown on the page itself (the CSVs hold every row).
SHOWN_ROWS = 100


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mask"] = lambda value, field=None: mask(field, value)
    env.globals["style"] = (TEMPLATES / "style.css").read_text()
    return env


def render_night(figures: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The night's report page."""
    trend = figures["trend"]
    severity_chart = charts.bars(
        "Open findings by severity",
        [(name, [count]) for name, count in sorted(figures["by_severity"].items())],
        ["open"],
    )
    rule_chart = charts.bars(
        "Open findings by rule",
        [(entry["rule"], [entry["open"], entry["new"]]) for entry in figures["by_rule"][:15]],
        ["open", "new"],
    )
    system_chart = charts.bars(
        "Open findings by system", [(k, [v]) for k, v in figures["by_system"].items()], ["open"]
    )
    region_chart = charts.bars(
        "Open findings by region", [(k, [v]) for k, v in figures["by_region"].items()], ["open"]
    )
    trend_chart = charts.lines(
        "Open findings over the last 30 nights", trend["nights"], trend["series"]
    )
    return (
        environment()
        .get_template("night.html.j2")
        .render(
            f=figures,
            rows=rows[:SHOWN_ROWS],
            total_rows=len(rows),
            charts={
                "severity": severity_chart,
                "rules": rule_chart,
                "systems": system_chart,
                "regions": region_chart,
                "trend": trend_chart,
            },
        )
    )


def render_stats(figures: dict[str, Any], chart_svgs: dict[str, str]) -> str:
    """The statistics page (Cognos-style tables beside the reference's shares)."""
    return environment().get_template("stats.html.j2").render(f=figures, charts=chart_svgs)
