"""Run an interface for one night: capture its changes, write the batch, load it.

The order of writes is what makes a run safe to kill, to rerun and to run in
any order with other nights:

1. the source's change epoch is closed and the night's changes are read in
   one snapshot (connectors/capture.py): its own records the first time, and
   every change committed since an earlier extraction of it or of an earlier
   night (late entries, corrections, joined rows);
2. those changes are written once, atomically, as the night's next batch,
   recorded in the control database together with the capture marks;
3. every recorded batch not yet applied (a run killed after step 2), and the
   night's batches, are applied (connectors/load.py): upserted by key in one
   transaction that compares source epochs, so an older batch never undoes a
   newer one and an unchanged record is not touched, with the audit and the
   quarantine written before the target commits;
4. the run is marked finished and the watermark moves.

A replay applies the night's stored batches again, after checking them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from connectors import batches, capture, conflicts, contract, dialect, edits, faults, load
from connectors.capture import utc_now as _now
from connectors.load import StreamResult
from schemas.calendar import night_interval
from schemas.control import Batch, SyncRun, Watermark
from schemas.errors import BatchIntegrityError, CasesyncError, PipelineCheckFailed, RunInProgress

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa
    from sqlalchemy.engine import Connection, Row

    from connectors import Connectors
    from schemas.interfaces import Interface

__all__ = ["RunResult", "StreamResult", "batch_id", "load_history", "run_interface"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """One interface, one night: what every batch the run applied did, per stream."""

    interface: str
    night: dt.date
    batch_id: str  # the night's newest batch
    batch_path: str
    kind: str  # run, replay or dry-run
    streams: list[StreamResult]
    seconds: float = 0.0
    reused_batch: bool = False  # no new batch was written: nothing had changed
    batch_ids: list[str] = field(default_factory=list)  # every batch applied, in order
    resolutions_applied: int = 0  # two-way: conflict resolutions written into the target
    edits_queued: int = 0  # two-way: target edits of records not re-sent, queued (connectors/edits)

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
            "batch_ids": self.batch_ids,
            "kind": self.kind,
            "reused_batch": self.reused_batch,
            "seconds": round(self.seconds, 3),
            **{
                k: self.total(k)
                for k in (
                    "extracted",
                    "inserted",
                    "updated",
                    "unchanged",
                    "older",
                    "quarantined",
                    "held",
                    "conflicts",
                )
            },
            "resolutions_applied": self.resolutions_applied,
            "edits_queued": self.edits_queued,
            "streams": [s.as_dict() for s in self.streams],
        }


def batch_id(interface: str, night: dt.date, sequence: int = 1) -> str:
    """`<interface>:<night>` for a night's first batch, `...:<n>` for its n-th."""
    base = f"{interface}:{night.isoformat()}"
    return base if sequence == 1 else f"{base}:{sequence}"


def run_interface(
    connectors: Connectors,
    batch_root: Path,
    interface: Interface,
    night: dt.date,
    *,
    replay: bool = False,
    dry_run: bool = False,
    check: Callable[[RunResult], None] | None = None,
    two_way: bool = False,
) -> RunResult:
    """Run (or replay, or preview) one interface for one night.

    `two_way`: changes to fields the target owns are held as conflicts, and
    the resolutions recorded since the last run are applied first
    (connectors/conflicts.py).

    `check` runs once the target committed (the quarantine share): when it or
    a check before the commit fails, or a batch does not verify, the run is
    recorded as `blocked` (a retry cannot fix it) and the error raised.
    """
    started = time.perf_counter()
    kind = "dry-run" if dry_run else ("replay" if replay else "run")
    # one run of an interface at a time: the capture marks are the interface's, not a night's
    with dialect.exclusive_lock(
        connectors.control.engine, f"sync-{interface.name}", wait=False
    ) as held:
        if not held:
            raise RunInProgress(
                f"{interface.name} is already running in another process (night {night} "
                "waits for it); nothing was done, run it again when that run has finished"
            )
        run_id = None if dry_run else _start_run(connectors, interface, night, kind)
        try:
            result = _run(connectors, batch_root, interface, night, kind, run_id, two_way)
            result.seconds = time.perf_counter() - started
            if check is not None:
                check(result)
        except BaseException as exc:
            if run_id is not None:
                blocked = isinstance(exc, (PipelineCheckFailed, BatchIntegrityError))
                with connectors.control.begin() as conn:
                    _finish_run(
                        conn, run_id, None, status="blocked" if blocked else "failed",
                        message=str(exc)[:2000],
                    )  # fmt: skip
            log.error("%s night %s: %s failed: %s", interface.name, night, kind, exc)
            raise
        if run_id is not None:
            with connectors.control.begin() as conn:
                _finish_run(conn, run_id, result, status="succeeded")
                _advance_watermark(conn, interface, night, result.batch_id)
            faults.point("after_finish")
        log.info(
            "%s night %s: %s done in %.2f s: %d extracted, %d inserted, %d updated, "
            "%d unchanged, %d older, %d quarantined, batches %s",
            interface.name, night, kind, result.seconds, result.total("extracted"),
            result.total("inserted"), result.total("updated"), result.total("unchanged"),
            result.total("older"), result.total("quarantined"), ", ".join(result.batch_ids),
        )  # fmt: skip
        return result


