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

The fields the source owns are watched the other way: the control database
keeps, per record, what the feed last delivered of them (`delivered_value`,
written with the audit). A target value that differs from it is the
target's own edit (a GCMS clerk changing a warrant NCMS owns); a record
that would overwrite it is held the same way, as `non_owner_edit` (the
source's value is the one delivered before) or `both_changed` (the source
changed it too). A value that comes back equal to the target's raises
nothing (no echo).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from schemas import metadata_for
from schemas.control import AuditLog, Conflict, DeliveredValue

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream

#: A non-owner's change to a field, arriving through a feed.
NON_OWNER = "non_owner_change"
#: The target's own change to a field its source owns, which the feed would overwrite.
NON_OWNER_EDIT = "non_owner_edit"
#: The source changed a field the target had changed since the feed last delivered it.
BOTH_CHANGED = "both_changed"
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
    kind: str = NON_OWNER
    target_value: str | None = None  # the target's value, when it is not `old_value`


@dataclass(frozen=True)
class Delivered:
    """What the feed last delivered of one record's source-owned fields, and before that batch."""

    values: dict[str, str | None]
    previous: dict[str, str | None] | None
    batch_id: str


@dataclass(frozen=True)
class Watch:
    """A stream's source-owned fields, what the feed last delivered of them, and the batch."""

    fields: list[str]
    delivered: dict[str, Delivered]
    batch_id: str


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
        _keep_target(conn, stream, target, stage, name, [r[0] for r in rows])
    return held


def _keep_target(
    conn: Connection, stream: Stream, target: Table, stage: Table, name: str, keys: list[Any]
) -> None:
    """Set the staged records' field to the target's value: the load leaves it as it is."""
    key = stream.target_key
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        kept = select(target.c[name]).where(target.c[key] == stage.c[key]).scalar_subquery()
        conn.execute(update(stage).where(stage.c[key].in_(chunk)).values({name: kept}))


def delivered(
    conn: Connection, interface: Interface, stream: Stream, keys: list[str]
) -> dict[str, Delivered]:
    """What the feed last delivered of the given records (control database)."""
    found: dict[str, Delivered] = {}
    d = DeliveredValue
    for start in range(0, len(keys), 500):
        rows = conn.execute(
            select(d.record_key, d.field_values, d.previous_values, d.batch_id).where(
                d.interface == interface.name,
                d.stream == stream.name,
                d.record_key.in_(keys[start : start + 500]),
            )
        )
        for key, values, previous, batch in rows:
            earlier = json.loads(previous) if previous else None
            found[key] = Delivered(json.loads(values), earlier, batch)
    return found


def hold_edits(
    conn: Connection, stream: Stream, target: Table, stage: Table, watch: Watch, version: str
) -> tuple[list[Held], list[tuple[str, dict[str, str | None], dict[str, str | None] | None]]]:
    """Hold the source-owned fields the target changed since the feed last delivered them.

    Returns the held changes and, for every record the load applies, what it
    delivers (the incoming values, a held field's last delivered value) and
    what was delivered before this batch.
    """
    key, names = stream.target_key, watch.fields
    query = select(
        stage.c[key], stage.c[version], target.c[key], target.c[version], target.c.entered_by,
        target.c.updated_at, *(stage.c[n] for n in names), *(target.c[n] for n in names),
    ).select_from(stage.outerjoin(target, target.c[key] == stage.c[key]))  # fmt: skip
    held: list[Held] = []
    deliveries = []
    kept: dict[str, list[Any]] = {n: [] for n in names}
    for row in conn.execute(query):
        exists = row[2] is not None
        if exists and _version(row[1]) < _version(row[3]):
            continue  # older than the target: not applied, delivers nothing
        record = str(row[0])
        incoming = {n: text_of(v) for n, v in zip(names, row[6 : 6 + len(names)], strict=True)}
        current = {n: text_of(v) for n, v in zip(names, row[6 + len(names) :], strict=True)}
        prior = watch.delivered.get(record)
        bases = [] if prior is None or not exists else [prior.values]
        if bases and prior is not None and prior.batch_id == watch.batch_id and prior.previous:
            bases.append(prior.previous)  # this batch again: the target may hold either
        values = dict(incoming)
        for n in names:
            if incoming[n] == current[n] or not bases or any(n not in b for b in bases):
                continue
            if any(current[n] == b[n] for b in bases):
                continue  # the target holds what the feed delivered: the source's change applies
            last = bases[0][n]
            who = f"{stream.target_system}:{row[4]} (updated {text_of(row[5])})"[:60]
            kind = NON_OWNER_EDIT if incoming[n] == last else BOTH_CHANGED
            held.append(Held(record, n, last, incoming[n], who, kind, current[n]))
            kept[n].append(row[0])
            values[n] = last
        earlier = prior.values if prior is not None else None
        if prior is not None and prior.batch_id == watch.batch_id:
            earlier = prior.previous
        deliveries.append((record, values, earlier))
    for n, keys in kept.items():
        if keys:
            _keep_target(conn, stream, target, stage, n, keys)
    return held, deliveries


