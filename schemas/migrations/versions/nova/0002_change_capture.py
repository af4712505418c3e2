"""change capture: an epoch column on every table, stamped by a trigger

Revision ID: nova_0002
Revises: nova_0001
Create Date: 2026-12-01 11:30:00

Every row carries the change epoch it was committed in (`change_epoch`,
indexed), set by a trigger on each insert and update; the database's current
epoch is the one row of `capture_epoch`. A reader (an interface, the
reconciliation) moves the epoch on and then knows every change it has not yet
seen, whatever time the change was typed with. Existing rows get epoch 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.migrations import capture

revision: str = "nova_0002"
down_revision: str | None = "nova_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = ("party", "case_file", "decision", "filing", "hearing")
FEED_TABLES: tuple[str, ...] = ()


def upgrade() -> None:
    capture.upgrade(TABLES, FEED_TABLES)


def downgrade() -> None:
    capture.downgrade(TABLES, FEED_TABLES)
