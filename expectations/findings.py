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

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update

from schemas.control import Finding, ValidationRun

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from expectations.rules import Rule, Scope

#: (rule, system, table_name, record_key): what a finding is about.
Identity = tuple[str, str, str, str]
#: The current `updated_at` of some records (by key) of a rule's table.
Versions = Callable[["Rule", list[str]], dict[str, "dt.datetime | None"]]

_CHUNK = 500


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


@dataclass
class Observation:
    """The life-cycle columns of one finding row."""

    finding_id: int
    night: dt.date
    first_seen_on: dt.date | None
    resolved_on: dt.date | None
    state: str


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
    clock = _Clock(scope, rules, versions)
    clock.load([identity(r) for r in rows] + list(previous) + list(existing))
    # Re-validating an old night: its observations of records changed since are kept as they
    # were (the night's view of them is gone), and failures of such records are not the night's.
    kept = {ident for ident in existing if clock.later(ident)}
    stale = [fid for ident, fid in existing.items() if ident not in kept]
    for start in range(0, len(stale), 20_000):
        conn.execute(delete(Finding).where(Finding.finding_id.in_(stale[start : start + 20_000])))
    rows = [r for r in rows if identity(r) not in kept and not clock.later(identity(r))]
    failing = {identity(row) for row in rows} | kept
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
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(Finding), rows[start : start + 20_000])
    _set_resolved(conn, moved)
    resolved_now = [
        prev["finding_id"]
        for ident, prev in previous.items()
        if ident not in failing
        and (prev["resolved_on"] is None or prev["resolved_on"] > scope.night)
        and clock.examined(ident)
    ]
    _set_resolved(conn, [{"fid": fid, "resolved": scope.night} for fid in resolved_now])
    _later_resolutions(conn, scope, rows, clock)
    _rederive_later(conn, scope, failing | set(previous))
    return len(rows)


class _Clock:
    """When each finding's record last changed, against the validated night's window."""

    def __init__(self, scope: Scope, rules: dict[str, Rule], versions: Versions | None) -> None:
        self.scope, self.rules, self.versions = scope, rules, versions
        self.start, self.end = scope.window()
        self.changed: dict[tuple[str, str], dt.datetime | None] = {}

    def _applies(self, ident: Identity) -> bool:
        rule = self.rules.get(ident[0])
        return rule is not None and (rule.system, rule.table) == (ident[1], ident[2])

    def load(self, identities: Iterable[Identity]) -> None:
        if self.versions is None or self.scope.kind == "full":
            return
        keys: dict[str, set[str]] = defaultdict(set)
        for ident in identities:
            if self._applies(ident):
                keys[ident[0]].add(ident[3])
        for name, wanted in keys.items():
            found = self.versions(self.rules[name], sorted(wanted))
            self.changed.update({(name, key): found.get(key) for key in wanted})

    def later(self, ident: Identity) -> bool:
        """The record changed after the night (a full validation sees everything)."""
        changed = self.changed.get((ident[0], ident[3]))
        return changed is not None and changed >= self.end

    def examined_on(self, ident: Identity, night: dt.date) -> bool:
        """The night `night` (validated later) looked at the record again."""
        from expectations.rules import Scope

        changed = self.changed.get((ident[0], ident[3]))
        if changed is None or not self._applies(ident):
            return False
        start, end = Scope("night", night).window()
        return start <= changed < end

    def examined(self, ident: Identity) -> bool:
        """This validation looked at the record again."""
        if not self._applies(ident):
            return False
        if self.scope.kind == "full":
            return True
        changed = self.changed.get((ident[0], ident[3]))
        return changed is not None and self.start <= changed < self.end


