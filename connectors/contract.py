"""Extract a stream's night, and check each record against the interface contract.

The contract: a record needs its key and the target's mandatory fields, codes
the mapping knows, dates that parse, and values that fit the target's
columns. A record that breaks it is quarantined with the rule and the record
as received; the rest load. The checks and the mapping run column by column
in Arrow, so a million-record night costs a few vector passes; only rejected
records become Python objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Boolean, Date, DateTime, Integer, String

from connectors import arrow_io, capture

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import Select, Table
    from sqlalchemy.engine import Engine

    from schemas.interfaces import Stream

_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$"


@dataclass(frozen=True)
class Rejection:
    """A record the contract refused: which rule, why, and the record as received."""

    record_key: str
    rule: str
    reason: str
    payload: str


@dataclass
class Checked:
    """A stream's records after the contract: target rows to load, and the rejections.

    `rows` has the target's columns; dates are text in SQLAlchemy's storage
    format and booleans 0/1, ready for a bulk load on either backend.
    """

    rows: pa.Table
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.rows.column_names)

    @property
    def keys(self) -> list[str]:
        return self.rows.column(0).to_pylist() if self.rows.num_columns else []


def _is_date(column_type: Any) -> bool:
    return isinstance(column_type, (Date, DateTime))


def _arrow_type(column_type: Any) -> pa.DataType:
    if isinstance(column_type, Boolean):
        return pa.bool_()
    if isinstance(column_type, Integer):
        return pa.int64()
    return pa.string()


def extract(
    engine: Engine, requests: list[tuple[Stream, tuple[Select, dict[str, Any]]]]
) -> list[tuple[pa.Table, int]]:
    """Run each stream's extraction query (with its values) against one snapshot of the source.

    Returns each query's records and the count the source gives for the same
    query in the same snapshot. Dates come out as the text the source holds,
    so that one the source cannot parse is quarantined instead of failing the
    whole night.
    """
    reads = arrow_io.read_snapshot(engine, [statement for _, statement in requests])
    return [
        (_records(stream, read), read.counted)
        for (stream, _), read in zip(requests, reads, strict=True)
    ]


def empty(stream: Stream) -> pa.Table:
    """A stream's extraction with no records (the columns and types of a real one)."""
    return _records(
        stream, arrow_io.Read(0, None, list(stream.query().selected_columns.keys()), [])
    )


