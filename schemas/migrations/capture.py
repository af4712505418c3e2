"""The change-capture migration steps shared by the three systems' histories.

Each system's `0002_change_capture` revision names its own tables (frozen in
that revision); the steps are the same for all three.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from connectors import dialect


def upgrade(tables: tuple[str, ...], feed_tables: tuple[str, ...]) -> None:
    """Add `change_epoch` (and `source_epoch` on feed tables), then the epoch and triggers."""
    for table in tables:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("change_epoch", sa.BigInteger(), nullable=True))
            if table in feed_tables:
                batch_op.add_column(sa.Column("source_epoch", sa.BigInteger(), nullable=True))
            batch_op.create_index(
                batch_op.f(f"ix_{table}_change_epoch"), ["change_epoch"], unique=False
            )
    dialect.capture_install(op.get_bind(), list(tables))


def downgrade(tables: tuple[str, ...], feed_tables: tuple[str, ...]) -> None:
    dialect.capture_remove(op.get_bind(), list(tables))
    for table in tables:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_change_epoch"))
            if table in feed_tables:
                batch_op.drop_column("source_epoch")
            batch_op.drop_column("change_epoch")
