"""Run an interface for one night: extract, write the batch, load it in one transaction.

The order of writes is what makes a run safe to kill and to rerun:

1. the batch is written once (atomically) and recorded in the control database;
   a rerun or a replay applies that stored batch, after checking it;
2. the target's changes are staged and computed, and upserted by key in one
   transaction that also compares versions, so an older batch never undoes a
   newer one and an unchanged record is not touched;
3. the audit rows and quarantined records go to the control database before
   the target commits (first writer wins), so a rerun after any crash records
   the same actions as one clean run;
4. the run is marked finished and the watermark moves.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import and_, case, false, func, insert, literal, or_, select, update

from connectors import arrow_io, batches, contract, dialect, faults
from schemas import metadata_for
from schemas.calendar import night_interval
from schemas.control import AuditLog, Batch, Quarantine, SyncRun, Watermark
from schemas.errors import CasesyncError, RunInProgress

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from connectors import Connectors
    from connectors.base import Connector
    from schemas.interfaces import Interface, Stream

#: Columns the feed never compares (bookkeeping), and those it writes on insert only.
_BOOKKEEPING = ("entered_at", "updated_at", "entered_by", "source_updated_at")
_INSERT_ONLY = ("entered_at", "entered_by")


@dataclass
class StreamResult:
    """What one stream of a night did to its target table."""

    name: str
    target_table: str
    extracted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # records older than the target's version: not applied
    quarantined: int = 0
    diff: list[dict[str, Any]] = field(default_factory=list)  # dry runs only
    actions: dict[str, str] = field(default_factory=dict, repr=False)  # key -> action

    def as_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in vars(self).items() if k not in ("actions", "diff")}
        if self.diff:
            shown["diff"] = self.diff
        return shown


@dataclass
class RunResult:
    """One interface, one night."""

    interface: str
    night: dt.date
    batch_id: str
    batch_path: str
    kind: str  # run, replay or dry-run
    streams: list[StreamResult]
    seconds: float = 0.0
    reused_batch: bool = False

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.streams)

    @property
    def quarantine_share(self) -> float:
        extracted = self.total("extracted")
        return self.total("quarantined") / extracted if extracted else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "night": self.night.isoformat(),
            "batch_id": self.batch_id,
            "batch_path": self.batch_path,
            "kind": self.kind,
            "reused_batch": self.reused_batch,
            "seconds": round(self.seconds, 3),
            **{
                k: self.total(k)
                for k in ("extracted", "inserted", "updated", "unchanged", "older", "quarantined")
            },
            "streams": [s.as_dict() for s in self.streams],
        }


def batch_id(interface: str, night: dt.date) -> str:
    return f"{interface}:{night.isoformat()}"


def run_interface(
    connectors: Connectors,
    batch_root: Path,
    interface: Interface,
    night: dt.date,
    *,
    replay: bool = False,
    dry_run: bool = False,
) -> RunResult:
    """Run (or replay, or preview) one interface for one night."""
    started = time.perf_counter()
    kind = "dry-run" if dry_run else ("replay" if replay else "run")
    name = f"sync-{interface.name}-{night.isoformat()}"
    with dialect.exclusive_lock(connectors.control.engine, name, wait=False) as held:
        if not held:
            raise RunInProgress(
                f"{interface.name} for night {night} is already running in another process; "
                "wait for it to finish (nothing was done)"
            )
        run_id = None if dry_run else _start_run(connectors, interface, night, kind)
        try:
            result = _run(connectors, batch_root, interface, night, kind, replay=replay or dry_run)
        except BaseException as exc:
            if run_id is not None:
                with connectors.control.begin() as conn:
                    _finish_run(conn, run_id, None, status="failed", message=str(exc)[:2000])
            raise
        result.seconds = time.perf_counter() - started
        if run_id is not None:
            with connectors.control.begin() as conn:
                _finish_run(conn, run_id, result, status="succeeded")
                _advance_watermark(conn, interface, night, result.batch_id)
            faults.point("after_finish")
        return result


def _run(
    connectors: Connectors,
    batch_root: Path,
    interface: Interface,
    night: dt.date,
    kind: str,
    *,
    replay: bool,
) -> RunResult:
    interval = night_interval(night, interface.cutoff)
    path, manifest, reused = _batch(
        connectors, batch_root, interface, night, interval, must_exist=replay
    )
    records = batches.read(path, manifest)
    load_at = interval[1]
    target_meta = metadata_for(interface.target_system)
    checked = {}
    for stream in interface.streams:
        target = target_meta.tables[stream.target_table]
        checked[stream.name] = contract.check(
            stream, records[stream.name], target, load_at=load_at, feed_user=interface.feed_user
        )
    results = _apply(
        connectors[interface.target_system],
        [(s, target_meta.tables[s.target_table], checked[s.name]) for s in interface.streams],
        dry_run=kind == "dry-run",
        before_commit=lambda done: _record(connectors, interface, night, checked, done),
    )
    for stream, outcome in zip(interface.streams, results, strict=True):
        outcome.extracted = records[stream.name].num_rows
        outcome.quarantined = len(checked[stream.name].rejections)
    return RunResult(
        interface.name,
        night,
        batch_id(interface.name, night),
        str(path),
        kind,
        results,
        reused_batch=reused,
    )


def _batch(
    connectors: Connectors,
    batch_root: Path,
    interface: Interface,
    night: dt.date,
    interval: tuple[dt.datetime, dt.datetime],
    *,
    must_exist: bool,
) -> tuple[Path, batches.Manifest, bool]:
    """The night's batch: the stored one (verified), or a new extraction."""
    identifier = batch_id(interface.name, night)
    with connectors.control.connect() as conn:
        stored = conn.execute(
            select(Batch.path, Batch.checksum).where(Batch.batch_id == identifier)
        ).first()
    if stored is not None:
        path = Path(stored.path)
        return path, batches.verify(path, stored.checksum), True
    if must_exist:
        raise CasesyncError(
            f"no stored batch for {interface.name} night {night}: "
            f"run `casesync sync --night {night}` first"
        )
    tables = {}
    with connectors[interface.source_system].connect() as conn:
        for stream in interface.streams:
            tables[stream.name] = contract.extract(conn, stream, *interval)
            counted = _count(conn, stream, interval)
            if counted != tables[stream.name].num_rows:
                raise CasesyncError(
                    f"{interface.name} night {night}: stream {stream.name} extracted "
                    f"{tables[stream.name].num_rows} records but the source counts {counted}"
                )
    faults.point("after_extract")
    from schemas.interfaces import SCHEMA_VERSION

    path, manifest = batches.write(
        batch_root, interface.name, night, interval, SCHEMA_VERSION, tables
    )
    batches.verify(path)
    faults.point("after_batch_written")
    with connectors.control.begin() as conn:
        conn.execute(
            insert(Batch).values(
                batch_id=identifier,
                interface=interface.name,
                night=night,
                interval_start=interval[0],
                interval_end=interval[1],
                path=str(path),
                record_count=manifest.record_count,
                checksum=manifest.checksum,
                schema_version=manifest.schema_version,
                created_at=_now(),
            )
        )
    return path, manifest, False


