"""The control database: the pipeline's own state.

Sync runs, the immutable batches they wrote, watermarks, quarantined records
with the rule they broke, an audit row for every record moved, two-way
conflicts, and the validation findings analysts work from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
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
    """An immutable batch file written for one interface and one night."""

    __tablename__ = "batch"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interface: Mapped[str] = mapped_column(String(20))
    night: Mapped[dt.date] = mapped_column(Date)
    interval_start: Mapped[dt.datetime] = mapped_column(DateTime)
    interval_end: Mapped[dt.datetime] = mapped_column(DateTime)
    path: Mapped[str] = mapped_column(String(400))
    record_count: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("interface", "night"),)


class Watermark(ControlBase):
    """How far each interface has loaded: the end of the latest night applied."""

    __tablename__ = "watermark"

    interface: Mapped[str] = mapped_column(String(20), primary_key=True)
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

    __table_args__ = (UniqueConstraint("batch_id", "stream", "record_key", "rule"),)


class AuditLog(ControlBase):
    """One record moved: from where, to where, in which batch, and what it did."""

    __tablename__ = "audit_log"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_system: Mapped[str] = mapped_column(String(8))
    target_system: Mapped[str] = mapped_column(String(8))
    target_table: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))  # inserted, updated, unchanged
    night: Mapped[dt.date] = mapped_column(Date, index=True)


class Conflict(ControlBase):
    """Two-way mode: a change to a field by a system that does not own it."""

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

    __table_args__ = (
        UniqueConstraint("interface", "night", "target_table", "record_key", "field"),
    )


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

    __table_args__ = (
        UniqueConstraint("scope", "rule", "system", "table_name", "record_key"),
        Index("ix_finding_record", "system", "table_name", "record_key"),
    )


class ValidationRun(ControlBase):
    """One validation (night or full): when, which rules, how many findings, errors."""

    __tablename__ = "validation_run"

    validation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(10))
    rules_run: Mapped[int] = mapped_column(Integer, default=0)
    rules_failed: Mapped[int] = mapped_column(Integer, default=0)
    rules_errored: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    summary: Mapped[str | None] = mapped_column(Text)  # JSON
