"""The life cycle of findings across validations: when a record was examined, chains re-derived.

`expectations.findings.record` writes a validation's observations; the helpers
here say whether the validation examined a record (`Clock`), set resolutions,
and re-derive an identity's later observations after a night is written out of
order (a backfill or a rerun), so any order ends as one in-order run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, tuple_, update

from schemas.control import Finding, ValidationRun

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from expectations.findings import Identity, Versions
    from expectations.rules import Rule, Scope

_CHUNK = 500


@dataclass
class Observation:
    """The life-cycle columns of one finding row."""

    finding_id: int
    night: dt.date
    first_seen_on: dt.date | None
    resolved_on: dt.date | None
    state: str


class Clock:
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


def later_resolutions(
    conn: Connection, scope: Scope, rows: list[dict[str, Any]], clock: Clock
) -> None:
    """Rows written for a night older than validations already made (a backfill, a rerun).

    A later validation that examined the record and did not find it failing
    resolved it: the first such validation is this row's `resolved_on`, as an
    in-order run would have set it.
    """
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
        ident = _identity(row)
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


def set_resolved(conn: Connection, changes: list[dict[str, Any]]) -> None:
    if changes:
        statement = (
            update(Finding.__table__)  # type: ignore[arg-type]
            .where(Finding.__table__.c.finding_id == bindparam("fid"))
            .values(resolved_on=bindparam("resolved"))
        )
        conn.execute(statement, changes)


def rederive_later(conn: Connection, scope: Scope, identities: set[Identity]) -> None:
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


def _identity(row: Any) -> Identity:
    return (row["rule"], row["system"], row["table_name"], row["record_key"])