def _count(conn: Connection, stream: Stream, interval: tuple[dt.datetime, dt.datetime]) -> int:
    query = stream.query()
    version = query.selected_columns.source_updated_at
    counted = select(func.count()).select_from(
        query.where(version >= interval[0], version < interval[1]).subquery()
    )
    return int(conn.execute(counted).scalar() or 0)


def _apply(
    target_connector: Connector,
    loads: list[tuple[Stream, Table, contract.Checked]],
    *,
    dry_run: bool,
    before_commit: Callable[[list[StreamResult]], None] | None = None,
) -> list[StreamResult]:
    """Stage every stream's rows, then upsert them into the target in one transaction.

    `before_commit` runs after the upserts and before the target commits (the
    run's audit); a dry run rolls everything back instead.
    """
    staged_rows = {stream.name: (target, checked.rows) for stream, target, checked in loads}
    with (
        target_connector.engine.connect() as conn,
        arrow_io.staging(conn, staged_rows) as staged,
    ):
        transaction = conn.begin()
        try:
            results = []
            for stream, target, _ in loads:
                results.append(
                    _load_stream(conn, stream, target, staged(stream.name), dry_run=dry_run)
                )
                faults.point("after_upsert")
            if dry_run:
                transaction.rollback()
            else:
                if before_commit is not None:
                    before_commit(results)
                faults.point("before_commit")
                transaction.commit()
                faults.point("after_commit")
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    return results