def _run(
    connectors: Connectors,
    batch_root: Path,
    interface: Interface,
    night: dt.date,
    kind: str,
    run_id: int | None,
    two_way: bool = False,
) -> RunResult:
    new = None
    resolved = 0
    if kind == "run" and two_way:
        resolved = conflicts.apply_resolutions(connectors, interface, run_id)
    if kind == "run":
        todo = _unapplied(connectors, interface)
        new = _capture(connectors, batch_root, interface, night)
        todo += [row for row in _stored(connectors, interface, night) if row not in todo]
    else:
        todo = _stored(connectors, interface, night)
        if not todo:
            raise CasesyncError(
                f"no stored batch for {interface.name} night {night}: "
                f"run `casesync sync --night {night}` first"
            )
    totals = [StreamResult(s.name, s.target_table) for s in interface.streams]
    for row in todo:
        path = Path(row.path)
        manifest = batches.verify(path, row.checksum)
        applying = load.Applying(
            row.batch_id, interface, row.night, batches.read(path, manifest), run_id,
            reapplied=row.applied_at is not None, two_way=two_way,
        )  # fmt: skip
        outcome = load.apply_batch(connectors, applying, dry_run=kind == "dry-run")
        for total, part in zip(totals, outcome, strict=True):
            total.add(part)
        if kind != "dry-run" and row.applied_at is None:
            with connectors.control.begin() as conn:
                conn.execute(
                    update(Batch).where(Batch.batch_id == row.batch_id).values(applied_at=_now())
                )
        log.info(
            "%s night %s: batch %s applied (%s): %s", interface.name, night, row.batch_id, kind,
            ", ".join(f"{r.name} {r.extracted}/{r.inserted}+{r.updated}" for r in outcome),
        )  # fmt: skip
    # two-way: the target's edits of records the feed did not re-send (the loads met the rest)
    found = edits.sweep(connectors, interface, night, run_id) if kind == "run" and two_way else 0
    newest = [row for row in todo if row.night == night]
    last = newest[-1] if newest else todo[-1]
    return RunResult(
        interface.name,
        night,
        last.batch_id,
        last.path,
        kind,
        totals,
        reused_batch=new is None,
        batch_ids=[row.batch_id for row in todo],
        resolutions_applied=resolved,
        edits_queued=found,
    )


def _stored(connectors: Connectors, interface: Interface, night: dt.date) -> list[Row[Any]]:
    """The night's recorded batches, in order."""
    with connectors.control.connect() as conn:
        return list(
            conn.execute(
                _batch_rows().where(Batch.interface == interface.name, Batch.night == night)
            )
        )


def _unapplied(connectors: Connectors, interface: Interface) -> list[Row[Any]]:
    """Batches recorded but never applied (their run was killed), oldest first."""
    with connectors.control.connect() as conn:
        return list(
            conn.execute(
                _batch_rows().where(Batch.interface == interface.name, Batch.applied_at.is_(None))
            )
        )


def _batch_rows() -> Any:
    return select(
        Batch.batch_id, Batch.night, Batch.sequence, Batch.path, Batch.checksum, Batch.applied_at
    ).order_by(Batch.night, Batch.sequence)


def _capture(
    connectors: Connectors, batch_root: Path, interface: Interface, night: dt.date
) -> Row[Any] | None:
    """Extract the night's changes and record them as its next batch (None: nothing new)."""
    started = time.perf_counter()
    interval = night_interval(night, interface.cutoff)
    with connectors.control.connect() as conn:
        known = capture.marks(conn, interface.name)
    _refuse_overlap(interface, night, interval, known)
    source = connectors[interface.source_system]
    with source.begin() as conn:
        through = dialect.advance_epoch(conn)
    read = capture.window(known, *interval, through)
    tables = _extract(source.engine, interface, read, night)
    faults.point("after_extract")
    count = sum(table.num_rows for table in tables.values())
    if not read.own_is_new and count == 0:
        with connectors.control.begin() as conn:
            capture.save_marks(conn, interface.name, read, night, _now())
        log.info("%s night %s: no change since epoch %d", interface.name, night, through)
        return None
    from schemas.interfaces import SCHEMA_VERSION

    with connectors.control.connect() as conn:
        sequence = 1 + int(
            conn.execute(
                select(func.coalesce(func.max(Batch.sequence), 0)).where(
                    Batch.interface == interface.name, Batch.night == night
                )
            ).scalar_one()
        )
    path, manifest = batches.write(
        batch_root, interface.name, night, interval, SCHEMA_VERSION, tables,
        sequence=sequence, through_epoch=through,
    )  # fmt: skip
    batches.verify(path)
    faults.point("after_batch_written")
    identifier = batch_id(interface.name, night, sequence)
    with connectors.control.begin() as conn:
        conn.execute(
            insert(Batch).values(
                batch_id=identifier, interface=interface.name, night=night, sequence=sequence,
                interval_start=interval[0], interval_end=interval[1], path=str(path),
                record_count=manifest.record_count, checksum=manifest.checksum,
                schema_version=manifest.schema_version, created_at=_now(), through_epoch=through,
            )
        )  # fmt: skip
        capture.save_marks(conn, interface.name, read, night, _now())
    log.info(
        "%s night %s: batch %s written in %.2f s: %d records through epoch %d",
        interface.name, night, identifier, time.perf_counter() - started, count, through,
    )  # fmt: skip
    with connectors.control.connect() as conn:
        return conn.execute(_batch_rows().where(Batch.batch_id == identifier)).one()


