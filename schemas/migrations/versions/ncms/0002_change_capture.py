"""change capture: an epoch column on every table, stamped by a trigger

Revision ID: ncms_0002
Revises: ncms_0001
Create Date: 2026-12-01 11:30:00

Every row carries the change epoch it was committed in (`change_epoch`,
indexed), set by a trigger on each insert and update; the database's current
epoch is the one row of `capture_epoch`. A reader (an interface, the
reconciliation) moves the epoch on and then knows every change it has not yet
seen, whatever time the change was typed with. Existing rows get epoch 1.
Feed rows also keep the source epoch of the record they hold (`source_epoch`),
the version a load compares.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.migrations import capture

revision: str = "ncms_0002"
down_revision: str | None = "ncms_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES: tuple[str, ...] = (
    "detention",
    "irb_outcome",
    "legal_matter",
    "office",
    "travel_doc_info",
    "detention_review",
    "officer",
    "removal_case",
    "case_activity",
    "case_impediment",
    "interview",
    "td_request",
    "warrant",
)
FEED_TABLES: tuple[str, ...] = ("irb_outcome", "legal_matter", "travel_doc_info")


def upgrade() -> None:
    capture.upgrade(TABLES, FEED_TABLES)


def downgrade() -> None:
    capture.downgrade(TABLES, FEED_TABLES)
