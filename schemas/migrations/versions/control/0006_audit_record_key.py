"""audit rows and quarantine are found by record key (casesync trace)

Revision ID: control_0006
Revises: control_0005
Create Date: 2026-12-01 11:45:00

`casesync trace KEY` looks a record up in the audit log and the quarantine by
its key; without an index that reads a year's audit log whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "control_0006"
down_revision: str | None = "control_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_record_key", ["record_key"], unique=False)
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_record_key", ["record_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_record_key")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_record_key")
