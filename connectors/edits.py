"""Two-way mode: a target's edit of a field its source owns, on a record the feed never re-sends.

A load holds such an edit when the feed re-sends the record
(`conflicts.hold_edits`). A record its source never changes again is never
re-sent, so a GCMS clerk's edit of a warrant field NCMS owns would stay in
GCMS unseen. After each two-way run, the target rows changed since the last
sweep (by change epoch, as the capture reads its sources) that hold a record
the interface delivered are compared with what it delivered: a source-owned
field that no longer holds the delivered value is queued as a
`non_owner_edit` conflict, the delivered value as the owner's, unless a
conflict on that record and field is still open, or the same edit was queued
before (a resolved one included: a target value kept by a resolution stays
kept). The sweep's mark (`control.capture_mark`, reader
`edits:<interface>:<stream>`) moves in the transaction that queues.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from connectors import capture, conflicts, dialect
from schemas import metadata_for
from schemas.control import Conflict

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.engine import Connection

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream

log = logging.getLogger(__name__)


def sweep(connectors: Connectors, interface: Interface, night: dt.date, run_id: int | None) -> int:
    """Queue the target's edits of source-owned fields the loads did not meet; how many."""
    from schemas.ownership import source_owned

    started = time.perf_counter()
    with connectors[interface.target_system].begin() as conn:
        through = dialect.advance_epoch(conn)  # every target change up to it is committed
    queued = checked = 0
    for stream in interface.streams:
        fields = source_owned(stream)
        if not fields:
            continue
        reader = f"edits:{interface.name}:{stream.name}"
        with connectors.control.connect() as conn:
            known = capture.marks(conn, reader)
        since = known[0].through if known else None
        changed = _changed_rows(connectors, interface, stream, fields, since, through)
        checked += len(changed)
        with connectors.control.connect() as conn:
            delivered = conflicts.delivered(conn, interface, stream, list(changed))
            still_open = _open_fields(conn, interface, stream)
        by_batch: dict[str, list[conflicts.Held]] = defaultdict(list)
        for record, prior in delivered.items():
            current, who = changed[record]
            for name in fields:
                last = prior.values.get(name, current[name])
                if current[name] != last and (record, name) not in still_open:
                    edit = conflicts.Held(
                        record, name, last, last, who, conflicts.NON_OWNER_EDIT, current[name]
                    )
                    by_batch[prior.batch_id].append(edit)
        read = capture.Window(capture.HISTORY_START, capture.END_OF_TIME, through, tuple(known))
        with connectors.control.begin() as conn:
            for batch_id, held in sorted(by_batch.items()):
                queued += conflicts.queue(conn, interface, stream, night, batch_id, run_id, held)
            capture.save_marks(conn, reader, read, None, capture.utc_now())
    log.info(
        "%s night %s: %d target rows changed since the last sweep, %d edits of source-owned "
        "fields queued (%.2f s)",
        interface.name, night, checked, queued, time.perf_counter() - started,
    )  # fmt: skip
    return queued


def _changed_rows(
    connectors: Connectors,
    interface: Interface,
    stream: Stream,
    fields: list[str],
    since: int | None,
    through: int,
) -> dict[str, tuple[dict[str, str | None], str]]:
    """The target's rows changed in (since, through]: record -> (field values as text, who)."""
    table = metadata_for(interface.target_system).tables[stream.target_table]
    epoch = func.coalesce(table.c.change_epoch, 0)
    query = select(
        table.c[stream.target_key], table.c.entered_by, table.c.updated_at,
        *(table.c[n] for n in fields),
    ).where(epoch <= through)  # fmt: skip
    if since is not None:
        query = query.where(epoch > since)
    found: dict[str, tuple[dict[str, str | None], str]] = {}
    with connectors[interface.target_system].connect() as conn:
        for row in conn.execute(query):
            values = {n: conflicts.text_of(v) for n, v in zip(fields, row[3:], strict=True)}
            who = f"{interface.target_system}:{row[1]} (updated {conflicts.text_of(row[2])})"
            found[str(row[0])] = (values, who[:60])
    return found


def _open_fields(conn: Connection, interface: Interface, stream: Stream) -> set[tuple[str, str]]:
    """(record, field) of the stream's target table with a conflict still open."""
    return set(
        conn.execute(
            select(Conflict.record_key, Conflict.field).where(
                Conflict.interface == interface.name,
                Conflict.target_table == stream.target_table,
                Conflict.status == "open",
            )
        ).tuples()
    )
