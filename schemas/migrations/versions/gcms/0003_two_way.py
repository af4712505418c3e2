"""two-way: the NCMS feed's removal cases, versions on warrants and departure confirmations

Revision ID: gcms_0003
Revises: gcms_0002
Create Date: 2026-12-02 10:00:00

`enforcement_case` holds NCMS's triage and review decisions and removal
information as the NCMS feed sends them (two-way mode), with its capture
trigger. Warrants and departure confirmations, which that feed also loads,
keep the version of the NCMS record they hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connectors import dialect

revision: str = "gcms_0003"
down_revision: str | None = "gcms_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enforcement_case",
        sa.Column("case_no", sa.String(length=16), nullable=False),
        sa.Column("uci", sa.String(length=14), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("office_code", sa.String(length=8), nullable=True),
        sa.Column("inventory", sa.String(length=8), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("case_status", sa.String(length=8), nullable=True),
        sa.Column("last_review_on", sa.Date(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removal_confirmation", sa.String(length=8), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(), nullable=False),
        sa.Column("source_epoch", sa.BigInteger(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by", sa.String(length=40), nullable=False),
        sa.Column("change_epoch", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_enforcement_case")),
    )
    with op.batch_alter_table("enforcement_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enforcement_case_uci"), ["uci"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enforcement_case_updated_at"), ["updated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enforcement_case_change_epoch"), ["change_epoch"], unique=False
        )
    with op.batch_alter_table("warrant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_epoch", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("departure_confirmation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_updated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("source_epoch", sa.BigInteger(), nullable=True))
    dialect.capture_add(op.get_bind(), ["enforcement_case"])


def downgrade() -> None:
    dialect.capture_drop(op.get_bind(), ["enforcement_case"])
    with op.batch_alter_table("departure_confirmation", schema=None) as batch_op:
        batch_op.drop_column("source_epoch")
        batch_op.drop_column("source_updated_at")
    with op.batch_alter_table("warrant", schema=None) as batch_op:
        batch_op.drop_column("source_epoch")
    op.drop_table("enforcement_case")
