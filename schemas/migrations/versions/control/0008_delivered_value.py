"""two-way: the value each feed last delivered of every record's source-owned fields

Revision ID: control_0008
Revises: control_0007
Create Date: 2026-12-03 09:00:00

A target's own edit of a field its source owns is found by comparing the
target with what the feed last delivered (`delivered_value`); a conflict
keeps the target's value and who wrote it (`target_value`, `target_written_by`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_0008"
down_revision: str | None = "control_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivered_value",
        sa.Column("interface", sa.String(length=20), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("field_values", sa.Text(), nullable=False),
        sa.Column("previous_values", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(length=60), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint(
            "interface", "stream", "record_key", name=op.f("pk_delivered_value")
        ),
    )
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_value", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("target_written_by", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.drop_column("target_written_by")
        batch_op.drop_column("target_value")
    op.drop_table("delivered_value")
