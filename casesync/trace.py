"""`casesync trace KEY`: everything that happened to one record, across the systems and runs.

A key is a record's key in a source system (a NOVA decision id or file
number, a GCMS litigation id...) or in a target (its feed key: `N123`,
`LIT-5`, `TD-9`...). The trace gives each system's copy now (the columns the
interfaces carry: no names, no birth dates), every batch and run that carried
it with times and what changed from the version before, its quarantine
entries, its findings and its conflicts. Audit rows and quarantined records
are indexed by key, so a trace reads a few rows whatever the size of a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import or_, select

from casesync.errors import BadInput
from connectors import Connectors, batches
from schemas import metadata_for
from schemas.control import AuditLog, Batch, Conflict, Finding, Quarantine, SyncRun
from schemas.interfaces import INTERFACES

if TYPE_CHECKING:
    from casesync.settings import Settings
    from schemas.interfaces import Interface, Stream


SYSTEMS = ("nova", "gcms", "ncms")
_TABLES = sorted({name for system in SYSTEMS for name in metadata_for(system).tables})


@dataclass(frozen=True)
class Match:
    """A stream that carries the record: its source key and its key in the target."""

    interface: Interface
    stream: Stream
    source_key: str
    feed_key: str


def _matches(key: str) -> list[Match]:
    """Every stream whose source key or feed key the text could be."""
    found = []
    for interface in INTERFACES.values():
        for stream in interface.streams:
            prefix, _, suffix = stream.key_format.partition("{}")
            found.append(Match(interface, stream, key, stream.key_format.format(key)))
            if (prefix or suffix) and key.startswith(prefix) and key.endswith(suffix):
                inner = key[len(prefix) : len(key) - len(suffix)] if suffix else key[len(prefix) :]
                found.append(Match(interface, stream, inner, key))
    return found


def _show(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _copies(connectors: Connectors, match: Match) -> dict[str, Any]:
    """The record as the source holds it now, and as the target does."""
    stream, out = match.stream, {}
    query = stream.query()
    source_key = query.selected_columns.source_key
    value = _typed(source_key, match.source_key)
    row = None
    if value is not None:  # compared in the key's own type, so the look-up uses its index
        with connectors[match.interface.source_system].connect() as conn:
            row = conn.execute(query.where(source_key == value)).mappings().first()
    if row is not None:
        out[f"{match.interface.source_system}.{stream.source_table}"] = {
            k: _show(v) for k, v in row.items() if k != "source_entered_at"
        }
    target = metadata_for(stream.target_system).tables[stream.target_table]
    with connectors[stream.target_system].connect() as conn:
        held = (
            conn.execute(select(target).where(target.c[stream.target_key] == match.feed_key))
            .mappings()
            .first()
        )
    if held is not None:
        out[f"{stream.target_system}.{stream.target_table}"] = {
            k: _show(v) for k, v in held.items() if k != "change_epoch"
        }
    return out


def _typed(column: Any, text: str) -> Any:
    """The key as the column's type (None when it cannot be one: no such record)."""
    from sqlalchemy import Integer

    if isinstance(column.type, Integer):
        return int(text) if text.isdigit() else None
    return text


def _carried(connectors: Connectors, match: Match) -> list[dict[str, Any]]:
    """Every batch that carried the record, its audit actions and what changed each time."""
    stream = match.stream
    with connectors.control.connect() as conn:
        rows = conn.execute(
            select(
                AuditLog.batch_id, AuditLog.action, AuditLog.run_id, Batch.night, Batch.path,
                Batch.created_at, Batch.applied_at, SyncRun.kind, SyncRun.started_at,
            )
            .join(Batch, Batch.batch_id == AuditLog.batch_id)
            .outerjoin(SyncRun, SyncRun.run_id == AuditLog.run_id)
            .where(AuditLog.record_key == match.feed_key, AuditLog.stream == stream.name)
            .order_by(AuditLog.audit_id)
        ).all()  # fmt: skip
    steps: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for row in rows:
        carried = _from_batch(Path(row.path), stream, match.source_key)
        changed = {}
        if carried and before is not None:
            changed = {
                k: {"before": before.get(k), "after": v}
                for k, v in carried.items()
                if before.get(k) != v and k != "source_epoch"
            }
        steps.append(
            {
                "interface": match.interface.name, "stream": stream.name,
                "batch": row.batch_id, "night": _show(row.night), "action": row.action,
                "run": row.run_id, "run_kind": row.kind, "run_started_at": _show(row.started_at),
                "batch_written_at": _show(row.created_at),
                "batch_applied_at": _show(row.applied_at),
                "record": carried, "changed": changed,
            }
        )  # fmt: skip
        before = carried or before
    return steps


