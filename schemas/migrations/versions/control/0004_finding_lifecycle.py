"""findings keep their identity across nights: first seen, last seen, resolved on, state

Revision ID: control_0004
Revises: control_0003
Create Date: 2026-11-29 10:00:00

A finding's identity is its rule and record. Each row is one validation's
observation of it; the life-cycle columns say when the identity first failed,
the night of this observation, the first later validation where the record
passed again, and whether this observation is new, persisting or reopened.
Validation runs record the night they validated. Existing findings are taken
as first seen on their own night.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "control_0004"
down_revision: str | None = "control_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seen_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("state", sa.String(length=10), nullable=False, server_default="new")
        )
        batch_op.create_index(batch_op.f("ix_finding_last_seen_on"), ["last_seen_on"], unique=False)
        batch_op.create_index(
            "ix_finding_identity", ["rule", "system", "table_name", "record_key"], unique=False
        )
    op.execute("UPDATE finding SET first_seen_on = night, last_seen_on = night")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.alter_column("state", server_default=None)
    with op.batch_alter_table("validation_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("night", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_validation_run_night"), ["night"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("validation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_run_night"))
        batch_op.drop_column("night")
    with op.batch_alter_table("finding", schema=None) as batch_op:
        batch_op.drop_index("ix_finding_identity")
        batch_op.drop_index(batch_op.f("ix_finding_last_seen_on"))
        batch_op.drop_column("state")
        batch_op.drop_column("resolved_on")
        batch_op.drop_column("last_seen_on")
        batch_op.drop_column("first_seen_on")
