"""Findings: one row per failing record per rule per validation, and their life cycle.

A finding's identity is its rule and record (system, table, key). Each row is
one validation's observation of that identity; the life-cycle columns carry
the identity across validations: the night it first failed, the night of this
observation, the first later validation where the record passed again
(`resolved_on`), and the observation's state (new, persisting, reopened).

Writing a validation's findings (`record`):

- replaces the scope's earlier rows of the rules that ran (a rerun gives the
  same rows); a rule that could not run keeps its earlier rows and resolves
  nothing;
- derives each row's state from the identity's observations on earlier nights
  only (never from later ones, so re-validating an old night or backfilling it
  gives what an in-order run gave), then re-derives any later observations of
  the same identities, which may now follow this one;
- marks as resolved the identities open before the night whose record the
  validation examined and found passing: a full validation examines every
  record; a night examines the records that changed in it (`examined`).

Nothing is deleted: a full validation's rows stay under `full` until the next
full validation of a later night, which moves them to `full:YYYY-MM-DD`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from expectations.finding_cycle import Clock, later_resolutions, rederive_later, set_resolved
from schemas.control import Finding

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from expectations.rules import Rule, Scope

#: (rule, system, table_name, record_key): what a finding is about.
Identity = tuple[str, str, str, str]
#: The current `updated_at` of some records (by key) of a rule's table.
Versions = Callable[["Rule", list[str]], dict[str, "dt.datetime | None"]]


@dataclass
class RuleOutcome:
    """What one rule found (or why it could not run)."""

    rule: Rule
    failures: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures

    def summary(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "severity": self.rule.severity.value,
            "failures": len(self.failures),
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


def finding_rows(scope: Scope, outcome: RuleOutcome) -> list[dict[str, Any]]:
    rule = outcome.rule
    related_system, related_table = rule.related or (None, None)
    rows = []
    seen = set()
    for key, value, related_key, office in outcome.failures:
        if key in seen:  # one finding per record per rule
            continue
        seen.add(key)
        rows.append(
            {
                "scope": scope.name,
                "night": scope.night if scope.kind == "night" else None,
                "system": rule.system,
                "table_name": rule.table,
                "record_key": str(key),
                "field": rule.field,
                "value": None if value is None else str(value)[:500],
                "rule": rule.name,
                "severity": rule.severity.value,
                "office_code": office,
                "message": rule.description,
                "related_system": related_system if related_key is not None else None,
                "related_table": related_table if related_key is not None else None,
                "related_key": related_key,
                "first_seen_on": scope.night,
                "last_seen_on": scope.night,
                "resolved_on": None,
                "state": "new",
            }
        )
    return rows


def identity(row: Any) -> Identity:
    return (row["rule"], row["system"], row["table_name"], row["record_key"])


def _before(scope: Scope) -> Any:
    """Observations that precede this validation: earlier nights (a full one: its night's too)."""
    if scope.kind == "full":
        return or_(
            Finding.last_seen_on < scope.night,
            and_(Finding.last_seen_on == scope.night, ~Finding.scope.like("full%")),
        )
    return Finding.last_seen_on < scope.night


def latest_before(conn: Connection, scope: Scope, rules: Iterable[str]) -> dict[Identity, Any]:
    """Per identity of these rules, its latest observation before this validation."""
    names = sorted(set(rules))
    if not names:
        return {}
    ident = (Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
    ranked = (
        select(
            *ident,
            Finding.finding_id,
            Finding.first_seen_on,
            Finding.last_seen_on,
            Finding.resolved_on,
            func.row_number()
            .over(
                partition_by=ident,
                order_by=(Finding.last_seen_on.desc(), Finding.finding_id.desc()),
            )
            .label("position"),
        )
        .where(Finding.rule.in_(names), _before(scope))
        .subquery()
    )
    rows = conn.execute(select(ranked).where(ranked.c.position == 1)).mappings()
    return {identity(row): row for row in rows}


def _archive_full(conn: Connection, scope: Scope, ran: list[str]) -> None:
    """A full validation of a later night moves the earlier full rows to `full:<their night>`."""
    earlier = conn.execute(
        select(Finding.last_seen_on)
        .where(Finding.scope == "full", Finding.rule.in_(ran), Finding.last_seen_on != scope.night)
        .distinct()
    ).scalars()
    for night in list(earlier):
        archive = f"full:{night.isoformat()}" if night else "full:unknown"
        conn.execute(delete(Finding).where(Finding.scope == archive, Finding.rule.in_(ran)))
        conn.execute(
            update(Finding)
            .where(Finding.scope == "full", Finding.rule.in_(ran), Finding.last_seen_on == night)
            .values(scope=archive)
        )


def record(
    conn: Connection,
    scope: Scope,
    outcomes: list[RuleOutcome],
    versions: Versions | None = None,
) -> int:
    """Write this validation's findings and update every identity's life cycle; rows written.

    `versions(rule, keys)` gives the current `updated_at` of those records of
    the rule's table: a night examined a record when it changed in the night,
    and a record changed after the night is beyond what the night can see.
    """
    ran = [o.rule.name for o in outcomes if o.error is None]
    if not ran:
        return 0
    if scope.kind == "full":
        _archive_full(conn, scope, ran)
    rules = {o.rule.name: o.rule for o in outcomes if o.error is None}
    previous = latest_before(conn, scope, ran)
    rows = [row for o in outcomes if o.error is None for row in finding_rows(scope, o)]
    existing = {
        (r.rule, r.system, r.table_name, r.record_key): r.finding_id
        for r in conn.execute(
            select(
                Finding.rule, Finding.system, Finding.table_name, Finding.record_key,
                Finding.finding_id,
            ).where(Finding.scope == scope.name, Finding.rule.in_(ran))
        )
    }  # fmt: skip
    clock = Clock(scope, rules, versions)
    still_open = [
        ident
        for ident, prev in previous.items()
        if prev["resolved_on"] is None or prev["resolved_on"] > scope.night
    ]
    clock.load([identity(r) for r in rows] + still_open + list(existing))
    # Re-validating an old night: its observations of records changed since are kept as they
    # were (the night's view of them is gone), and failures of such records are not the night's.
    kept = {ident for ident in existing if clock.later(ident)}
    stale = [fid for ident, fid in existing.items() if ident not in kept]
    for start in range(0, len(stale), 20_000):
        conn.execute(delete(Finding).where(Finding.finding_id.in_(stale[start : start + 20_000])))
    rows = [r for r in rows if identity(r) not in kept and not clock.later(identity(r))]
    failing = {identity(row) for row in rows} | kept
    moved = _continue_chains(scope, rows, previous)
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(Finding), rows[start : start + 20_000])
    set_resolved(conn, moved)
    resolved_now = [
        prev["finding_id"]
        for ident, prev in previous.items()
        if ident not in failing
        and (prev["resolved_on"] is None or prev["resolved_on"] > scope.night)
        and clock.examined(ident)
    ]
    set_resolved(conn, [{"fid": fid, "resolved": scope.night} for fid in resolved_now])
    later_resolutions(conn, scope, rows, clock)
    rederive_later(conn, scope, failing | set(previous))
    return len(rows)


def _continue_chains(
    scope: Scope, rows: list[dict[str, Any]], previous: dict[Identity, Any]
) -> list[dict[str, Any]]:
    """Each failing row's state and first-seen night from its identity's previous observation.

    The previous rows whose resolution this row supersedes (a rerun of the night, or a
    backfilled night before a later resolution): changes for `set_resolved`.
    """
    moved: list[dict[str, Any]] = []
    for row in rows:
        prev = previous.get(identity(row))
        if prev is None:
            continue
        row["first_seen_on"] = prev["first_seen_on"] or prev["last_seen_on"]
        resolved = prev["resolved_on"]
        # A night's own earlier run may have resolved it: that was a rerun, not a reopening.
        if resolved is not None and (resolved < scope.night or scope.kind == "full"):
            row["state"] = "reopened"
            continue
        row["state"] = "persisting"
        if resolved is not None:  # resolved tonight (an earlier run) or later: not before this row
            row["resolved_on"] = resolved if resolved > scope.night else None
            moved.append({"fid": prev["finding_id"], "resolved": None})
    return moved


def replace(conn: Connection, scope: Scope, outcomes: list[RuleOutcome]) -> int:
    """Write the scope's findings (kept for callers of the earlier name); see `record`."""
    return record(conn, scope, outcomes)
