"""longer defect class names: the life-cycle classes (up to 42 characters)

Revision ID: ground_truth_0002
Revises: ground_truth_0001
Create Date: 2026-12-01 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ground_truth_0002"
down_revision: str | None = "ground_truth_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planted_defect", schema=None) as batch_op:
        batch_op.alter_column(
            "defect_class", existing_type=sa.String(length=40), type_=sa.String(length=64)
        )


def downgrade() -> None:
    with op.batch_alter_table("planted_defect", schema=None) as batch_op:
        batch_op.alter_column(
            "defect_class", existing_type=sa.String(length=64), type_=sa.String(length=40)
        )
