"""Apply one verified batch to its target: stage, classify, upsert, audit, in one transaction.

A kill at any point leaves the target as before or as after (one
transaction). The audit rows and quarantined records go to the control
database before the target commits; a batch's first application writes an
audit row for every record, a later one (a rerun, a replay) only for the
records it inserted or changed again, so every record any run applied has one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import and_, case, false, func, insert, literal, or_, select

from connectors import arrow_io, conflicts, contract, dialect, faults
from schemas import metadata_for
from schemas.control import AuditLog, Quarantine
from schemas.errors import PipelineCheckFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from connectors import Connectors
    from connectors.base import Connector
    from connectors.conflicts import Held
    from schemas.interfaces import Interface, Stream

#: Columns the feed never compares (bookkeeping), and those it writes on insert only.
BOOKKEEPING = (
    "entered_at",
    "updated_at",
    "entered_by",
    "source_updated_at",
    "source_epoch",
    "change_epoch",
)
INSERT_ONLY = ("entered_at", "entered_by")
#: The version a load compares: the source's change epoch of the record.
VERSION = "source_epoch"


@dataclass
class StreamResult:
    """What one stream of a run did to its target table."""

    name: str
    target_table: str
    extracted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # records older than the target's version: not applied
    quarantined: int = 0
    #: Two-way: changes to target-owned fields held back (conflicts), and those newly queued.
    held: int = 0
    conflicts: int = 0
    diff: list[dict[str, Any]] = field(default_factory=list)  # dry runs only
    actions: dict[str, str] = field(default_factory=dict, repr=False)  # key -> action
    holds: list[Held] = field(default_factory=list, repr=False)
    #: Two-way: what the batch delivers of each record's source-owned fields (conflicts.deliver).
    deliveries: list[Any] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        hidden = ("actions", "diff", "holds", "deliveries")
        shown = {k: v for k, v in vars(self).items() if k not in hidden}
        if self.diff:
            shown["diff"] = self.diff
        return shown

    @property
    def accounted(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.older + self.quarantined

    def add(self, other: StreamResult) -> None:
        """Fold another batch's result for the same stream into this one."""
        for name in (
            "extracted", "inserted", "updated", "unchanged", "older", "quarantined", "held",
            "conflicts",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.diff.extend(other.diff)


@dataclass(frozen=True)
class Applying:
    """One batch on its way into the target."""

    batch_id: str
    interface: Interface
    night: dt.date
    records: dict[str, pa.Table]
    run_id: int | None = None
    #: True when the target committed this batch before (a rerun, a replay).
    reapplied: bool = False
    #: False for the history load: its records are quarantined but not audited one by one.
    audit: bool = True
    #: Two-way mode: changes to fields the target owns are held as conflicts.
    two_way: bool = False


def apply_batch(
    connectors: Connectors, batch: Applying, *, dry_run: bool = False
) -> list[StreamResult]:
    """Check the batch against the contract and load it into the target in one transaction."""
    interface = batch.interface
    target_meta = metadata_for(interface.target_system)
    checked = {
        stream.name: contract.check(
            stream,
            batch.records[stream.name],
            target_meta.tables[stream.target_table],
            cutoff=interface.cutoff,
            feed_user=interface.feed_user,
        )
        for stream in interface.streams
    }

    def before_commit(results: list[StreamResult]) -> None:
        for stream, result in zip(interface.streams, results, strict=True):
            result.extracted = batch.records[stream.name].num_rows
            result.quarantined = len(checked[stream.name].rejections)
        _check_counts(batch, results)
        if not dry_run:
            record(connectors, batch, checked, results)

    from schemas.ownership import target_owned

    return apply(
        connectors[interface.target_system],
        [(s, target_meta.tables[s.target_table], checked[s.name]) for s in interface.streams],
        dry_run=dry_run,
        before_commit=before_commit,
        guarded={s.name: target_owned(s) for s in interface.streams} if batch.two_way else None,
        watched=_watched(connectors, batch, checked) if batch.two_way else None,
    )


def _watched(
    connectors: Connectors, batch: Applying, checked: dict[str, contract.Checked]
) -> dict[str, conflicts.Watch]:
    """Per stream, its source-owned fields and what the feed last delivered of its records."""
    from schemas.ownership import source_owned

    watches = {}
    with connectors.control.connect() as conn:
        for stream in batch.interface.streams:
            rows = checked[stream.name].rows
            keys = [str(k) for k in rows.column(stream.target_key).to_pylist()]
            watches[stream.name] = conflicts.Watch(
                source_owned(stream),
                conflicts.delivered(conn, batch.interface, stream, keys),
                batch.batch_id,
            )
    return watches


def _check_counts(batch: Applying, results: list[StreamResult]) -> None:
    """Every record of the batch loaded, unchanged, older or quarantined: else nothing commits."""
    failed = {
        f"counts_reconcile:{r.name}": (
            f"{r.extracted} extracted, {r.accounted} loaded or quarantined"
        )
        for r in results
        if r.accounted != r.extracted
    }
    if failed:
        raise PipelineCheckFailed(f"{batch.interface.name} batch {batch.batch_id}", failed)


def apply(
    target_connector: Connector,
    loads: list[tuple[Stream, Table, contract.Checked]],
    *,
    dry_run: bool,
    before_commit: Callable[[list[StreamResult]], None] | None = None,
    guarded: dict[str, list[str]] | None = None,
    watched: dict[str, conflicts.Watch] | None = None,
) -> list[StreamResult]:
    """Stage every stream's rows, then upsert them into the target in one transaction.

    `before_commit` runs after the upserts and before the target commits (the
    run's checks and audit); a dry run rolls everything back after it.
    `guarded` (two-way mode): per stream, the target-owned fields whose changes
    are held as conflicts (connectors/conflicts.py) instead of applied;
    `watched`: per stream, the source-owned fields whose target-side edits
    since the feed last delivered them are held the same way.
    """
    staged_rows = {stream.name: (target, checked.rows) for stream, target, checked in loads}
    with (
        target_connector.connect(writes=True) as conn,
        arrow_io.staging(conn, staged_rows) as staged,
    ):
        transaction = conn.begin()
        try:
            results = []
            for stream, target, _ in loads:
                stage = staged(stream.name)
                holds = []
                if guarded and guarded.get(stream.name):
                    holds = conflicts.hold(
                        conn, stream, target, stage, guarded[stream.name], VERSION
                    )
                deliveries: list[Any] = []
                if watched and watched.get(stream.name):
                    edits, deliveries = conflicts.hold_edits(
                        conn, stream, target, stage, watched[stream.name], VERSION
                    )
                    holds += edits
                result = _load_stream(conn, stream, target, stage, dry_run=dry_run)
                result.holds, result.held, result.deliveries = holds, len(holds), deliveries
                results.append(result)
                faults.point("after_upsert")
            if before_commit is not None:
                before_commit(results)
            if dry_run:
                transaction.rollback()
            else:
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
    compared = [c.name for c in target.columns if c.name not in BOOKKEEPING and c.name != key]

    def differs_in(names: list[str]) -> list[Any]:
        return [stage.c[name].is_distinct_from(target.c[name]) for name in names]

    differs = or_(*differs_in(compared))
    action = case(
        (target.c[key].is_(None), literal("inserted")),
        (stage.c[VERSION] < func.coalesce(target.c[VERSION], -1), literal("older")),
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
    counted = Counter(row[1] for row in rows)
    for name in ("inserted", "updated", "unchanged", "older"):
        setattr(result, name, counted.get(name, 0))
    result.actions = {row[0]: row[1] for row in rows}
    if dry_run:
        result.diff = _diff(conn, stage, target, key, compared, result.actions)
    else:
        dialect.upsert_from(
            conn, target, stage, key=key, keep=INSERT_ONLY, version=VERSION,
            compared=compared, index_changes=any(row[2] for row in rows),
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
                    {"key": k, "action": "added", "after": {c: show(after[k][c]) for c in compared}}
                )
                continue
            fields = {
                c: {"before": show(before[k][c]), "after": show(after[k][c])}
                for c in compared
                if before[k][c] != after[k][c]
            }
            entries.append({"key": k, "action": "changed", "fields": fields})
    return entries


def show(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def record(
    connectors: Connectors,
    batch: Applying,
    checked: dict[str, contract.Checked],
    results: list[StreamResult],
) -> None:
    """Audit the batch's records and quarantine the rejected ones, in one control transaction.

    A batch's first application audits every record (a rerun after a crash
    before the target committed finds those rows and adds none: they describe
    what it does too); an application after the batch was committed (a rerun,
    a replay) audits the records it inserted or changed again, so a replay
    that restored a record leaves its trace. Quarantine rows are kept once
    per batch, record and rule.
    """
    interface = batch.interface
    audits = {}
    for stream, result in zip(interface.streams, results, strict=True):
        actions = result.actions
        audits[stream.name] = (
            AuditLog.__table__,
            pa.table(
                {
                    "record_key": pa.array([str(k) for k in actions], type=pa.string()),
                    "action": pa.array(list(actions.values()), type=pa.string()),
                }
            ),
        )
    control = connectors.control
    with (
        control.connect(writes=True) as conn,
        arrow_io.staging(conn, audits) as staged,  # type: ignore[arg-type]
        conn.begin(),
    ):
        for stream in interface.streams:
            stage = staged(stream.name)
            rows = select(
                literal(batch.batch_id),
                literal(stream.name),
                stage.c.record_key,
                stage.c.action,
                literal(batch.run_id),
            )
            if batch.reapplied:
                rows = rows.where(stage.c.action.in_(("inserted", "updated")))
            elif _audited(conn, batch.batch_id, stream.name):
                rows = rows.where(false())
            if batch.audit:
                conn.execute(
                    insert(AuditLog).from_select(
                        ["batch_id", "stream", "record_key", "action", "run_id"], rows
                    )
                )
            quarantine(conn, batch.batch_id, interface, batch.night, stream, checked[stream.name])
        for stream, result in zip(interface.streams, results, strict=True):
            result.conflicts = conflicts.queue(
                conn, interface, stream, batch.night, batch.batch_id, batch.run_id, result.holds
            )
            conflicts.deliver(
                conn, interface, stream, batch.batch_id, batch.run_id, result.deliveries
            )
    faults.point("after_audit")


def _audited(conn: Connection, batch_id: str, stream: str) -> bool:
    found = conn.execute(
        select(AuditLog.audit_id)
        .where(AuditLog.batch_id == batch_id, AuditLog.stream == stream)
        .limit(1)
    ).first()
    return found is not None


def quarantine(
    conn: Connection,
    batch_id: str,
    interface: Interface,
    night: dt.date,
    stream: Stream,
    checked: contract.Checked,
) -> None:
    """Keep the stream's rejected records (those not kept by an earlier run of the batch)."""
    rejected = checked.rejections
    if not rejected:
        return
    existing = set(
        conn.execute(
            select(Quarantine.record_key, Quarantine.rule).where(
                Quarantine.batch_id == batch_id, Quarantine.stream == stream.name
            )
        ).tuples()
    )
    fresh = [r for r in rejected if (r.record_key, r.rule) not in existing]
    if fresh:
        conn.execute(
            insert(Quarantine),
            [
                {
                    "batch_id": batch_id, "interface": interface.name, "night": night,
                    "stream": stream.name, "record_key": r.record_key, "rule": r.rule,
                    "reason": r.reason, "payload": r.payload,
                }
                for r in fresh
            ],
        )  # fmt: skip
