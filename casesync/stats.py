"""`casesync stats`: the reference's tables, extracted from GCMS and NCMS as Cognos would.

- Table 1: inadmissibility reports written in the year (GCMS), by ground category;
- Table 2: removal orders made in the year (GCMS), by ground category;
- Table 3: persons arrested and detained in the year (NCMS detentions), by reason;
- removals by priority (NCMS cases removed), in the year and per fiscal year
  (April to March).

Each category's share stands beside the reference's (CBSA, November 2020):
Tables 1-3 against 2020, removals against fiscal year 2019/20, the year the
simulator is calibrated on (and, where the reference has the fiscal year, that
year's own share too). Shares are of the records whose ground, reason or
priority is recorded and known; the rest are counted as `unrecorded`.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import extract, func, select

from casesync.database import require_current
from casesync.errors import CasesyncError
from connectors import Connectors
from schemas import gcms, ncms
from schemas.codes import GROUND_BY_CODE, Priority
from seed.params import ARRESTS_BY_REASON, ORDERS_BY_CATEGORY, REPORTS_BY_CATEGORY

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from casesync.settings import Settings

#: Removals by priority per fiscal year (the reference's table; '-' read as 0).
REMOVALS_BY_FISCAL_YEAR: dict[str, dict[str, int]] = {
    "2014/15": {"P1-IMFC": 0, "P1-SI": 1200, "P2": 6703, "P3": 4029},
    "2015/16": {"P1-IMFC": 0, "P1-SI": 967, "P2": 4105, "P3": 3616},
    "2016/17": {"P1-IMFC": 0, "P1-SI": 879, "P2": 4180, "P3": 2936},
    "2017/18": {"P1-IMFC": 139, "P1-SI": 903, "P2": 4032, "P3": 3137},
    "2018/19": {"P1-IMFC": 436, "P1-SI": 931, "P2": 4630, "P3": 3698},
    "2019/20": {"P1-IMFC": 548, "P1-SI": 1026, "P2": 6312, "P3": 3641},
    "2020/21": {"P1-IMFC": 112, "P1-SI": 250, "P2": 5403, "P3": 555},  # to Nov 12 2020
}
CALIBRATION_FISCAL_YEAR = "2019/20"
PRIORITY_LABELS = {
    Priority.IRREGULAR_FAILED_CLAIMANT.value: "Irregular migrant failed claimant (P1)",
    Priority.SERIOUS_INADMISSIBILITY.value: "Serious inadmissibility (P1)",
    Priority.FAILED_CLAIMANT.value: "Refugee claimants (P2)",
    Priority.OTHER.value: "Other inadmissibilities (P3)",
}
UNRECORDED = "unrecorded"


def fiscal_year(day: dt.date) -> str:
    """The federal fiscal year (April to March) of a date, written 2019/20."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def compare(
    counts: Counter[str], reference: dict[str, int], labels: dict[str, str]
) -> dict[str, Any]:
    """Counts and shares beside the reference's shares (percent), per category."""
    known = sum(counts[c] for c in reference)
    total_reference = sum(reference.values())
    rows: list[dict[str, Any]] = []
    for category, figure in reference.items():
        share = 100 * counts[category] / known if known else 0.0
        expected = 100 * figure / total_reference if total_reference else 0.0
        rows.append(
            {
                "category": labels.get(category, category),
                "code": category,
                "count": counts[category],
                "share": round(share, 3),
                "reference_count": figure,
                "reference_share": round(expected, 3),
                "difference_pp": round(share - expected, 3),
            }
        )
    return {
        "rows": rows,
        "total": known,
        "unrecorded": sum(v for k, v in counts.items() if k not in reference),
        "max_difference_pp": max((abs(r["difference_pp"]) for r in rows), default=0.0),
    }


