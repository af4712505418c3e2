"""change capture: capture marks, a night's later batches, audit rows name their run

Revision ID: control_0005
Revises: control_0004
Create Date: 2026-12-01 11:40:00

`capture_mark` records, per reader and interval of source time, the change
epoch through which that interval's changes have been carried. A night may
have several batches (its own, then late entries and corrections committed
after it): `batch.sequence` numbers them, `through_epoch` is the epoch the
extraction read through and `applied_at` says the target committed it.
Audit rows name the run that wrote them; reconciliation items keep the
record's source epoch. Existing batches are their night's first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_0005"
down_revision: str | None = "control_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capture_mark",
        sa.Column("reader", sa.String(length=60), nullable=False),
        sa.Column("interval_start", sa.DateTime(), nullable=False),
        sa.Column("interval_end", sa.DateTime(), nullable=False),
        sa.Column("night", sa.Date(), nullable=True),
        sa.Column("through_epoch", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("reader", "interval_start", name=op.f("pk_capture_mark")),
    )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("through_epoch", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(), nullable=True))
        batch_op.drop_constraint("uq_batch_interface_night", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_batch_interface_night_sequence"), ["interface", "night", "sequence"]
        )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.alter_column("sequence", server_default=None)
    op.execute("UPDATE batch SET applied_at = created_at")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("recon_feed_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_epoch", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recon_feed_item", schema=None) as batch_op:
        batch_op.drop_column("version_epoch")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("run_id")
    op.execute("DELETE FROM batch WHERE sequence > 1")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_constraint("uq_batch_interface_night_sequence", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_batch_interface_night"), ["interface", "night"]
        )
        batch_op.drop_column("applied_at")
        batch_op.drop_column("through_epoch")
        batch_op.drop_column("sequence")
    op.drop_table("capture_mark")
