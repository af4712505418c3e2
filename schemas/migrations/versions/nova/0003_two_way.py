"""two-way: cases GCMS cleared for the IRB to schedule, as the GCMS feed sends them

Revision ID: nova_0003
Revises: nova_0002
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connectors import dialect

revision: str = "nova_0003"
down_revision: str | None = "nova_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduling_referral",
        sa.Column("referral_ref", sa.String(length=16), nullable=False),
        sa.Column("uci", sa.String(length=14), nullable=True),
        sa.Column("irb_file_no", sa.String(length=16), nullable=True),
        sa.Column("irpa_ground", sa.String(length=10), nullable=True),
        sa.Column("referred_on", sa.Date(), nullable=True),
        sa.Column("office_code", sa.String(length=8), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=False),
        sa.Column("source_epoch", sa.BigInteger(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by", sa.String(length=40), nullable=False),
        sa.Column("change_epoch", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("referral_ref", name=op.f("pk_scheduling_referral")),
    )
    with op.batch_alter_table("scheduling_referral", schema=None) as batch_op:
        for column in ("uci", "irb_file_no", "updated_at", "change_epoch"):
            batch_op.create_index(
                batch_op.f(f"ix_scheduling_referral_{column}"), [column], unique=False
            )
    dialect.capture_add(op.get_bind(), ["scheduling_referral"])


def downgrade() -> None:
    dialect.capture_drop(op.get_bind(), ["scheduling_referral"])
    op.drop_table("scheduling_referral")
