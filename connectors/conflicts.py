"""Two-way mode: changes to a field from a system that does not own it are held as conflicts.

A stream carries some fields its target owns (a warrant's UCI: GCMS's; a
referral's IRB file number: NOVA's; `schemas/ownership.py`). A record that
would change one of them on an existing row (one that holds a value) is a
conflict: the field keeps the target's value, the rest of the record loads,
and the conflict is queued in the control database (in the transaction that
writes the batch's audit, before the target commits). A conflict already
queued for the same record, field and incoming value is not queued again (a
rerun, a backfill, a record re-sent for another field's change): it waits for
its resolution. A resolution (`casesync conflicts resolve`) is applied to the
target by the interface's next run, and audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, DateTime, Integer, and_, func, insert, or_, select, update

from schemas import metadata_for
from schemas.control import AuditLog, Conflict

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream

#: A non-owner's change to a field, arriving through a feed.
NON_OWNER = "non_owner_change"
#: The audit action of a resolution applied to the target.
RESOLVED = "resolved"


@dataclass(frozen=True)
class Held:
    """A field change a load held back: the record, the field, the target's value, the feed's."""

    record_key: str
    field: str
    old_value: str | None
    incoming_value: str | None
    written_by: str | None


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def hold(
    conn: Connection, stream: Stream, target: Table, stage: Table, fields: list[str], version: str
) -> list[Held]:
    """Find the staged records that change a target-owned field, and keep the target's value."""
    key = stream.target_key
    held: list[Held] = []
    for name in fields:
        differs = and_(
            target.c[key] == stage.c[key],
            target.c[name].is_not(None),
            stage.c[name].is_distinct_from(target.c[name]),
            stage.c[version] >= func.coalesce(target.c[version], -1),
        )
        rows = conn.execute(
            select(stage.c[key], target.c[name], stage.c[name], target.c.entered_by).where(differs)
        ).all()
        if not rows:
            continue
        held += [Held(str(r[0]), name, text_of(r[1]), text_of(r[2]), r[3]) for r in rows]
        keys = [r[0] for r in rows]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            kept = select(target.c[name]).where(target.c[key] == stage.c[key]).scalar_subquery()
            conn.execute(update(stage).where(stage.c[key].in_(chunk)).values({name: kept}))
    return held


def queue(
    conn: Connection,
    interface: Interface,
    stream: Stream,
    night: dt.date,
    batch_id: str,
    run_id: int | None,
    held: list[Held],
) -> int:
    """Write the held changes not queued before to the conflict table; returns how many."""
    if not held:
        return 0
    known = set(
        conn.execute(
            select(Conflict.record_key, Conflict.field, Conflict.incoming_value).where(
                Conflict.interface == interface.name, Conflict.target_table == stream.target_table
            )
        ).tuples()
    )
    same_night = set(
        conn.execute(
            select(Conflict.record_key, Conflict.field).where(
                Conflict.interface == interface.name,
                Conflict.target_table == stream.target_table,
                Conflict.night == night,
            )
        ).tuples()
    )
    fresh = [
        h
        for h in held
        if (h.record_key, h.field, h.incoming_value) not in known
        and (h.record_key, h.field) not in same_night
    ]
    if not fresh:
        return 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(
        insert(Conflict),
        [
            {
                "interface": interface.name, "night": night, "target_table": stream.target_table,
                "record_key": h.record_key, "field": h.field, "kind": NON_OWNER,
                "stream": stream.name, "owner_system": stream.target_system,
                "changed_by_system": stream.source_system, "old_value": h.old_value,
                "owner_value": h.old_value, "incoming_value": h.incoming_value,
                "owner_written_by": f"{stream.target_system}:{h.written_by}",
                "incoming_written_by": f"{stream.source_system}:{interface.feed_user}",
                "incoming_batch_id": batch_id, "incoming_run_id": run_id, "raised_at": now,
                "status": "open",
            }
            for h in fresh
        ],
    )  # fmt: skip
    return len(fresh)


def kept_value(conflict: Any) -> str | None:
    """The value a resolved conflict leaves in the target."""
    if conflict.resolution == "owner":
        return conflict.owner_value
    if conflict.resolution == "incoming":
        return conflict.incoming_value
    return conflict.resolved_value


def _typed(column: Any, value: str | None) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, Integer):
        return int(value)
    return value


def apply_resolutions(connectors: Connectors, interface: Interface, run_id: int | None) -> int:
    """Write every resolved, not yet applied conflict of the interface into its target.

    One target transaction; the audit rows and the conflicts' `applied_*` go to
    the control database first (a kill between the two leaves them applied in
    control and the target as before: the next run finds the target unchanged
    and writes it again, since it writes by value, not by difference).
    """
    with connectors.control.connect() as conn:
        pending = conn.execute(
            select(Conflict.__table__)
            .where(
                Conflict.interface == interface.name,
                Conflict.status == "resolved",
                Conflict.applied_at.is_(None),
            )
            .order_by(Conflict.conflict_id)
        ).all()
    if not pending:
        return 0
    streams = {s.name: s for s in interface.streams}
    meta = metadata_for(interface.target_system)
    with connectors[interface.target_system].begin() as target_conn:
        for row in pending:
            conflict = row
            stream = streams[str(conflict.stream)]
            table = meta.tables[stream.target_table]
            column = table.c[conflict.field]
            target_conn.execute(
                update(table)
                .where(table.c[stream.target_key] == _typed(table.c[stream.target_key],
                                                            conflict.record_key))
                .values({conflict.field: _typed(column, kept_value(conflict))})
            )  # fmt: skip
        with connectors.control.begin() as conn:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            for row in pending:
                conflict = row
                conn.execute(
                    insert(AuditLog).values(
                        batch_id=f"{interface.name}:conflict:{conflict.conflict_id}",
                        stream=conflict.stream, record_key=conflict.record_key,
                        action=RESOLVED, run_id=run_id,
                    )
                )  # fmt: skip
                conn.execute(
                    update(Conflict)
                    .where(Conflict.conflict_id == conflict.conflict_id)
                    .values(status="applied", applied_at=now, applied_run_id=run_id)
                )
    return len(pending)


def open_count(conn: Connection, interfaces: list[str] | None = None) -> int:
    query = select(func.count()).select_from(Conflict).where(Conflict.status == "open")
    if interfaces:
        query = query.where(or_(*(Conflict.interface == name for name in interfaces)))
    return int(conn.execute(query).scalar_one())
