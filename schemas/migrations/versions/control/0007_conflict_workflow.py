"""two-way conflicts: kind, old value, who wrote each value, the resolution and its application

Revision ID: control_0007
Revises: control_0006
Create Date: 2026-12-02 10:00:00

A conflict keeps what the target held before (`old_value`), which system and
user or run wrote the owner's and the incoming value, the batch and run that
carried it, and the recorded resolution (who, when, why, the value kept) with
the run that applied it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_0007"
down_revision: str | None = "control_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS: tuple[tuple[str, sa.types.TypeEngine[object]], ...] = (
    ("kind", sa.String(length=20)),
    ("stream", sa.String(length=40)),
    ("old_value", sa.Text()),
    ("owner_written_by", sa.String(length=60)),
    ("incoming_written_by", sa.String(length=60)),
    ("incoming_batch_id", sa.String(length=60)),
    ("incoming_run_id", sa.Integer()),
    ("raised_at", sa.DateTime()),
    ("resolution", sa.String(length=10)),
    ("resolved_value", sa.Text()),
    ("resolved_by", sa.String(length=60)),
    ("resolved_at", sa.DateTime()),
    ("resolution_note", sa.Text()),
    ("applied_at", sa.DateTime()),
    ("applied_run_id", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        for name, column_type in COLUMNS:
            batch_op.add_column(sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
