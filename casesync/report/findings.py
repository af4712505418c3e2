"""The night's findings as analysts see them: open as of a night, on which file, in which office.

An identity (rule + record) is open as of night N when its latest observation
on or before N has not been resolved by N. Each open finding is placed on its
enforcement file (the NCMS removal case, found through the record's case
number or UCI) for its office, region and priority.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from schemas import metadata_for, ncms
from schemas.codes import OFFICE_BY_CODE
from schemas.control import Finding

if TYPE_CHECKING:
    import datetime as dt

    from connectors import Connectors

#: Priority order of the work queue (the enforcement priority of the file); unknown last.
PRIORITY_ORDER = {"P1-SI": 0, "P1-IMFC": 1, "P2": 2, "P3": 3}
SEVERITY_ORDER = {"error": 0, "warning": 1}
UNASSIGNED = "UNASSIGNED"


@dataclass
class OpenFinding:
    """One open finding on a night, placed on its file."""

    finding_id: int
    rule: str
    system: str
    table_name: str
    record_key: str
    field: str | None
    value: str | None
    severity: str
    message: str
    first_seen_on: dt.date
    last_seen_on: dt.date
    state: str  # new, persisting, reopened (as of the night)
    office_code: str | None = None
    region: str = UNASSIGNED
    priority: str | None = None
    case_no: str | None = None

    def age(self, night: dt.date) -> int:
        """Days since the finding first failed."""
        return (night - self.first_seen_on).days

    def sort_key(self, night: dt.date) -> tuple[int, int, int, str, str]:
        return (
            PRIORITY_ORDER.get(self.priority or "", len(PRIORITY_ORDER)),
            SEVERITY_ORDER.get(self.severity, 2),
            -self.age(night),
            self.rule,
            self.record_key,
        )


def _latest(night: dt.date) -> Any:
    """Each identity's latest observation on or before the night."""
    ident = (Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
    return (
        select(
            Finding.__table__,
            func.row_number()
            .over(
                partition_by=ident,
                order_by=(Finding.last_seen_on.desc(), Finding.finding_id.desc()),
            )
            .label("position"),
        )
        .where(Finding.last_seen_on <= night)
        .subquery()
    )


def open_findings(connectors: Connectors, night: dt.date) -> list[OpenFinding]:
    """Every finding open as of the night (one per identity), placed on its file, queue order."""
    latest = _latest(night)
    query = select(latest).where(
        latest.c.position == 1,
        or_(latest.c.resolved_on.is_(None), latest.c.resolved_on > night),
    )
    with connectors.control.connect() as conn:
        rows = conn.execute(query).mappings().all()
    found = [
        OpenFinding(
            finding_id=row["finding_id"],
            rule=row["rule"],
            system=row["system"],
            table_name=row["table_name"],
            record_key=row["record_key"],
            field=row["field"],
            value=row["value"],
            severity=row["severity"],
            message=row["message"],
            first_seen_on=row["first_seen_on"] or row["last_seen_on"],
            last_seen_on=row["last_seen_on"],
            state=row["state"] if row["last_seen_on"] == night else "persisting",
            office_code=row["office_code"],
        )
        for row in rows
    ]
    place(connectors, found)
    found.sort(key=lambda f: f.sort_key(night))
    return found


def resolved_on(connectors: Connectors, night: dt.date) -> list[dict[str, Any]]:
    """Identities resolved by the night's validation (their last observation before it)."""
    latest = _latest(night)
    columns = ("rule", "system", "table_name", "record_key", "office_code", "severity")
    query = select(*(latest.c[name] for name in columns)).where(
        latest.c.position == 1, latest.c.resolved_on == night
    )
    with connectors.control.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _case_index(connectors: Connectors) -> tuple[dict[str, Any], dict[str, Any]]:
    """NCMS removal cases by case number and by UCI (an open case wins over a closed one)."""
    case = ncms.RemovalCase
    with connectors.ncms.connect() as conn:
        rows = conn.execute(
            select(case.case_no, case.uci, case.office_code, case.priority, case.case_status)
        ).all()
    by_case: dict[str, Any] = {}
    by_uci: dict[str, Any] = {}
    for row in rows:
        by_case[row.case_no] = row
        if row.uci and (row.uci not in by_uci or row.case_status == "OPEN"):
            by_uci[row.uci] = row
    return by_case, by_uci


def place(connectors: Connectors, found: list[OpenFinding]) -> None:
    """Each finding's file: its case number and priority, its office and region."""
    if not found:
        return
    by_case, by_uci = _case_index(connectors)
    links = _record_links(connectors, found)
    for item in found:
        link = links.get((item.system, item.table_name, item.record_key), {})
        case = None
        if link.get("case_no"):
            case = by_case.get(link["case_no"])
        if case is None and link.get("uci"):
            case = by_uci.get(link["uci"])
        if case is not None:
            item.case_no, item.priority = case.case_no, case.priority
            item.office_code = item.office_code or case.office_code
        office = OFFICE_BY_CODE.get(item.office_code or "")
        if office is not None:
            item.region = office.region


def _record_links(
    connectors: Connectors, found: list[OpenFinding]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The case number or UCI each finding's record names (read from its own table)."""
    keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for item in found:
        keys[(item.system, item.table_name)].add(item.record_key)
    links: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (system, table_name), wanted in keys.items():
        table = metadata_for(system).tables.get(table_name)
        if table is None or len(table.primary_key.columns) != 1:
            continue
        (key,) = table.primary_key.columns
        linked = [table.c[name] for name in ("case_no", "uci") if name in table.c]
        if not linked:
            continue
        try:
            convert = key.type.python_type
        except NotImplementedError:
            convert = str
        ordered = sorted(wanted)
        with connectors[system].connect() as conn:
            for start in range(0, len(ordered), 500):
                chunk = [convert(k) for k in ordered[start : start + 500]]
                for row in conn.execute(select(key, *linked).where(key.in_(chunk))).mappings():
                    record = str(row[key.name])
                    links[(system, table_name, record)] = {
                        name: row.get(name) for name in ("case_no", "uci")
                    }
    return links