def _ground_categories(rows: list[tuple[str | None, int]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ground, count in rows:
        known = GROUND_BY_CODE.get(ground or "")
        counts[known.category.value if known else UNRECORDED] += count
    return counts


def extract_year(connectors: Connectors, year: int) -> dict[str, Any]:
    """The four tables for a calendar year (removals: each fiscal year the data holds)."""
    report, order = gcms.InadmissibilityReport, gcms.RemovalOrder
    detention, case = ncms.Detention, ncms.RemovalCase
    with connectors.gcms.connect() as conn:
        reports = conn.execute(
            select(report.irpa_ground, func.count())
            .where(extract("year", report.written_on) == year)
            .group_by(report.irpa_ground)
        ).all()
        orders = conn.execute(
            select(order.irpa_ground, func.count())
            .where(extract("year", order.made_on) == year)
            .group_by(order.irpa_ground)
        ).all()
    with connectors.ncms.connect() as conn:
        arrests = conn.execute(
            select(detention.arrest_reason, func.count())
            .where(extract("year", detention.arrested_at) == year)
            .group_by(detention.arrest_reason)
        ).all()
        removals_rows = conn.execute(
            select(case.removed_on, case.priority).where(case.removed_on.is_not(None))
        ).all()
    removed = [(on, priority) for on, priority in removals_rows if on is not None]
    by_fiscal: dict[str, Counter[str]] = {}
    for removed_on, priority in removed:
        by_fiscal.setdefault(fiscal_year(removed_on), Counter())[priority or UNRECORDED] += 1
    calibration = REMOVALS_BY_FISCAL_YEAR[CALIBRATION_FISCAL_YEAR]
    removals = {}
    for label, counts in sorted(by_fiscal.items()):
        entry = compare(counts, calibration, PRIORITY_LABELS)
        entry["reference"] = f"fiscal year {CALIBRATION_FISCAL_YEAR}"
        own = REMOVALS_BY_FISCAL_YEAR.get(label)
        if own is not None and label != CALIBRATION_FISCAL_YEAR:
            same_year = compare(counts, own, PRIORITY_LABELS)["rows"]
            for row, other in zip(entry["rows"], same_year, strict=True):
                row["fiscal_year_reference_share"] = other["reference_share"]
        removals[label] = entry
    tables = {
        "reports_by_ground": compare(
            _ground_categories(list(reports)),
            {k.value: v for k, v in REPORTS_BY_CATEGORY.items()},
            {},
        ),
        "orders_by_ground": compare(
            _ground_categories(list(orders)),
            {k.value: v for k, v in ORDERS_BY_CATEGORY.items()},
            {},
        ),
        "arrests_by_reason": compare(
            Counter({(reason or UNRECORDED): count for reason, count in arrests}),
            {k.value: v for k, v in ARRESTS_BY_REASON.items()},
            {},
        ),
    }
    in_year = Counter(
        priority or UNRECORDED for removed_on, priority in removed if removed_on.year == year
    )
    tables["removals_by_priority"] = compare(in_year, calibration, PRIORITY_LABELS)
    for entry in tables.values():
        entry["reference"] = "2020"
    tables["removals_by_priority"]["reference"] = f"fiscal year {CALIBRATION_FISCAL_YEAR}"
    return {"year": year, "tables": tables, "removals_by_priority": removals}


def latest_year(connectors: Connectors) -> int:
    """The latest calendar year with an inadmissibility report in GCMS."""
    with connectors.gcms.connect() as conn:
        newest = conn.execute(select(func.max(gcms.InadmissibilityReport.written_on))).scalar()
    if newest is None:
        raise CasesyncError("GCMS holds no inadmissibility report: seed a world first")
    return int(newest.year)


def stats(settings: Settings, *, year: int | None = None) -> dict[str, Any]:
    """Extract the tables, write them as CSV and an HTML page with charts; the figures."""
    connectors = Connectors.from_settings(settings)
    try:
        require_current(connectors, ("gcms", "ncms"))
        chosen = year if year is not None else latest_year(connectors)
        figures = extract_year(connectors, chosen)
    finally:
        connectors.dispose()
    folder = settings.reports_dir / "stats"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = folder / f"stats-{chosen}.csv", folder / f"stats-{chosen}.html"
    write_csv(csv_path, figures)
    html_path.write_text(render(figures), encoding="utf-8")
    (folder / f"stats-{chosen}.json").write_text(json.dumps(figures, indent=1))
    figures["csv"], figures["html"] = str(csv_path), str(html_path)
    return figures


def sections(figures: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, title, table) for each table of the page, removals per fiscal year last."""
    titles = {
        "reports_by_ground": f"Table 1: inadmissibility reports written in {figures['year']}",
        "orders_by_ground": f"Table 2: removal orders made in {figures['year']}",
        "arrests_by_reason": f"Table 3: persons arrested and detained in {figures['year']}",
        "removals_by_priority": f"Removals by priority in {figures['year']}",
    }
    sections = [(key, titles[key], table) for key, table in figures["tables"].items()]
    sections += [
        (f"removals_{label}", f"Removals by priority, fiscal year {label}", table)
        for label, table in figures["removals_by_priority"].items()
    ]
    return sections


def write_csv(path: Path, figures: dict[str, Any]) -> None:
    columns = ["table", "category", "count", "share", "reference_share", "difference_pp"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for key, _, table in sections(figures):
            for row in table["rows"]:
                writer.writerow({"table": key, **row})


def render(figures: dict[str, Any]) -> str:
    """The statistics page: per table, the figures beside the reference and a bar chart."""
    from casesync.report import charts
    from casesync.report.render import render_stats

    svgs = {
        key: charts.bars(
            title,
            [(row["category"], [row["share"], row["reference_share"]]) for row in table["rows"]],
            ["simulated", "reference"],
            unit="%",
        )
        for key, title, table in sections(figures)
    }
    return render_stats({**figures, "sections": sections(figures)}, svgs)
