"""What the night's report shows, read from the databases (rendering is in `casesync.report`)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select

from casesync.report.findings import UNASSIGNED, OpenFinding, open_findings, resolved_on
from casesync.report.masking import mask_text
from schemas import ncms
from schemas.codes import DORMANT_DAYS, OFFICE_BY_CODE, WORKING_INVENTORIES, Inventory
from schemas.control import Conflict, Finding, Quarantine, SyncRun

if TYPE_CHECKING:
    from connectors import Connectors
    from expectations.rules import Rule

TREND_NIGHTS = 30
#: An enforceable (removal-ready) case with no recorded work for this long appears un-actioned.
UNACTIONED_DAYS = 90
LISTED = 15


def interfaces_carried(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """Per interface, the night's latest successful run: records extracted, applied, quarantined."""
    run = SyncRun
    newest = (
        select(run.interface, func.max(run.run_id).label("run_id"))
        .where(run.night == night, run.status == "succeeded")
        .group_by(run.interface)
        .subquery()
    )
    query = (
        select(
            run.interface, run.extracted, run.inserted, run.updated, run.unchanged, run.quarantined
        )
        .join(newest, newest.c.run_id == run.run_id)
        .order_by(run.interface)
    )
    with connectors.control.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def quarantine(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """The records the night's interfaces refused, with the rule and reason (values masked)."""
    q = Quarantine
    query = (
        select(q.interface, q.stream, q.record_key, q.rule, q.reason)
        .where(q.night == night)
        .order_by(q.interface, q.stream, q.record_key)
    )
    with connectors.control.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        row["reason"] = mask_text(row["reason"])
    return rows


def conflicts(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """The two-way conflict queue as of the night: every conflict raised by then, unresolved."""
    c = Conflict
    query = (
        select(
            c.conflict_id, c.night, c.interface, c.target_table, c.record_key, c.field, c.kind,
            c.owner_system, c.changed_by_system, c.status,
        )
        .where(c.night <= night, c.status == "open")
        .order_by(c.conflict_id)
    )  # fmt: skip
    with connectors.control.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def trend(connectors: Connectors, night: dt.date) -> dict[str, Any]:
    """Open findings per severity on each of the last 30 nights (as of each night)."""
    first = night - dt.timedelta(days=TREND_NIGHTS - 1)
    ident = (Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
    query = (
        select(*ident, Finding.severity, Finding.last_seen_on, Finding.resolved_on)
        .where(Finding.last_seen_on <= night)
        .order_by(*ident, Finding.last_seen_on, Finding.finding_id)
    )
    days = [first + dt.timedelta(days=i) for i in range(TREND_NIGHTS)]
    counts: dict[str, list[int]] = {"error": [0] * TREND_NIGHTS, "warning": [0] * TREND_NIGHTS}
    with connectors.control.connect() as conn:
        chains: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for row in conn.execute(query):
            chains[tuple(row[:4])].append(row)
    for chain in chains.values():
        for position, row in enumerate(chain):
            start = row.last_seen_on
            end = row.resolved_on or dt.date.max
            if position + 1 < len(chain):
                end = min(end, chain[position + 1].last_seen_on)
            series = counts.setdefault(row.severity, [0] * TREND_NIGHTS)
            for index, day in enumerate(days):
                if start <= day < end:
                    series[index] += 1
    return {"nights": [d.isoformat() for d in days], "series": counts}


def dormant_files(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """Working-inventory cases with the oldest last recorded work (no activity: opened on)."""
    case, activity = ncms.RemovalCase, ncms.CaseActivity
    as_of = night + dt.timedelta(days=1)
    last = (
        select(activity.case_no, func.max(activity.activity_on).label("last_on"))
        .where(activity.activity_on < as_of)
        .group_by(activity.case_no)
        .subquery()
    )
    last_work = func.coalesce(last.c.last_on, case.opened_on)
    query = (
        select(
            case.case_no, case.uci, case.office_code, case.inventory, case.priority,
            last_work.label("last_work_on"),
        )
        .outerjoin(last, last.c.case_no == case.case_no)
        .where(
            case.case_status == "OPEN",
            case.inventory.in_(sorted(i.value for i in WORKING_INVENTORIES)),
            case.opened_on < as_of,
        )
        .order_by(last_work, case.case_no)
        .limit(LISTED)
    )  # fmt: skip
    with connectors.ncms.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        row["idle_days"] = (as_of - row["last_work_on"]).days
        row["dormant"] = row["idle_days"] > DORMANT_DAYS
    return rows


def unactioned_orders(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """Removal-ready cases (an enforceable order, no impediment) nobody appears to work on.

    No officer assigned, or no work recorded for UNACTIONED_DAYS: the reference's
    "appears un-actioned".
    """
    case, activity = ncms.RemovalCase, ncms.CaseActivity
    as_of = night + dt.timedelta(days=1)
    since = as_of - dt.timedelta(days=UNACTIONED_DAYS)
    recent = (
        select(activity.case_no)
        .where(
            activity.case_no == case.case_no,
            and_(activity.activity_on >= since, activity.activity_on < as_of),
        )
        .exists()
    )
    query = (
        select(
            case.case_no, case.uci, case.office_code, case.priority, case.order_made_on,
            case.officer_id,
        )
        .where(
            case.case_status == "OPEN",
            case.inventory == Inventory.READY.value,
            case.opened_on < since,
            (case.officer_id.is_(None)) | ~recent,
        )
        .order_by(case.order_made_on, case.case_no)
    )  # fmt: skip
    with connectors.ncms.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    for row in rows:
        row["why"] = "no officer assigned" if row["officer_id"] is None else "no recorded work"
    return rows


def _time_to_fix(connectors: Connectors, night: dt.date) -> dict[str, float]:
    """Per office, the median days from first failing to resolved, over findings resolved so far."""
    f = Finding
    query = select(f.office_code, f.first_seen_on, f.resolved_on).where(
        f.resolved_on.is_not(None), f.resolved_on <= night
    )
    days: dict[str, list[int]] = defaultdict(list)
    with connectors.control.connect() as conn:
        for office, first, resolved in conn.execute(query):
            if first is not None and resolved is not None:
                days[office or UNASSIGNED].append((resolved - first).days)
    return {office: statistics.median(values) for office, values in days.items()}


def summarize(
    connectors: Connectors, night: dt.date, rules: dict[str, Rule]
) -> tuple[list[OpenFinding], dict[str, Any]]:
    """The open findings of the night (queue order) and every figure the report shows."""
    found = open_findings(connectors, night)
    resolved = resolved_on(connectors, night)
    states = Counter(f.state for f in found)
    by_rule: dict[str, dict[str, Any]] = {}
    for item in found:
        rule = rules.get(item.rule)
        entry = by_rule.setdefault(
            item.rule,
            {
                "rule": item.rule,
                "system": item.system,
                "severity": item.severity,
                "description": item.message,
                "correct_entry": correct_entry(rule) if rule else item.message,
                "open": 0,
                "new": 0,
            },
        )
        entry["open"] += 1
        entry["new"] += item.state == "new"
    resolved_by_office = Counter(row["office_code"] or UNASSIGNED for row in resolved)
    offices: dict[str, dict[str, Any]] = {}
    for item in found:
        office = item.office_code or UNASSIGNED
        entry = offices.setdefault(
            office, {"office": office, "region": item.region, "open": 0, "new": 0, "errors": 0}
        )
        entry["open"] += 1
        entry["new"] += item.state == "new"
        entry["errors"] += item.severity == "error"
    fixes = _time_to_fix(connectors, night)
    for office, entry in offices.items():
        entry["resolved"] = resolved_by_office[office]
        entry["median_days_to_fix"] = fixes.get(office)
        entry["name"] = OFFICE_BY_CODE[office].name if office in OFFICE_BY_CODE else "no office"
    figures = {
        "night": night.isoformat(),
        "open": len(found),
        "by_severity": dict(Counter(f.severity for f in found)),
        "new": states.get("new", 0),
        "reopened": states.get("reopened", 0),
        "persisting": states.get("persisting", 0),
        "resolved": len(resolved),
        "by_rule": sorted(by_rule.values(), key=lambda e: (-e["open"], e["rule"])),
        "by_system": dict(sorted(Counter(f.system for f in found).items())),
        "by_region": dict(sorted(Counter(f.region for f in found).items())),
        "by_office": sorted(offices.values(), key=lambda e: (e["region"], e["office"])),
        "interfaces": interfaces_carried(connectors, night),
        "quarantine": quarantine(connectors, night),
        "conflicts": conflicts(connectors, night),
        "trend": trend(connectors, night),
        "dormant": dormant_files(connectors, night),
        "unactioned": unactioned_orders(connectors, night),
    }
    return found, figures


def correct_entry(rule: Rule) -> str:
    """What a correct entry looks like for a rule (its description when none is written)."""
    return str(getattr(rule, "correct_entry", "") or rule.description)
