"""The reconciliation tables: what each system holds that another must match.

Refreshed before each validation from the rows each system changed since the
last refresh (the largest `updated_at` seen per source is kept as a
watermark), so a night's refresh reads only that night's changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import String, and_, cast, exists, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from connectors import arrow_io
from schemas import control, gcms, metadata_for, ncms, nova
from schemas.interfaces import INTERFACES

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Select

    from connectors import Connectors
    from schemas.interfaces import Interface, Stream


@dataclass(frozen=True)
class Source:
    """One refresh: a query on a system, copied into a control table.

    The query's last column, `_version`, is the source row's `updated_at`: the
    refresh reads rows newer than the watermark and moves it to the newest seen.
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
            d.updated_at.label("_version"),
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
        d.updated_at.label("_version"),
    )


def _gcms_clients() -> Select:
    return select(gcms.Client.uci, gcms.Client.updated_at.label("_version"))


def _ncms_cases() -> Select:
    c = ncms.RemovalCase
    return select(c.case_no, c.uci, c.office_code, c.updated_at, c.updated_at.label("_version"))


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
        query.c.source_updated_at.label("_version"),
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
        table.c.updated_at.label("_version"),
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


def refresh(
    connectors: Connectors, *, through: dt.datetime | None = None
) -> tuple[dict[str, int], dict[str, str]]:
    """Copy every row changed since the last refresh (up to `through`) into the control tables.

    Returns the rows copied per source, and why any source could not be read
    (the others are still refreshed).
    """
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    control_meta = metadata_for("control")
    for source in SOURCES:
        mark = f"recon:{source.name}"
        with connectors.control.connect() as conn:
            since = conn.execute(
                select(control.Watermark.loaded_through).where(control.Watermark.interface == mark)
            ).scalar()
        inner = source.query().subquery()
        query = select(inner)
        if since is not None:
            query = query.where(inner.c._version > since)
        if through is not None:
            query = query.where(inner.c._version < through)
        try:
            with connectors[source.database].connect() as conn:
                names, rows = arrow_io.fetch_raw(conn, query)
        except SQLAlchemyError as exc:
            errors[source.name] = _problem(exc)
            continue
        counts[source.name] = len(rows)
        if not rows:
            continue
        versions = [_as_datetime(row[-1]) for row in rows]
        target = control_meta.tables[source.target]
        table = _arrow(target, names[:-1], [row[:-1] for row in rows])
        newest = max(v for v in versions if v is not None)
        with connectors.control.begin() as conn:
            arrow_io.upsert_arrow(conn, target, table, list(source.keys))
            _set_mark(conn, mark, newest if since is None else max(since, newest))
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


def _set_mark(conn: Any, mark: str, value: dt.datetime) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    found = conn.execute(
        select(control.Watermark.interface).where(control.Watermark.interface == mark)
    ).first()
    if found is None:
        conn.execute(
            insert(control.Watermark).values(
                interface=mark, loaded_through=value, last_batch_id="-", updated_at=now
            )
        )
    else:
        conn.execute(
            update(control.Watermark)
            .where(control.Watermark.interface == mark)
            .values(loaded_through=value, updated_at=now)
        )


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
                target.changed_at >= source.changed_at,
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
