"""Bulk writes into the systems' databases: the simulator's sink, and the batch loader's.

Rows go in through the dialect module's bulk paths (executemany on SQLite,
COPY on PostgreSQL), which write values exactly as SQLAlchemy would.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from connectors import dialect
from schemas import metadata_for

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from connectors import Connectors

_CHUNK = 20_000


def table_of(database: str, table: str) -> Table:
    return metadata_for(database).tables[table]


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (missing columns as NULL) in chunks."""
    for start in range(0, len(rows), _CHUNK):
        dialect.bulk_insert(conn, table, rows[start : start + _CHUNK])


def update_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Update rows by primary key; rows changing the same columns go in one executemany."""
    keys = [column.name for column in table.primary_key.columns]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        changed = tuple(sorted(name for name in row if name not in keys))
        if changed:
            groups[changed].append(row)
    for changed, group in groups.items():
        for start in range(0, len(group), _CHUNK):
            dialect.bulk_update(conn, table, keys, list(changed), group[start : start + _CHUNK])


class DatabaseSink:
    """Writes the simulator's ledger into the databases.

    Commits once enough rows have gone in (a commit per simulated day would
    cost more than the day's writes), and always on `finish`.
    """

    def __init__(self, connectors: Connectors, *, commit_rows: int = 250_000) -> None:
        self._connectors = connectors
        self._open: dict[str, Connection] = {}
        self._commit_rows = commit_rows
        self._uncommitted = 0

    def _conn(self, database: str) -> Connection:
        if database not in self._open:
            conn = self._connectors[database].engine.connect()
            conn = conn.execution_options(**{dialect.WRITE_OPTION: True})
            conn.begin()
            self._open[database] = conn
        return self._open[database]

    def insert(self, database: str, table: str, rows: list[dict[str, Any]]) -> None:
        insert_rows(self._conn(database), table_of(database, table), rows)
        self._uncommitted += len(rows)

    def update(self, database: str, table: str, rows: list[dict[str, Any]]) -> None:
        update_rows(self._conn(database), table_of(database, table), rows)
        self._uncommitted += len(rows)

    def commit(self) -> None:
        """Commit when enough rows are waiting."""
        if self._uncommitted >= self._commit_rows:
            self.finish()

    def finish(self) -> None:
        """Commit everything written so far."""
        self._uncommitted = 0
        for conn in self._open.values():
            conn.commit()
            conn.close()
        self._open.clear()

    def rollback(self) -> None:
        for conn in self._open.values():
            conn.rollback()
            conn.close()
        self._open.clear()
