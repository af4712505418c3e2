"""audit rows keep the batch, stream, record and action; the rest is the batch's

Revision ID: control_0003
Revises: control_0002
Create Date: 2026-11-28 23:00:00

The night, the interface's systems and the target table were the same on
every row of a batch: they are read from `batch` (and the stream) now, and a
row is a quarter of the size. Rows are no longer unique by key: a batch's
rows are written in one transaction, and a rerun finds them by batch and
stream. Existing rows are copied over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_0003"
down_revision: str | None = "control_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEPT = "batch_id, stream, record_key, action"


def _set_aside(old_pk: str) -> None:
    """Rename the current audit_log out of the way (PostgreSQL names its key's index too)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE audit_log RENAME CONSTRAINT {old_pk} TO {old_pk}_old")
    op.rename_table("audit_log", "audit_log_old")


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_night"))
    _set_aside("pk_audit_log")
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_batch_id_stream", "audit_log", ["batch_id", "stream"], unique=False
    )
    op.execute(
        f"INSERT INTO audit_log ({_KEPT}) SELECT {_KEPT} FROM audit_log_old "
        "ORDER BY batch_id, stream, record_key"
    )
    op.drop_table("audit_log_old")


def downgrade() -> None:
    from schemas.interfaces import INTERFACES

    op.drop_index("ix_audit_log_batch_id_stream", table_name="audit_log")
    _set_aside("pk_audit_log")
    op.create_table(
        "audit_log",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("source_system", sa.String(length=8), nullable=False),
        sa.Column("target_system", sa.String(length=8), nullable=False),
        sa.Column("target_table", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "stream", "record_key", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_night"), ["night"], unique=False)

    def by(name: str, values: dict[str, str]) -> str:
        whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in values.items())
        return f"CASE {name} {whens} END"

    interfaces = INTERFACES.values()
    source = by("b.interface", {i.name: i.source_system for i in interfaces})
    target = by("b.interface", {i.name: i.target_system for i in interfaces})
    table = by("a.stream", {s.name: s.target_table for i in interfaces for s in i.streams})
    op.execute(
        "INSERT INTO audit_log (batch_id, stream, record_key, source_system, target_system, "
        "target_table, action, night) "
        f"SELECT a.batch_id, a.stream, a.record_key, {source}, {target}, {table}, a.action, "
        "b.night FROM audit_log_old a JOIN batch b ON b.batch_id = a.batch_id"
    )
    op.drop_table("audit_log_old")