def _load_stream(
    conn: Connection, stream: Stream, target: Table, stage: Table, *, dry_run: bool
) -> StreamResult:
    """Classify each staged row against the target, and upsert them."""
    result = StreamResult(stream.name, target.name)
    key = stream.target_key
    compared = [c.name for c in target.columns if c.name not in _BOOKKEEPING and c.name != key]

    def differs_in(names: list[str]) -> list[Any]:
        return [stage.c[name].is_distinct_from(target.c[name]) for name in names]

    differs = or_(*differs_in(compared))
    action = case(
        (target.c[key].is_(None), literal("inserted")),
        (stage.c.source_updated_at < target.c.source_updated_at, literal("older")),
        (differs, literal("updated")),
        else_=literal("unchanged"),
    )
    indexed = dialect.indexed_columns(target, compared)
    moves_index = case(  # an existing row whose indexed columns the record changes
        (and_(target.c[key].is_not(None), or_(false(), *differs_in(indexed))), literal(1)),
        else_=literal(0),
    )
    query = select(stage.c[key], action, moves_index).select_from(
        stage.outerjoin(target, target.c[key] == stage.c[key])
    )
    _, rows = arrow_io.fetch_raw(conn, query)
    actions = {row[0]: row[1] for row in rows}
    counted = Counter(row[1] for row in rows)
    index_changes = any(row[2] for row in rows)
    for name in ("inserted", "updated", "unchanged", "older"):
        setattr(result, name, counted.get(name, 0))
    result.actions = actions
    if dry_run:
        result.diff = _diff(conn, stage, target, key, compared, actions)
    else:
        dialect.upsert_from(
            conn, target, stage, key=key, keep=_INSERT_ONLY, version="source_updated_at",
            compared=compared, index_changes=index_changes,
        )  # fmt: skip
    return result


def _diff(
    conn: Connection,
    stage: Table,
    target: Table,
    key: str,
    compared: list[str],
    actions: dict[str, str],
) -> list[dict[str, Any]]:
    """Before and after of every record a run would add or change."""
    changed = [k for k, a in actions.items() if a in ("inserted", "updated")]
    entries = []
    for start in range(0, len(changed), 500):
        keys = changed[start : start + 500]
        after = {
            r[key]: r for r in conn.execute(select(stage).where(stage.c[key].in_(keys))).mappings()
        }
        before = {
            r[key]: r
            for r in conn.execute(select(target).where(target.c[key].in_(keys))).mappings()
        }
        for k in keys:
            if actions[k] == "inserted":
                entries.append(
                    {
                        "key": k,
                        "action": "added",
                        "after": {c: _show(after[k][c]) for c in compared},
                    }
                )
                continue
            fields = {
                c: {"before": _show(before[k][c]), "after": _show(after[k][c])}
                for c in compared
                if before[k][c] != after[k][c]
            }
            entries.append({"key": k, "action": "changed", "fields": fields})
    return entries