def _version(epoch: int | None) -> int:
    return -1 if epoch is None else epoch


def deliver(
    conn: Connection,
    interface: Interface,
    stream: Stream,
    batch_id: str,
    run_id: int | None,
    deliveries: list[tuple[str, dict[str, str | None], dict[str, str | None] | None]],
) -> None:
    """Record what the batch delivered of each record (replacing the feed's last delivery)."""
    d = DeliveredValue
    for start in range(0, len(deliveries), 500):
        chunk = deliveries[start : start + 500]
        conn.execute(
            delete(d).where(
                d.interface == interface.name,
                d.stream == stream.name,
                d.record_key.in_([record for record, _, _ in chunk]),
            )
        )
        conn.execute(
            insert(d),
            [
                {
                    "interface": interface.name, "stream": stream.name, "record_key": record,
                    "field_values": json.dumps(values, sort_keys=True),
                    "previous_values": None if earlier is None else json.dumps(earlier,
                                                                                sort_keys=True),
                    "batch_id": batch_id, "run_id": run_id,
                }
                for record, values, earlier in chunk
            ],
        )  # fmt: skip


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
            select(
                Conflict.record_key, Conflict.field, Conflict.incoming_value,
                func.coalesce(Conflict.target_value, Conflict.old_value),
            ).where(
                Conflict.interface == interface.name, Conflict.target_table == stream.target_table
            )
        ).tuples()
    )  # fmt: skip
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
        if (h.record_key, h.field, h.incoming_value, _target_value(h)) not in known
        and (h.record_key, h.field) not in same_night
    ]
    if not fresh:
        return 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    feed = f"{stream.source_system}:{interface.feed_user}"
    conn.execute(
        insert(Conflict),
        [
            {
                "interface": interface.name, "night": night, "target_table": stream.target_table,
                "record_key": h.record_key, "field": h.field, "kind": h.kind,
                "stream": stream.name, "old_value": h.old_value,
                "incoming_value": h.incoming_value, "target_value": _target_value(h),
                "target_written_by": f"{stream.target_system}:{h.written_by}"
                if h.kind == NON_OWNER else h.written_by,
                "incoming_written_by": feed,
                "incoming_batch_id": batch_id, "incoming_run_id": run_id, "raised_at": now,
                "status": "open",
                **(
                    {
                        "owner_system": stream.target_system,
                        "changed_by_system": stream.source_system,
                        "owner_value": h.old_value,
                        "owner_written_by": f"{stream.target_system}:{h.written_by}",
                    }
                    if h.kind == NON_OWNER
                    else {
                        "owner_system": stream.source_system,
                        "changed_by_system": stream.target_system,
                        "owner_value": h.incoming_value,
                        "owner_written_by": feed,
                    }
                ),
            }
            for h in fresh
        ],
    )  # fmt: skip
    return len(fresh)


def _target_value(held: Held) -> str | None:
    return held.old_value if held.kind == NON_OWNER else held.target_value


def kept_value(conflict: Any) -> str | None:
    """The value a resolved conflict leaves in the target."""
    if conflict.resolution == "owner":
        return conflict.owner_value
    if conflict.resolution == "incoming":
        return conflict.incoming_value
    if conflict.resolution == "target":
        return conflict.target_value if conflict.kind != NON_OWNER else conflict.owner_value
    return conflict.resolved_value


def typed(column: Any, value: str | None) -> Any:
    """A value kept as text (`text_of`) in the column's own type."""
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
                .where(table.c[stream.target_key] == typed(table.c[stream.target_key],
                                                            conflict.record_key))
                .values({conflict.field: typed(column, kept_value(conflict))})
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
                if conflict.kind in (NON_OWNER_EDIT, BOTH_CHANGED):
                    _settle(conn, interface, conflict)
    return len(pending)


def _settle(conn: Connection, interface: Interface, conflict: Any) -> None:
    """A resolved edit conflict: the source's value counts as delivered from now on.

    Whatever was kept, the source's next change of the field is compared with
    the value it holds now, not with the one before the conflict (a kept
    target value then stays held, a new source value raises a new conflict).
    """
    d = DeliveredValue
    where = (
        d.interface == interface.name,
        d.stream == conflict.stream,
        d.record_key == conflict.record_key,
    )
    found = conn.execute(select(d.field_values).where(*where)).scalar()
    if found is None:
        return
    values = json.loads(found)
    values[conflict.field] = conflict.incoming_value
    conn.execute(update(d).where(*where).values(field_values=json.dumps(values, sort_keys=True)))


def open_count(conn: Connection, interfaces: list[str] | None = None) -> int:
    query = select(func.count()).select_from(Conflict).where(Conflict.status == "open")
    if interfaces:
        query = query.where(or_(*(Conflict.interface == name for name in interfaces)))
    return int(conn.execute(query).scalar_one())