def _later_resolutions(
    conn: Connection, scope: Scope, rows: list[dict[str, Any]], clock: _Clock
) -> None:
    """Rows written for a night older than validations already made (a backfill, a rerun).

    A later validation that examined the record and did not find it failing
    resolved it: the first such validation is this row's `resolved_on`, as an
    in-order run would have set it.
    """
    import json

    later = conn.execute(
        select(ValidationRun.scope, ValidationRun.night, ValidationRun.summary)
        .where(ValidationRun.night > scope.night)
        .order_by(ValidationRun.night, ValidationRun.validation_id)
    ).all()
    if not later or not rows:
        return
    runs = []
    for name, night, summary in later:
        if night is not None:
            errors = set(json.loads(summary or "{}").get("rule_errors") or {})
            runs.append((name.startswith("full"), night, errors))
    seen_later = {
        tuple(r)
        for r in conn.execute(
            select(Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
            .where(Finding.last_seen_on > scope.night)
            .distinct()
        )
    }
    changes = []
    for row in rows:
        ident = identity(row)
        if ident in seen_later or row["resolved_on"] is not None:
            continue
        for is_full, night, errors in runs:
            if ident[0] in errors:
                continue
            if is_full or clock.examined_on(ident, night):
                changes.append(
                    {
                        "rule": ident[0],
                        "system": ident[1],
                        "tbl": ident[2],
                        "key": ident[3],
                        "resolved": night,
                    }
                )
                break
    if changes:
        table = Finding.__table__
        conn.execute(
            update(table)  # type: ignore[arg-type]
            .where(
                table.c.scope == scope.name,
                table.c.rule == bindparam("rule"),
                table.c.system == bindparam("system"),
                table.c.table_name == bindparam("tbl"),
                table.c.record_key == bindparam("key"),
            )
            .values(resolved_on=bindparam("resolved")),
            changes,
        )


def _set_resolved(conn: Connection, changes: list[dict[str, Any]]) -> None:
    if changes:
        statement = (
            update(Finding.__table__)  # type: ignore[arg-type]
            .where(Finding.__table__.c.finding_id == bindparam("fid"))
            .values(resolved_on=bindparam("resolved"))
        )
        conn.execute(statement, changes)


def _rederive_later(conn: Connection, scope: Scope, identities: set[Identity]) -> None:
    """Observations after this validation of the same identities: state and first seen again."""
    later = conn.execute(
        select(Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
        .where(Finding.last_seen_on > scope.night)
        .distinct()
    ).all()
    affected = sorted({tuple(row) for row in later} & identities)
    for start in range(0, len(affected), _CHUNK):
        chunk = affected[start : start + _CHUNK]
        ident = tuple_(Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
        rows = conn.execute(
            select(
                Finding.rule,
                Finding.system,
                Finding.table_name,
                Finding.record_key,
                Finding.finding_id,
                Finding.last_seen_on,
                Finding.first_seen_on,
                Finding.resolved_on,
                Finding.state,
            )
            .where(ident.in_(chunk))
            .order_by(Finding.last_seen_on, Finding.finding_id)
        ).all()
        chains: dict[Identity, list[Observation]] = defaultdict(list)
        for rule, system, table, key, fid, night, first, resolved, state in rows:
            if night is not None:
                chains[(rule, system, table, key)].append(
                    Observation(fid, night, first, resolved, state)
                )
        changes = [change for chain in chains.values() for change in derive(chain)]
        if changes:
            conn.execute(
                update(Finding.__table__)  # type: ignore[arg-type]
                .where(Finding.__table__.c.finding_id == bindparam("fid"))
                .values(
                    first_seen_on=bindparam("first"),
                    state=bindparam("state"),
                    resolved_on=bindparam("resolved"),
                ),
                changes,
            )


def derive(chain: list[Observation]) -> list[dict[str, Any]]:
    """One identity's observations in order: the life-cycle columns each must have (changes only).

    A resolution dated after the next observation belongs to that observation
    (the next one was written later, by a backfill): it moves forward.
    """
    changes = []
    first = chain[0].night
    carried: dt.date | None = None
    for position, item in enumerate(chain):
        state, resolved = "new", item.resolved_on or carried
        carried = None
        if position:
            prev = chain[position - 1]
            reopened = prev.resolved_on is not None and prev.resolved_on <= item.night
            state = "reopened" if reopened else "persisting"
        if position + 1 < len(chain) and resolved and resolved > chain[position + 1].night:
            carried, resolved = resolved, None
        wanted = (first, state, resolved)
        if wanted != (item.first_seen_on, item.state, item.resolved_on):
            item.first_seen_on, item.state, item.resolved_on = wanted
            changes.append(
                {"fid": item.finding_id, "first": first, "state": state, "resolved": resolved}
            )
    return changes


def replace(conn: Connection, scope: Scope, outcomes: list[RuleOutcome]) -> int:
    """Write the scope's findings (kept for callers of the earlier name); see `record`."""
    return record(conn, scope, outcomes)