def _refuse_overlap(
    interface: Interface,
    night: dt.date,
    interval: tuple[dt.datetime, dt.datetime],
    known: list[capture.Mark],
) -> None:
    """A night inside an interval already extracted another way (the history) cannot run."""
    for mark in known:
        if mark.start != interval[0] and mark.start < interval[1] and interval[0] < mark.end:
            what = "the history loaded before the first night" if mark.night is None else mark.night
            raise CasesyncError(
                f"{interface.name} night {night} falls inside {what} "
                f"({mark.start} to {mark.end} UTC), already carried; nothing was done"
            )


def _extract(
    engine: Any, interface: Interface, read: capture.Window, night: dt.date
) -> dict[str, pa.Table]:
    """Every stream's records of the window, from one snapshot of the source."""
    requests, parts = [], []
    for stream in interface.streams:
        for part, statement in (
            ("own", capture.own_statement(stream, read)),
            ("late", capture.late_statement(stream, read)),
        ):
            if statement is not None:
                requests.append((stream, statement))
                parts.append((stream.name, part))
    found: dict[str, dict[str, pa.Table]] = {s.name: {} for s in interface.streams}
    for (name, part), (table, counted) in zip(
        parts, contract.extract(engine, requests), strict=True
    ):
        if table.num_rows != counted:
            raise CasesyncError(
                f"{interface.name} night {night}: stream {name} extracted "
                f"{table.num_rows} records but the source counts {counted}"
            )
        found[name][part] = capture.keep_late(table, read) if part == "late" else table
    tables = {}
    for stream in interface.streams:
        own, late = found[stream.name].get("own"), found[stream.name].get("late")
        if own is None and late is None:
            own = contract.empty(stream)
        tables[stream.name] = capture.combine(own, late)
    return tables


def _start_run(connectors: Connectors, interface: Interface, night: dt.date, kind: str) -> int:
    with connectors.control.begin() as conn:
        conn.execute(
            update(SyncRun)
            .where(SyncRun.interface == interface.name, SyncRun.status == "running")
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
    connectors: Connectors, interface: Interface, before: dt.datetime, *, two_way: bool = False
) -> dict[str, int]:
    """Copy every source record last changed before `before` into the target.

    What the feed had carried before casesync ran its first night: loaded once,
    just before that night, with no batch file (there was none); a year of
    changes at a time, so a CBSA-scale history stays within the memory goal.
    `two_way`: what it delivers is recorded (connectors/conflicts.py), so a
    target's later edit of a history record is found too.
    Rejected records are quarantined (batch `<interface>:history`). The
    history's capture mark then says every change before `before` up to the
    closed epoch was carried: a later change typed with an older time is a
    late change the next night carries.
    """
    identifier = f"{interface.name}:history"
    source = connectors[interface.source_system]
    with source.begin() as conn:
        through = dialect.advance_epoch(conn)
    counts: dict[str, int] = {s.name: 0 for s in interface.streams}
    night = before.date()
    for start, end in _years(before):
        read = capture.Window(start, end, through)
        requests = [(s, capture.own_statement(s, read)) for s in interface.streams]
        extracted = contract.extract(source.engine, requests)  # type: ignore[arg-type]
        records = {
            s.name: table for s, (table, _) in zip(interface.streams, extracted, strict=True)
        }
        if not any(table.num_rows for table in records.values()):
            continue
        applying = load.Applying(
            identifier, interface, night, records, audit=False, two_way=two_way
        )
        for stream, outcome in zip(
            interface.streams, load.apply_batch(connectors, applying), strict=True
        ):
            counts[stream.name] += outcome.inserted
    with connectors.control.begin() as conn:
        whole = capture.Window(capture.HISTORY_START, before, through)
        capture.save_marks(conn, interface.name, whole, None, _now())
    log.info("%s history before %s loaded: %s", interface.name, before, counts)
    return counts


def _years(before: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Year-long intervals covering everything before `before` (all before 1990 in one)."""
    edges = [capture.HISTORY_START] + [dt.datetime(y, 1, 1) for y in range(1990, before.year + 1)]
    edges = [edge for edge in edges if edge < before] + [before]
    return list(itertools.pairwise(edges))
