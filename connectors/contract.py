"""Extract a stream's night, and check each record against the interface contract.

The contract: a record needs its key and the target's mandatory fields, codes
the mapping knows, dates that parse, and values that fit the target's
columns. A record that breaks it is quarantined with the rule and the record
as received; the rest load. Work is column by column so a million-record
batch costs list passes, not per-record objects.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import Boolean, Date, DateTime, Integer, String, cast

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from schemas.interfaces import Stream

_ARROW = {Integer: pa.int64(), Boolean: pa.bool_()}


@dataclass(frozen=True)
class Rejection:
    """A record the contract refused: which rule, why, and the record as received."""

    record_key: str
    rule: str
    reason: str
    payload: str


@dataclass
class Checked:
    """A stream's records after the contract: target rows to load, and the rejections."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    keys: list[str]
    rejections: list[Rejection] = field(default_factory=list)


def _is_date(column_type: Any) -> bool:
    return isinstance(column_type, (Date, DateTime))


def extract(conn: Connection, stream: Stream, start: dt.datetime, end: dt.datetime) -> pa.Table:
    """The stream's records whose source `updated_at` falls in [start, end), by key.

    Dates come out as the text the source holds, so that one the source cannot
    parse is quarantined instead of failing the whole night.
    """
    query = stream.query()
    selected = query.selected_columns
    version = selected.source_updated_at
    columns = [
        cast(column, String).label(column.name) if _is_date(column.type) else column
        for column in selected
    ]
    statement = (
        query.with_only_columns(*columns)
        .where(version >= start, version < end)
        .order_by(selected.source_key)
    )
    result = conn.execute(statement)
    names = list(result.keys())
    rows = result.all()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, column_values in zip(names, values, strict=True):
        column_type = selected[name].type
        arrow_type = next(
            (t for kind, t in _ARROW.items() if isinstance(column_type, kind)), pa.string()
        )
        listed = list(column_values)
        if arrow_type == pa.string():
            listed = [None if v is None else str(v) for v in listed]
        arrays.append(pa.array(listed, type=arrow_type))
    return pa.Table.from_arrays(arrays, names=names)


def _parse(text: str | None, kind: Any) -> Any:
    if text is None:
        return None
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(text)
    return dt.date.fromisoformat(text)


def check(
    stream: Stream,
    records: pa.Table,
    target: Table,
    *,
    load_at: dt.datetime,
    feed_user: str,
) -> Checked:
    """Apply the contract to a batch's records and map the good ones onto the target."""
    n = records.num_rows
    source = {name: records.column(name).to_pylist() for name in records.column_names}
    received = dict(source)  # as extracted, before parsing
    source_types = {c.name: c.type for c in stream.query().selected_columns}
    problems: dict[int, tuple[str, str]] = {}

    def reject(index: int, rule: str, reason: str) -> None:
        problems.setdefault(index, (rule, reason))

    # Dates that do not parse.
    for name, kind in source_types.items():
        if not _is_date(kind):
            continue
        parsed = []
        for index, text in enumerate(source[name]):
            try:
                parsed.append(_parse(text, kind))
            except ValueError:
                parsed.append(None)
                reject(index, f"unparseable_date:{name}", f"{name} {text!r} is not a date")
        source[name] = parsed

    keys_raw = source["source_key"]
    for index, key in enumerate(keys_raw):
        if key is None or key == "":
            reject(index, "missing_key", "the record has no key")
    keys = [stream.key_format.format(k) for k in keys_raw]

    columns: dict[str, list[Any]] = {stream.target_key: keys}
    for target_name, source_name in stream.fields.items():
        columns[target_name] = source[source_name]
    for target_name, (source_name, mapping) in stream.codes.items():
        mapped = [None if v is None else mapping.get(v) for v in source[source_name]]
        for index, (value, code) in enumerate(zip(source[source_name], mapped, strict=True)):
            if value is not None and code is None:
                reject(
                    index,
                    f"unknown_code:{source_name}",
                    f"{source_name} {value!r} is not a known code",
                )
        columns[target_name] = mapped
    for target_name, constant in stream.constants.items():
        columns[target_name] = [constant] * n
    if stream.derive is not None:
        rows_as_dicts = [
            dict(zip(source, values, strict=True)) for values in zip(*source.values(), strict=True)
        ]
        derived = [stream.derive(row) for row in rows_as_dicts]
        for target_name in derived[0] if derived else ():
            columns[target_name] = [d[target_name] for d in derived]

    for required in stream.required:
        for index, value in enumerate(columns.get(required, [None] * n)):
            if value is None and index not in problems:
                reject(index, f"missing_mandatory:{required}", f"{required} is empty")

    for name, values in columns.items():
        column_type = target.c[name].type
        length = getattr(column_type, "length", None)
        if isinstance(column_type, String) and length:
            for index, value in enumerate(values):
                if isinstance(value, str) and len(value) > length:
                    reject(
                        index,
                        f"too_long:{name}",
                        f"{name} has {len(value)} characters, the target holds {length}",
                    )

    columns["source_updated_at"] = source["source_updated_at"]
    columns["entered_at"] = [load_at] * n
    columns["updated_at"] = [load_at] * n
    columns["entered_by"] = [feed_user] * n
    order = [c.name for c in target.columns]
    for name in order:
        columns.setdefault(name, [None] * n)
    good = [i for i in range(n) if i not in problems] if problems else range(n)
    ordered = [columns[name] for name in order]
    rows = (
        [tuple(column[i] for column in ordered) for i in good]
        if problems
        else list(zip(*ordered, strict=True))
    )
    rejections = [
        Rejection(
            record_key=keys[i] if keys_raw[i] is not None else f"#{i}",
            rule=rule,
            reason=reason,
            payload=json.dumps({name: received[name][i] for name in received}, sort_keys=True),
        )
        for i, (rule, reason) in sorted(problems.items())
    ]
    return Checked(order, rows, [keys[i] for i in good], rejections)
