"""The reconciliation tables: what each system holds that another must match.

Refreshed before each validation from the rows each system committed since
the last refresh, by change epoch (connectors/capture.py): the refresh closes
each system's epoch, reads the rows of the epochs it has not seen, and keeps
the closed epoch as its mark. So a backfilled night, a late entry or a
correction is seen by the next refresh, whatever time it was typed with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import String, and_, cast, exists, func, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from connectors import arrow_io, capture, dialect
from connectors.capture import utc_now as _now
from schemas import control, gcms, metadata_for, ncms, nova
from schemas.interfaces import INTERFACES, newest

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Select

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream


@dataclass(frozen=True)
class Source:
    """One refresh: a query on a system, copied into a control table.

    The query's last column, `_version`, is the row's change epoch (the newest
    of its joined rows'): the refresh reads the epochs after its mark.
    """

    name: str
    database: str
    target: str
    keys: tuple[str, ...]
    query: Callable[[], Select]


def _nova_decisions() -> Select:
    d, c, p = nova.Decision, nova.CaseFile, nova.Party
    return (
        select(
            d.decision_id,
            d.file_number,
            c.division,
            p.uci,
            d.outcome_code,
            d.decided_on,
            d.entered_at,
            _epoch(d, c, p),
        )
        .join(c, c.file_number == d.file_number)
        .join(p, p.party_id == c.party_id)
        .where(d.is_final.is_(True))
    )


def _gcms_decisions() -> Select:
    d = gcms.IrbDecision
    return select(
        d.decision_ref,
        d.irb_file_no,
        d.uci,
        d.division,
        d.outcome,
        d.decided_on,
        d.received_via,
        d.entered_at,
        _epoch(d),
    )


def _gcms_clients() -> Select:
    return select(gcms.Client.uci, _epoch(gcms.Client))


def _ncms_cases() -> Select:
    c = ncms.RemovalCase
    return select(c.case_no, c.uci, c.office_code, c.updated_at, _epoch(c))


def _epoch(*models: Any) -> Any:
    """The newest change epoch of the joined rows, as `_version`."""
    return newest(*(func.coalesce(model.change_epoch, 0) for model in models)).label("_version")


def _feed_source_side(interface: Interface, stream: Stream) -> Select:
    """What a stream must carry: its source records, by the key the feed gives them."""
    prefix, _, suffix = stream.key_format.partition("{}")
    query = stream.query().subquery()
    key = cast(query.c.source_key, String)
    return select(
        literal(interface.name).label("interface"),
        literal("source").label("side"),
        (literal(prefix) + key + literal(suffix)).label("feed_key"),
        key.label("source_key"),
        literal(stream.source_table).label("source_table"),
        literal(None, type_=String).label("office_code"),
        query.c.source_updated_at.label("changed_at"),
        query.c.source_epoch.label("version_epoch"),
        query.c.source_epoch.label("_version"),
    )


def _feed_target_side(interface: Interface, stream: Stream) -> Select:
    """What a stream did carry: the feed's rows in the target, with the version they hold."""
    prefix, _, suffix = stream.key_format.partition("{}")
    table = metadata_for(stream.target_system).tables[stream.target_table]
    key = table.c[stream.target_key]
    condition = table.c.entered_by == interface.feed_user
    if prefix or suffix:
        condition = and_(condition, key.like(f"{prefix}%{suffix}"))
    return select(
        literal(interface.name).label("interface"),
        literal("target").label("side"),
        key.label("feed_key"),
        key.label("source_key"),
        literal(stream.target_table).label("source_table"),
        literal(None, type_=String).label("office_code"),
        table.c.source_updated_at.label("changed_at"),
        table.c.source_epoch.label("version_epoch"),
        func.coalesce(table.c.change_epoch, 0).label("_version"),
    ).where(condition)


def _feed_sources() -> list[Source]:
    keys = ("interface", "side", "feed_key")
    sources = []
    for interface in INTERFACES.values():
        for stream in interface.streams:
            sources.append(
                Source(
                    f"{stream.name}:source",
                    stream.source_system,
                    "recon_feed_item",
                    keys,
                    partial(_feed_source_side, interface, stream),
                )
            )
            sources.append(
                Source(
                    f"{stream.name}:target",
                    stream.target_system,
                    "recon_feed_item",
                    keys,
                    partial(_feed_target_side, interface, stream),
                )
            )
    return sources


SOURCES: tuple[Source, ...] = (
    Source("nova_decisions", "nova", "recon_nova_decision", ("decision_id",), _nova_decisions),
    Source("gcms_decisions", "gcms", "recon_gcms_decision", ("decision_ref",), _gcms_decisions),
    Source("gcms_clients", "gcms", "recon_gcms_client", ("uci",), _gcms_clients),
    Source("ncms_cases", "ncms", "recon_ncms_case", ("case_no",), _ncms_cases),
    *_feed_sources(),
)


def refresh(connectors: Connectors) -> tuple[dict[str, int], dict[str, str]]:
    """Copy every row committed since the last refresh into the control tables.

    Returns the rows copied per source, and why any source could not be read
    (the others are still refreshed; an unread source keeps its mark).
    """
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    control_meta = metadata_for("control")
    closed: dict[str, int] = {}
    for database in sorted({source.database for source in SOURCES}):
        try:
            with connectors[database].begin() as conn:
                closed[database] = dialect.advance_epoch(conn)
        except SQLAlchemyError as exc:
            errors[database] = _problem(exc)
    for source in SOURCES:
        if source.database not in closed:
            errors.setdefault(source.name, errors.get(source.database, "unreadable"))
            continue
        reader = f"recon:{source.name}"
        through = closed[source.database]
        with connectors.control.connect() as conn:
            known = capture.marks(conn, reader)
        since = known[0].through if known else None
        inner = source.query().subquery()
        query = select(inner).where(inner.c._version <= through)
        if since is not None:
            query = query.where(inner.c._version > since)
        try:
            with connectors[source.database].connect() as conn:
                names, rows = arrow_io.fetch_raw(conn, query, literal=True)
        except SQLAlchemyError as exc:
            errors[source.name] = _problem(exc)
            continue
        counts[source.name] = len(rows)
        read = capture.Window(capture.HISTORY_START, capture.END_OF_TIME, through, tuple(known))
        with connectors.control.begin() as conn:
            if rows:
                target = control_meta.tables[source.target]
                table = _arrow(target, names[:-1], [row[:-1] for row in rows])
                arrow_io.upsert_arrow(conn, target, table, list(source.keys))
            capture.save_marks(conn, reader, read, None, _now())
    return counts, errors


def _problem(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _arrow(target: Any, names: list[str], rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows as an Arrow table in storage form (dates as text) for the control database."""
    from sqlalchemy import Boolean, Date, DateTime, Integer

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, values in zip(names, columns, strict=True):
        column_type = target.c[name].type
        if isinstance(column_type, Integer):
            arrays.append(pa.array(values, type=pa.int64()))
        elif isinstance(column_type, Boolean):
            arrays.append(
                pa.array([None if v is None else int(v) for v in values], type=pa.int64())
            )
        elif isinstance(column_type, (Date, DateTime)):
            arrays.append(pa.array([_storage(v, column_type) for v in values], type=pa.string()))
        else:
            arrays.append(
                pa.array([None if v is None else str(v) for v in values], type=pa.string())
            )
    return pa.Table.from_arrays(arrays, names=names)


def _storage(value: Any, column_type: Any) -> str | None:
    from sqlalchemy import DateTime

    if value is None:
        return None
    if isinstance(value, str):
        parsed = (
            dt.datetime.fromisoformat(value)
            if isinstance(column_type, DateTime)
            else dt.date.fromisoformat(value[:10])
        )
        value = parsed
    if isinstance(column_type, DateTime):
        return value.isoformat(" ", "microseconds")
    return value.isoformat()


def lagging(
    connectors: Connectors, interfaces: list[Interface], night: dt.date, tolerance: int
) -> dict[str, int]:
    """Per interface, records changed before the last `tolerance` nights and still not delivered.

    Quarantined records are the analysts' to fix, not a lag. A count here means
    a feed did not run (or ran out of order): the night must not go on.
    """
    from sqlalchemy import func

    from schemas.calendar import night_interval

    source, target = aliased(control.ReconFeedItem), aliased(control.ReconFeedItem)
    quarantined = select(control.Quarantine.record_key).where(
        control.Quarantine.interface == source.interface
    )
    lag = {}
    with connectors.control.connect() as conn:
        for interface in interfaces:
            before = night_interval(night - dt.timedelta(days=tolerance - 1), interface.cutoff)[0]
            delivered = exists().where(
                target.interface == source.interface,
                target.side == "target",
                target.feed_key == source.feed_key,
                func.coalesce(target.version_epoch, -1) >= func.coalesce(source.version_epoch, 0),
            )
            count = conn.execute(
                select(func.count()).where(
                    source.interface == interface.name,
                    source.side == "source",
                    source.changed_at < before,
                    ~delivered,
                    source.feed_key.not_in(quarantined),
                )
            ).scalar()
            if count:
                lag[interface.name] = int(count)
    return lag
