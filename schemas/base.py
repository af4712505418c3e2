"""What every system's tables share: typed declarative bases and the entry stamps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, MetaData, String
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
    """Who typed a row, and when (simulated time, naive UTC).

    `updated_at` is indexed: the interfaces extract a night's changes by it.
    """

    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    entered_by: Mapped[str] = mapped_column(String(40))


class FeedStamp(EntryStamp):
    """A row a feed loaded: also the version of the source record it carries.

    A load applies a record only when its `source_updated_at` is not older than
    the row's, so replaying an old batch never undoes a newer one.
    """

    source_updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
