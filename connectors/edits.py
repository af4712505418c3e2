"""Two-way mode: a target's edit of a field its source owns, on a record the feed never re-sends.

A load holds such an edit when the feed re-sends the record
(`conflicts.hold_edits`). A record its source never changes again is never
re-sent, so a GCMS clerk's edit of a warrant field NCMS owns would stay in
GCMS unseen. After each two-way run, every record the interface delivered is
compared with the target: a source-owned field that no longer holds what the
feed last delivered is queued as a `non_owner_edit` conflict, the delivered
value as the owner's, unless a conflict on that record and field is still
open, or the same edit was queued before (a resolved one included: a target
value kept by a resolution stays kept).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from connectors import conflicts
from schemas import metadata_for
from schemas.control import Conflict, DeliveredValue

if TYPE_CHECKING:
    import datetime as dt

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream

log = logging.getLogger(__name__)

#: Keys per look-up of target rows.
CHUNK = 500


def sweep(connectors: Connectors, interface: Interface, night: dt.date, run_id: int | None) -> int:
    """Queue the target's edits of source-owned fields the loads did not meet; how many."""
    from schemas.ownership import source_owned

    started = time.perf_counter()
    queued = 0
    for stream in interface.streams:
        fields = source_owned(stream)
        if not fields:
            continue
        delivered, still_open = _delivered(connectors, interface, stream)
        if not delivered:
            continue
        by_batch: dict[str, list[conflicts.Held]] = defaultdict(list)
        for record, current, who in _target_values(
            connectors, interface, stream, fields, delivered
        ):
            values, batch_id = delivered[record]
            for name in fields:
                last = values.get(name, current[name])
                if current[name] != last and (record, name) not in still_open:
                    edit = conflicts.Held(
                        record, name, last, last, who, conflicts.NON_OWNER_EDIT, current[name]
                    )
                    by_batch[batch_id].append(edit)
        if by_batch:
            with connectors.control.begin() as conn:
                for batch_id, held in sorted(by_batch.items()):
                    queued += conflicts.queue(
                        conn, interface, stream, night, batch_id, run_id, held
                    )
    log.info(
        "%s night %s: target edits of source-owned fields: %d queued (%.2f s)",
        interface.name, night, queued, time.perf_counter() - started,
    )  # fmt: skip
    return queued


def _delivered(
    connectors: Connectors, interface: Interface, stream: Stream
) -> tuple[dict[str, tuple[dict[str, str | None], str]], set[tuple[str, str]]]:
    """What the feed last delivered per record (values, batch), and the open conflicts' fields."""
    d = DeliveredValue
    with connectors.control.connect() as conn:
        rows = conn.execute(
            select(d.record_key, d.field_values, d.batch_id).where(
                d.interface == interface.name, d.stream == stream.name
            )
        )
        delivered = {key: (json.loads(values), batch) for key, values, batch in rows}
        still_open = set(
            conn.execute(
                select(Conflict.record_key, Conflict.field).where(
                    Conflict.interface == interface.name,
                    Conflict.target_table == stream.target_table,
                    Conflict.status == "open",
                )
            ).tuples()
        )
    return delivered, still_open


def _target_values(
    connectors: Connectors,
    interface: Interface,
    stream: Stream,
    fields: list[str],
    delivered: dict[str, Any],
) -> list[tuple[str, dict[str, str | None], str]]:
    """The target's rows of the delivered records: (record, field values as text, who wrote it)."""
    table = metadata_for(interface.target_system).tables[stream.target_table]
    key = table.c[stream.target_key]
    query = select(key, table.c.entered_by, table.c.updated_at, *(table.c[n] for n in fields))
    keys = sorted(delivered)
    found = []
    with connectors[interface.target_system].connect() as conn:
        for start in range(0, len(keys), CHUNK):
            chunk = [conflicts.typed(key, k) for k in keys[start : start + CHUNK]]
            for row in conn.execute(query.where(key.in_(chunk))):
                values = {n: conflicts.text_of(v) for n, v in zip(fields, row[3:], strict=True)}
                who = f"{interface.target_system}:{row[1]} (updated {conflicts.text_of(row[2])})"
                found.append((str(row[0]), values, who[:60]))
    return found
