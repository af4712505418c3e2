"""The control database: the pipeline's own state.

Sync runs, the immutable batches they wrote, watermarks, quarantined records
with the rule they broke, an audit row for every record moved, two-way
conflicts, and the validation findings analysts work from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.base import new_metadata


class ControlBase(DeclarativeBase):
    """Tables of the control database."""

    metadata = new_metadata()


class SyncRun(ControlBase):
    """One attempt to run (or replay) an interface for one night."""

    __tablename__ = "sync_run"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interface: Mapped[str] = mapped_column(String(20))
    night: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # run or replay
    status: Mapped[str] = mapped_column(String(10))  # running, succeeded, failed
    batch_id: Mapped[str | None] = mapped_column(String(64))
    extracted: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_sync_run_interface_night", "interface", "night"),)


class Batch(ControlBase):
    """An immutable batch file an interface wrote for one night.

    A night's first batch carries the changes that belong to it; a later run
    that finds changes committed since (late entries, corrections) writes the
    night's next batch (`sequence` 2, 3...). `through_epoch` is the source's
    change epoch the extraction read through; `applied_at` is set once the
    target committed it (a batch recorded but never applied is applied by the
    interface's next run).
    """

    __tablename__ = "batch"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interface: Mapped[str] = mapped_column(String(20))
    night: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    interval_start: Mapped[dt.datetime] = mapped_column(DateTime)
    interval_end: Mapped[dt.datetime] = mapped_column(DateTime)
    path: Mapped[str] = mapped_column(String(400))
    record_count: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    through_epoch: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("interface", "night", "sequence"),)


class CaptureMark(ControlBase):
    """How far a reader has carried the changes of one interval of source time.

    For an interface, one row per night it has extracted (and one for the
    history loaded before its first night): every change whose record time
    falls in [interval_start, interval_end) and whose epoch is at most
    `through_epoch` has been carried. The reconciliation keeps one row per
    source, over all time.
    """

    __tablename__ = "capture_mark"

    reader: Mapped[str] = mapped_column(String(60), primary_key=True)
    interval_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    interval_end: Mapped[dt.datetime] = mapped_column(DateTime)
    night: Mapped[dt.date | None] = mapped_column(Date)
    through_epoch: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Watermark(ControlBase):
    """How far each interface (or reconciliation source, `recon:*`) has read."""

    __tablename__ = "watermark"

    interface: Mapped[str] = mapped_column(String(60), primary_key=True)
    loaded_through: Mapped[dt.datetime] = mapped_column(DateTime)
    last_batch_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Quarantine(ControlBase):
    """A record an interface refused, the rule it broke, and the record as received."""

    __tablename__ = "quarantine"

    quarantine_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    interface: Mapped[str] = mapped_column(String(20))
    night: Mapped[dt.date] = mapped_column(Date, index=True)
    stream: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the record as received, JSON

    __table_args__ = (
        UniqueConstraint("batch_id", "stream", "record_key", "rule"),
        Index("ix_quarantine_record_key", "record_key"),
    )


class AuditLog(ControlBase):
    """One record a batch carried, and what loading it did (inserted, updated, unchanged, older).

    The night, the interface and its systems are the batch's (join `batch` on
    `batch_id`); the target table is the stream's. A batch's audit rows are
    written in one transaction, before its target commits: the first run of
    a batch writes them, and a rerun or replay finds them and adds none.
    """

    __tablename__ = "audit_log"

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))
    #: The run that wrote the row: a batch's first application, or a later one
    #: (a rerun or replay) that inserted or changed the record again.
    run_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_audit_log_batch_id_stream", "batch_id", "stream"),
        Index("ix_audit_log_record_key", "record_key"),  # casesync trace
    )


class Conflict(ControlBase):
    """Two-way mode: a change to a field by a system that does not own it.

    `kind` is `non_owner_change` (a feed carried a change to a field its
    target owns), `non_owner_edit` (the target changed a field the source owns
    since the feed last delivered it, and the feed would overwrite it) or
    `both_changed` (the owner's change met the target's own change to that
    field since the feed last delivered it). `old_value` is the value before
    either change (the target's, or the one the feed last delivered),
    `owner_value` the owner's, `incoming_value` the feed's and `target_value`
    what the target holds; `*_written_by` say which system and user (or run)
    wrote each. A
    resolution (`casesync conflicts resolve`) is recorded with who, when and
    why, and applied to the target by the interface's next run (`applied_*`).
    """

    __tablename__ = "conflict"

    conflict_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interface: Mapped[str] = mapped_column(String(20))
    night: Mapped[dt.date] = mapped_column(Date, index=True)
    target_table: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(40))
    owner_system: Mapped[str] = mapped_column(String(8))
    changed_by_system: Mapped[str] = mapped_column(String(8))
    owner_value: Mapped[str | None] = mapped_column(Text)
    incoming_value: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    kind: Mapped[str | None] = mapped_column(String(20))
    stream: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    owner_written_by: Mapped[str | None] = mapped_column(String(60))
    incoming_written_by: Mapped[str | None] = mapped_column(String(60))
    incoming_batch_id: Mapped[str | None] = mapped_column(String(60))
    incoming_run_id: Mapped[int | None] = mapped_column(Integer)
    raised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str | None] = mapped_column(String(10))  # owner, incoming, value
    resolved_value: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(60))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    applied_run_id: Mapped[int | None] = mapped_column(Integer)
    target_value: Mapped[str | None] = mapped_column(Text)
    target_written_by: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (
        UniqueConstraint("interface", "night", "target_table", "record_key", "field"),
    )


class DeliveredValue(ControlBase):
    """Two-way mode: what a feed last delivered of one record's source-owned fields.

    `field_values` is a JSON object, field -> value as text (`None` for null),
    written with the batch's audit before the target commits; `previous_values`
    is what it held before `batch_id` (a rerun of that batch after a crash
    before the target committed finds the target still at those values). A
    target value that is neither is the target's own edit (connectors/conflicts.py).
    """

    __tablename__ = "delivered_value"

    interface: Mapped[str] = mapped_column(String(20), primary_key=True)
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    field_values: Mapped[str] = mapped_column(Text)
    previous_values: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str] = mapped_column(String(60))
    run_id: Mapped[int | None] = mapped_column(Integer)


class Finding(ControlBase):
    """One failing record for one rule in one validation run (night or full)."""

    __tablename__ = "finding"

    finding_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)  # night:YYYY-MM-DD or full
    night: Mapped[dt.date | None] = mapped_column(Date, index=True)
    system: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(60), index=True)
    severity: Mapped[str] = mapped_column(String(8))  # error or warning
    office_code: Mapped[str | None] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    #: For a rule about two records (two systems, or an order and its stay):
    #: the other one. Either may be the record typed wrong.
    related_system: Mapped[str | None] = mapped_column(String(8))
    related_table: Mapped[str | None] = mapped_column(String(40))
    related_key: Mapped[str | None] = mapped_column(String(64))
    #: Life cycle of the finding's identity (rule + record) across validations:
    #: the night it first failed, the night of this observation, the first later
    #: validation where the record passed again, and its state at this observation
    #: (new, persisting, reopened). Rows are never deleted by later nights.
    first_seen_on: Mapped[dt.date | None] = mapped_column(Date)
    last_seen_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="new")

    __table_args__ = (
        UniqueConstraint("scope", "rule", "system", "table_name", "record_key"),
        Index("ix_finding_record", "system", "table_name", "record_key"),
        Index("ix_finding_identity", "rule", "system", "table_name", "record_key"),
    )


class ValidationRun(ControlBase):
    """One validation (night or full): when, which rules, how many findings, errors."""

    __tablename__ = "validation_run"

    validation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)
    #: The night validated (a full validation: the latest night loaded).
    night: Mapped[dt.date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(10))
    rules_run: Mapped[int] = mapped_column(Integer, default=0)
    rules_failed: Mapped[int] = mapped_column(Integer, default=0)
    rules_errored: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    summary: Mapped[str | None] = mapped_column(Text)  # JSON


# ---------------------------------------------------------------- reconciliation
# Copies of the few columns the cross-system rules compare, refreshed each night
# from the rows each system changed since the last refresh.


class ReconNovaDecision(ControlBase):
    """NOVA final decisions (every division)."""

    __tablename__ = "recon_nova_decision"

    decision_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_number: Mapped[str] = mapped_column(String(16), index=True)
    division: Mapped[str | None] = mapped_column(String(3))
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    outcome_code: Mapped[str | None] = mapped_column(String(3))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class ReconGcmsDecision(ControlBase):
    """GCMS IRB decisions, from the feed or keyed by hand."""

    __tablename__ = "recon_gcms_decision"

    decision_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    irb_file_no: Mapped[str | None] = mapped_column(String(16), index=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    division: Mapped[str | None] = mapped_column(String(3))
    outcome: Mapped[str | None] = mapped_column(String(8))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    received_via: Mapped[str] = mapped_column(String(6))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ReconGcmsClient(ControlBase):
    """The UCIs GCMS holds clients for."""

    __tablename__ = "recon_gcms_client"

    uci: Mapped[str] = mapped_column(String(14), primary_key=True)


class ReconNcmsCase(ControlBase):
    """NCMS removal cases: the UCI each names."""

    __tablename__ = "recon_ncms_case"

    case_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    office_code: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class ReconFeedItem(ControlBase):
    """An item a feed must carry (source side) or did carry (target side), by feed key."""

    __tablename__ = "recon_feed_item"

    interface: Mapped[str] = mapped_column(String(20), primary_key=True)
    side: Mapped[str] = mapped_column(String(6), primary_key=True)  # source or target
    feed_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(40))
    source_table: Mapped[str] = mapped_column(String(40))
    office_code: Mapped[str | None] = mapped_column(String(8))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    #: The source change epoch of the record (source side) or of the version the
    #: target holds (target side): delivered when the target's is not older.
    version_epoch: Mapped[int | None] = mapped_column(BigInteger)
