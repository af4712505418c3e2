"""What every system's tables share: typed declarative bases and the entry stamps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, MetaData, String
from sqlalchemy.orm import Mapped, mapped_column

#: Constraint names Alembic can find again on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData with casesync's constraint naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class EntryStamp:
    """Who typed a row, and when (simulated time, naive UTC), and when it was committed.

    `updated_at` is indexed: the interfaces extract a night's changes by it.
    `change_epoch` is the system's change capture (connectors/capture.py): a
    trigger sets it on every insert and update to the database's current
    epoch, so a reader that moved the epoch on knows every change it has not
    seen, whatever `updated_at` the change was typed with. No writer sets it.
    """

    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    entered_by: Mapped[str] = mapped_column(String(40))
    change_epoch: Mapped[int | None] = mapped_column(BigInteger, index=True, default=None)


class FeedStamp(EntryStamp):
    """A row a feed loaded: also the version of the source record it carries.

    `source_updated_at` is when the source record last changed (simulated
    time); `source_epoch` is the source's change epoch of that version. A load
    applies a record only when its `source_epoch` is not older than the row's,
    so replaying an old batch never undoes a newer one, and a correction typed
    with an earlier time than the row's still wins (it was committed later).
    """

    source_updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source_epoch: Mapped[int | None] = mapped_column(BigInteger, default=None)
