"""The data integrity analysts' nightly report: one offline HTML file and a work queue per region.

`build_report(settings, night)` writes `var/reports/<night>/`:

- `index.html`: self-contained (inline CSS and SVG, no script, font or image
  from anywhere), readable from a file on a machine with no network;
- `work-queue-<REGION>.csv`: the night's open findings of that region, one row
  per finding, in priority order;
- `figures.json`: the figures the page shows, for scripts and tests.

Names and dates of birth are masked (`casesync.report.masking.mask`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from casesync.database import require_current
from casesync.report.masking import mask
from connectors import Connectors
from schemas.codes import CBSA_REGIONS

if TYPE_CHECKING:
    from pathlib import Path

    from casesync.report.findings import OpenFinding
    from casesync.settings import Settings

log = logging.getLogger(__name__)

QUEUE_COLUMNS = (
    "record_key", "system", "table", "field", "current_value", "rule", "severity",
    "correct_entry", "first_seen_on", "age_days", "state", "priority", "case_no",
    "office_code", "region",
)  # fmt: skip


def report_dir(settings: Settings, night: dt.date) -> Path:
    """Where a night's report goes."""
    return settings.reports_dir / night.isoformat()


def queue_rows(
    found: list[OpenFinding], night: dt.date, rules: dict[str, Any]
) -> list[dict[str, Any]]:
    """Work-queue rows: one per open finding, in the order given (priority, severity, age)."""
    from casesync.report.night import correct_entry

    rows = []
    for item in found:
        rule = rules.get(item.rule)
        rows.append(
            {
                "record_key": item.record_key,
                "system": item.system,
                "table": item.table_name,
                "field": item.field or "",
                "current_value": mask(item.field, item.value),
                "rule": item.rule,
                "severity": item.severity,
                "correct_entry": correct_entry(rule) if rule else item.message,
                "first_seen_on": item.first_seen_on.isoformat(),
                "age_days": item.age(night),
                "state": item.state,
                "priority": item.priority or "",
                "case_no": item.case_no or "",
                "office_code": item.office_code or "",
                "region": item.region,
            }
        )
    return rows


def write_queues(folder: Path, rows: list[dict[str, Any]]) -> dict[str, str]:
    """One CSV per region (and one for findings on no office's file); file names by region."""
    for old in folder.glob("work-queue-*.csv"):
        old.unlink()
    # Every region gets its queue, empty when it has nothing to fix tonight.
    by_region: dict[str, list[dict[str, Any]]] = {region: [] for region in CBSA_REGIONS}
    for row in rows:
        by_region.setdefault(row["region"], []).append(row)
    written = {}
    for region, region_rows in sorted(by_region.items()):
        name = f"work-queue-{region}.csv"
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=QUEUE_COLUMNS)
            writer.writeheader()
            writer.writerows(region_rows)
        written[region] = name
    return written


def _data_docs_link(settings: Settings, folder: Path, night: dt.date) -> str | None:
    index = settings.data_docs_dir / f"night-{night.isoformat()}" / "index.html"
    return os.path.relpath(index, folder) if index.exists() else None


def build_report(settings: Settings, night: dt.date) -> dict[str, Any]:
    """Write the night's report and work queues; their paths and the headline figures."""
    from casesync.report.night import summarize
    from casesync.report.render import render_night
    from expectations.runner import all_rules

    started = time.perf_counter()
    connectors = Connectors.from_settings(settings)
    try:
        require_current(connectors, ("control", "nova", "gcms", "ncms"))
        rules = {rule.name: rule for rule in all_rules()}
        found, figures = summarize(connectors, night, rules)
    finally:
        connectors.dispose()
    folder = report_dir(settings, night)
    folder.mkdir(parents=True, exist_ok=True)
    rows = queue_rows(found, night, rules)
    queues = write_queues(folder, rows)
    figures["queues"] = {region: {"file": name} for region, name in queues.items()}
    for region in figures["queues"]:
        figures["queues"][region]["rows"] = sum(1 for r in rows if r["region"] == region)
    figures["data_docs"] = _data_docs_link(settings, folder, night)
    page = folder / "index.html"
    page.write_text(render_night(figures, rows), encoding="utf-8")
    (folder / "figures.json").write_text(json.dumps(figures, default=str, indent=1))
    seconds = time.perf_counter() - started
    log.info(
        "report %s: %d open findings, %d queues, %.1f s", night, len(found), len(queues), seconds
    )
    return {
        "night": night.isoformat(),
        "report": str(page),
        "work_queues": [str(folder / name) for name in queues.values()],
        "open": figures["open"],
        "new": figures["new"],
        "resolved": figures["resolved"],
        "seconds": round(seconds, 3),
    }


def latest_report(settings: Settings) -> Path | None:
    """The report of the latest night that has one."""
    if not settings.reports_dir.exists():
        return None
    pages = sorted(
        page for page in settings.reports_dir.glob("*/index.html") if _is_night(page.parent.name)
    )
    return pages[-1] if pages else None


def _is_night(name: str) -> bool:
    try:
        dt.date.fromisoformat(name)
    except ValueError:
        return False
    return True