def _records(stream: Stream, read: arrow_io.Read) -> pa.Table:
    """A read's rows as Arrow, each column as the type the contract expects (else text)."""
    selected = stream.query().selected_columns
    if read.arrow is not None:
        fetched = read.arrow
        return pa.Table.from_arrays(
            [
                _conform(fetched.column(name).combine_chunks(), selected[name].type)
                for name in fetched.column_names
            ],
            names=fetched.column_names,
        )
    names, rows = read.names, read.rows
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, column_values in zip(names, values, strict=True):
        arrow_type = _arrow_type(selected[name].type)
        try:
            arrays.append(pa.array(column_values, type=arrow_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value of another type: keep it as text
            text = [None if v is None else str(v) for v in column_values]
            arrays.append(pa.array(text, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


def _conform(array: pa.Array, column_type: Any) -> pa.Array:
    """An Arrow column read from the source, as the type the contract expects (else as text).

    SQLite stores booleans as 0/1, and a column holding only NULLs reads as
    integers; anything that does not cast is kept as the text it was.
    """
    wanted = _arrow_type(column_type)
    if array.type == wanted:
        return array
    try:
        return pc.cast(array, wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pc.cast(array, pa.string())


def _valid_dates(text: pa.Array, kind: Any) -> pa.Array:
    """True where the text is a real date (or datetime), or empty."""
    pattern = _DATETIME_RE if isinstance(kind, DateTime) else _DATE_RE
    shaped = pc.match_substring_regex(text, pattern)
    day = pc.strptime(
        pc.utf8_slice_codeunits(text, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    return pc.or_kleene(pc.is_null(text), pc.and_(shaped, pc.is_valid(day)))


def _storage_text(text: pa.Array, kind: Any) -> pa.Array:
    """Date text as SQLAlchemy stores it: YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS.ffffff."""
    if not isinstance(kind, DateTime):
        return pc.utf8_slice_codeunits(text, 0, 10)
    spaced = pc.replace_substring(text, "T", " ")
    whole = pc.utf8_slice_codeunits(spaced, 0, 19)
    fraction = pc.utf8_slice_codeunits(spaced, 20, 26)
    padded = pc.utf8_rpad(pc.if_else(pc.equal(pc.utf8_length(spaced), 19), "", fraction), 6, "0")
    return pc.binary_join_element_wise(whole, padded, ".")


class _Rules:
    """The first rule each record breaks, by row index."""

    def __init__(self) -> None:
        self.broken: dict[int, tuple[str, str]] = {}

    def add(self, mask: pa.Array, rule: str, reason: Any) -> None:
        """Record `rule` for every row where `mask` is true; `reason(i)` explains row i."""
        if not pc.any(mask).as_py():
            return
        for index in pc.indices_nonzero(mask).to_pylist():
            self.broken.setdefault(index, (rule, reason(index)))


def _text(value: Any) -> pa.Scalar:
    return pa.scalar(value, type=pa.string())


def check(
    stream: Stream,
    records: pa.Table,
    target: Table,
    *,
    cutoff: dt.time,
    feed_user: str,
) -> Checked:
    """Apply the contract to a batch's records and map the good ones onto the target.

    Feed rows are stamped with the end of the night (of the interface's
    `cutoff`) that their source row was first typed in (`entered_at`) and that
    the record last changed in (`updated_at`): a clean in-order run would have
    loaded them then, and any run that carries them writes the same row.
    """
    n = records.num_rows
    source = {name: records.column(name).combine_chunks() for name in records.column_names}
    source_types = {c.name: c.type for c in stream.query().selected_columns}
    rules = _Rules()

    for name, kind in source_types.items():
        if _is_date(kind) and pa.types.is_string(source[name].type):
            column = source[name]
            rules.add(
                pc.invert(_valid_dates(column, kind)),
                f"unparseable_date:{name}",
                lambda i, c=column, nm=name: f"{nm} {c[i].as_py()!r} is not a date",
            )

    raw_key = source["source_key"]
    key_text = pc.cast(raw_key, pa.string())
    rules.add(
        pc.or_kleene(pc.is_null(key_text), pc.equal(pc.fill_null(key_text, ""), "")),
        "missing_key",
        lambda _i: "the record has no key",
    )
    prefix, _, suffix = stream.key_format.partition("{}")
    keys = pc.binary_join_element_wise(_text(prefix), key_text, _text(suffix), "")

    columns: dict[str, pa.Array] = {stream.target_key: keys}
    for target_name, source_name in stream.fields.items():
        columns[target_name] = source[source_name]
    for target_name, (source_name, mapping) in stream.codes.items():
        values = source[source_name]
        known = pa.array(list(mapping), type=pa.string())
        mapped = pc.take(
            pa.array(list(mapping.values()), type=pa.string()), pc.index_in(values, value_set=known)
        )
        rules.add(
            pc.and_(pc.is_valid(values), pc.is_null(mapped)),
            f"unknown_code:{source_name}",
            lambda i, v=values, nm=source_name: f"{nm} {v[i].as_py()!r} is not a known code",
        )
        columns[target_name] = mapped
    for target_name, constant in stream.constants.items():
        columns[target_name] = pa.array(
            [constant] * n, type=_arrow_type(target.c[target_name].type)
        )
    if stream.derive is not None:
        _derive(stream, source, columns, target, n)

    for required in stream.required:
        column = columns.get(required)
        if column is not None:
            rules.add(
                pc.is_null(column),
                f"missing_mandatory:{required}",
                lambda _i, r=required: f"{r} is empty",
            )

    for name, column in columns.items():
        length = getattr(target.c[name].type, "length", None)
        if isinstance(target.c[name].type, String) and length and pa.types.is_string(column.type):
            lengths = pc.utf8_length(column)
            rules.add(
                pc.greater(lengths, length),
                f"too_long:{name}",
                lambda i, ls=lengths, nm=name, ln=length: (
                    f"{nm} has {ls[i].as_py()} characters, the target holds {ln}"
                ),
            )

    columns["source_updated_at"] = source["source_updated_at"]
    columns["source_epoch"] = source["source_epoch"]
    columns["entered_at"] = capture.night_ends(source["source_entered_at"], cutoff)
    columns["updated_at"] = capture.night_ends(source["source_updated_at"], cutoff)
    columns["entered_by"] = pa.array([feed_user] * n, type=pa.string())
    ordered = []
    for column in target.columns:
        array = columns.get(column.name, pa.nulls(n, type=_arrow_type(column.type)))
        if _is_date(column.type):
            array = _storage_text(pc.cast(array, pa.string()), column.type)
        elif isinstance(column.type, Boolean):
            array = pc.cast(array, pa.int64())
        ordered.append(array)
    table = pa.Table.from_arrays(ordered, names=[c.name for c in target.columns])
    rejections = []
    if rules.broken:
        bad = sorted(rules.broken)
        good = pc.invert(pa.array([i in rules.broken for i in range(n)]))
        table = table.filter(good)
        received = records.take(bad).to_pylist()
        key_values = keys.take(pa.array(bad)).to_pylist()
        for position, index in enumerate(bad):
            rule, reason = rules.broken[index]
            rejections.append(
                Rejection(
                    record_key=key_values[position] or f"#{index}",
                    rule=rule,
                    reason=reason,
                    payload=json.dumps(received[position], sort_keys=True, default=str),
                )
            )
    return Checked(table, rejections)


def _derive(
    stream: Stream, source: dict[str, pa.Array], columns: dict[str, pa.Array], target: Table, n: int
) -> None:
    """Columns computed from the whole record (row by row; only small streams use this)."""
    assert stream.derive is not None
    names = list(source)
    lists = [source[name].to_pylist() for name in names]
    derived = [
        stream.derive(dict(zip(names, values, strict=True))) for values in zip(*lists, strict=True)
    ]
    for name in derived[0] if derived else stream.derive({k: None for k in names}):
        columns[name] = (
            pa.array([d[name] for d in derived], type=_arrow_type(target.c[name].type))
            if derived
            else pa.nulls(n, type=_arrow_type(target.c[name].type))
        )
