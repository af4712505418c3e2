"""Content fingerprints of tables: the same rows give the same digest on any backend."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from schemas import metadata_for

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


#: Change-capture bookkeeping: which epoch a row was committed in, and its source's. They
#: depend on when readers closed epochs, not on the content; digests leave them out.
CAPTURE_COLUMNS = frozenset({"change_epoch", "source_epoch"})


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def table_digest(conn: Connection, table: Table, *, exclude: frozenset[str] = frozenset()) -> str:
    """SHA-256 of a table's rows in primary-key order (columns in `exclude` left out)."""
    columns = [c for c in table.columns if c.name not in exclude]
    digest = hashlib.sha256()
    statement = select(*columns).order_by(*table.primary_key.columns)
    for row in conn.execute(statement):
        digest.update("\x1f".join(_text(v) for v in row).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def database_digests(
    conn: Connection, database: str, *, exclude: frozenset[str] = CAPTURE_COLUMNS
) -> dict[str, str]:
    """Digest of every table of one database (the capture bookkeeping left out)."""
    return {
        name: table_digest(conn, table, exclude=exclude)
        for name, table in sorted(metadata_for(database).tables.items())
    }