def _show(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _record(
    connectors: Connectors,
    interface: Interface,
    night: dt.date,
    checked: dict[str, contract.Checked],
    results: list[StreamResult],
) -> None:
    """Audit every record and quarantine the rejected ones (first writer wins).

    A batch's audit rows go in one transaction: a stream that already has
    them (a rerun after a crash, a replay) is left as its first run wrote it.
    """
    identifier = batch_id(interface.name, night)
    audits = {
        stream.name: (
            AuditLog.__table__,
            pa.table(
                {
                    "record_key": pa.array(list(result.actions), type=pa.string()),
                    "action": pa.array(list(result.actions.values()), type=pa.string()),
                }
            ),
        )
        for stream, result in zip(interface.streams, results, strict=True)
    }
    control = connectors.control.engine
    with control.connect() as conn, arrow_io.staging(conn, audits) as staged, conn.begin():  # type: ignore[arg-type]
        for stream in interface.streams:
            if not _audited(conn, identifier, stream.name):
                stage = staged(stream.name)
                rows = select(
                    literal(identifier), literal(stream.name), stage.c.record_key, stage.c.action
                )
                conn.execute(
                    insert(AuditLog).from_select(
                        ["batch_id", "stream", "record_key", "action"], rows
                    )
                )
            _quarantine(conn, identifier, interface, night, stream, checked[stream.name].rejections)
    faults.point("after_audit")


def _audited(conn: Connection, identifier: str, stream: str) -> bool:
    found = conn.execute(
        select(AuditLog.audit_id)
        .where(AuditLog.batch_id == identifier, AuditLog.stream == stream)
        .limit(1)
    ).first()
    return found is not None


def _quarantine(
    conn: Connection,
    identifier: str,
    interface: Interface,
    night: dt.date,
    stream: Stream,
    rejected: list[contract.Rejection],
) -> None:
    """Keep the stream's rejected records (those not kept by an earlier run of the batch)."""
    if not rejected:
        return
    existing = set(
        conn.execute(
            select(Quarantine.record_key, Quarantine.rule).where(
                Quarantine.batch_id == identifier, Quarantine.stream == stream.name
            )
        ).tuples()
    )
    fresh = [r for r in rejected if (r.record_key, r.rule) not in existing]
    if fresh:
        conn.execute(
            insert(Quarantine),
            [
                {
                    "batch_id": identifier, "interface": interface.name, "night": night,
                    "stream": stream.name, "record_key": r.record_key, "rule": r.rule,
                    "reason": r.reason, "payload": r.payload,
                }
                for r in fresh
            ],
        )  # fmt: skip


def _now() -> dt.datetime:
    """Wall-clock time for the control database's bookkeeping (never for data)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _start_run(connectors: Connectors, interface: Interface, night: dt.date, kind: str) -> int:
    with connectors.control.begin() as conn:
        conn.execute(
            update(SyncRun)
            .where(
                SyncRun.interface == interface.name,
                SyncRun.night == night,
                SyncRun.status == "running",
            )
            .values(
                status="abandoned", finished_at=_now(), message="the process died during the run"
            )
        )
        return int(
            conn.execute(
                insert(SyncRun)
                .values(
                    interface=interface.name,
                    night=night,
                    kind=kind,
                    status="running",
                    started_at=_now(),
                )
                .returning(SyncRun.run_id)
            ).scalar_one()
        )


def _finish_run(
    conn: Connection,
    run_id: int,
    result: RunResult | None,
    *,
    status: str,
    message: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": _now(), "message": message}
    if result is not None:
        values.update(
            batch_id=result.batch_id,
            extracted=result.total("extracted"),
            inserted=result.total("inserted"),
            updated=result.total("updated"),
            unchanged=result.total("unchanged") + result.total("older"),
            quarantined=result.total("quarantined"),
        )
    conn.execute(update(SyncRun).where(SyncRun.run_id == run_id).values(**values))


def _advance_watermark(
    conn: Connection, interface: Interface, night: dt.date, identifier: str
) -> None:
    _, end = night_interval(night, interface.cutoff)
    current = conn.execute(
        select(Watermark.loaded_through).where(Watermark.interface == interface.name)
    ).scalar()
    if current is None:
        conn.execute(
            insert(Watermark).values(
                interface=interface.name,
                loaded_through=end,
                last_batch_id=identifier,
                updated_at=_now(),
            )
        )
    elif end > current:
        conn.execute(
            update(Watermark)
            .where(Watermark.interface == interface.name)
            .values(loaded_through=end, last_batch_id=identifier, updated_at=_now())
        )


def load_history(
    connectors: Connectors, interface: Interface, before: dt.datetime
) -> dict[str, int]:
    """Copy every source record last changed before `before` into the target.

    What the feed had carried before casesync ran its first night: loaded once,
    just before that night, with no batch file (there was none); a year of
    changes at a time, so a CBSA-scale history stays within the memory goal.
    """
    load_at = before - dt.timedelta(minutes=1)
    target_meta = metadata_for(interface.target_system)
    counts: dict[str, int] = {}
    for stream in interface.streams:
        target = target_meta.tables[stream.target_table]
        counts[stream.name] = 0
        for start, end in _years(before):
            with connectors[interface.source_system].connect() as source:
                records = contract.extract(source, stream, start, end)
            if not records.num_rows:
                continue
            checked = contract.check(
                stream, records, target, load_at=load_at, feed_user=interface.feed_user
            )
            del records
            (outcome,) = _apply(
                connectors[interface.target_system], [(stream, target, checked)], dry_run=False
            )
            counts[stream.name] += outcome.inserted
    return counts


def _years(before: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Year-long intervals covering everything before `before` (all before 1990 in one)."""
    edges = [dt.datetime(1900, 1, 1)] + [dt.datetime(y, 1, 1) for y in range(1990, before.year + 1)]
    edges = [edge for edge in edges if edge < before] + [before]
    return list(itertools.pairwise(edges))