def _from_batch(path: Path, stream: Stream, source_key: str) -> dict[str, Any]:
    """The record as a batch carried it (the stored file, read by key)."""
    try:
        manifest = batches.read_manifest(path)
    except batches.BatchIntegrityError:
        return {}
    for part in manifest.streams:
        if part.name != stream.name:
            continue
        table = pq.read_table(path / part.file)
        keys = pc.cast(table.column("source_key"), "string")
        found = table.filter(pc.equal(keys, source_key)).to_pylist()
        if found:
            record = found[0]
            record.pop("source_entered_at", None)
            return {k: _show(v) for k, v in record.items()}
    return {}


def trace(settings: Settings, key: str) -> dict[str, Any]:
    """What happened to the record `key`: copies now, batches and runs, quarantine, findings."""
    key = key.strip()
    if not key:
        raise BadInput("KEY must not be empty: give a record's key, e.g. N5000003 or TB1-00012")
    connectors = Connectors.from_settings(settings)
    try:
        copies: dict[str, Any] = {}
        carried: list[dict[str, Any]] = []
        keys: set[str] = {key}
        todo, seen = [key], set()
        while todo:  # follow the record downstream: a feed key is the next interface's source
            text = todo.pop()
            for match in _matches(text):
                if (match.stream.name, match.source_key) in seen:
                    continue
                seen.add((match.stream.name, match.source_key))
                found = _copies(connectors, match)
                steps = _carried(connectors, match)
                if found or steps:
                    copies.update(found)
                    carried.extend(steps)
                    todo += [k for k in (match.source_key, match.feed_key) if k not in keys]
                    keys |= {match.source_key, match.feed_key}
        with connectors.control.connect() as conn:
            quarantined = [
                {k: _show(v) for k, v in r.items() if k != "payload"}
                for r in conn.execute(
                    select(
                        Quarantine.batch_id, Quarantine.interface, Quarantine.stream,
                        Quarantine.night, Quarantine.rule, Quarantine.reason,
                    ).where(Quarantine.record_key.in_(sorted(keys)))
                ).mappings()
            ]  # fmt: skip
            findings = [
                {k: _show(v) for k, v in r.items()}
                for r in conn.execute(
                    select(
                        Finding.scope, Finding.rule, Finding.system, Finding.table_name,
                        Finding.field, Finding.first_seen_on, Finding.last_seen_on,
                        Finding.resolved_on, Finding.state,
                    )
                    .where(  # the (system, table, record) index
                        Finding.system.in_(SYSTEMS),
                        Finding.table_name.in_(_TABLES),
                        Finding.record_key.in_(sorted(keys)),
                    )
                    .order_by(Finding.last_seen_on)
                ).mappings()
            ]  # fmt: skip
            conflicts = [
                {k: _show(v) for k, v in r.items()}
                for r in conn.execute(
                    select(Conflict).where(or_(*(Conflict.record_key == k for k in sorted(keys))))
                ).mappings()
            ]
    finally:
        connectors.dispose()
    if not (copies or carried or quarantined or findings or conflicts):
        raise BadInput(
            f"no record {key!r} in any system, batch, quarantine or finding: give a source "
            "key (a NOVA decision id, a file number, a GCMS litigation id...) or a feed key "
            "(N5000003, LIT-6000001, TD-7000002...)"
        )
    carried.sort(key=lambda step: (step["batch_applied_at"] or "", step["batch"]))
    return {
        "key": key,
        "copies": copies,
        "carried": carried,
        "quarantine": quarantined,
        "findings": findings,
        "conflicts": conflicts,
    }
