"""What differs between SQLite and PostgreSQL: statements, locks, databases.

The rest of casesync talks SQLAlchemy Core and never asks which backend it is
on; when a backend needs its own statement (an upsert, a bulk load, a lock,
creating a database), the function for it lives here, and moving Arrow tables
in and out (ADBC on SQLite, COPY on PostgreSQL) lives in `arrow_io`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, DateTime, event, literal_column, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Table
    from sqlalchemy.engine import URL, Connection, Engine


def backend(url: str | URL) -> str:
    """'sqlite' or 'postgresql'."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database backend {name!r} (use sqlite or postgresql)")
    return name


def engine_options(url: str | URL) -> dict[str, Any]:
    """Keyword arguments for create_engine on this backend."""
    if backend(url) == "sqlite":
        # Autocommit at the driver level; SQLAlchemy emits BEGIN itself (see below),
        # so a transaction takes the write lock when it starts, not halfway.
        return {"connect_args": {"timeout": 60, "isolation_level": None}}
    return {"pool_size": 5, "max_overflow": 5}


def prepare_engine(engine: Engine) -> None:
    """Per-connection settings: WAL and foreign keys on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A transaction opened for writing (Connector.begin) takes the write lock
        # at once, so it never fails halfway on a busy database; a read
        # (Connector.connect) takes none and sees one snapshot until it ends.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


#: Execution option that marks a connection as opened for writing (see prepare_engine).
WRITE_OPTION = "casesync_writes"


def ensure_database(url: str | URL) -> bool:
    """Create the database if it does not exist. True when it was created."""
    parsed = make_url(url)
    if backend(parsed) == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return False
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        return not path.exists()
    import psycopg
    from psycopg import sql

    dsn, name = _maintenance(parsed)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def database_exists(url: str | URL) -> bool:
    """True when the database exists (a SQLite file, or a database on the PostgreSQL server)."""
    parsed = make_url(url)
    if backend(parsed) == "sqlite":
        return (
            not parsed.database or parsed.database == ":memory:" or Path(parsed.database).exists()
        )
    import psycopg

    dsn, name = _maintenance(parsed)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def drop_database(url: str | URL) -> None:
    """Drop the database (tests and `--replace` only)."""
    parsed = make_url(url)
    if backend(parsed) == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    dsn, name = _maintenance(parsed)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def copy_database(source: str | URL, target: str | URL) -> None:
    """Make `target` a copy of `source` (tests and benchmarks: build a world once, copy it).

    SQLite: the backup API (consistent even with a WAL). PostgreSQL: CREATE
    DATABASE ... TEMPLATE, after closing the sessions still open on the source.
    """
    parsed_source, parsed_target = make_url(source), make_url(target)
    if backend(parsed_source) == "sqlite":
        import sqlite3

        assert parsed_source.database and parsed_target.database
        Path(parsed_target.database).parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(parsed_source.database)) as origin,
            contextlib.closing(sqlite3.connect(parsed_target.database)) as copy,
        ):
            origin.backup(copy)
        return
    import psycopg
    from psycopg import sql

    dsn, name = _maintenance(parsed_source)
    _, copy_name = _maintenance(parsed_target)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy_name), sql.Identifier(name)
            )
        )


def _maintenance(parsed: URL) -> tuple[str, str]:
    """A libpq DSN for the server's maintenance database, and the database's own name."""
    maintenance = parsed.set(database="postgres").render_as_string(hide_password=False)
    return maintenance.replace("postgresql+psycopg://", "postgresql://", 1), parsed.database or ""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for postgresql:// URLs (SQLAlchemy's default driver is psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def exclusive_lock(engine: Engine, name: str, *, wait: bool) -> Iterator[bool]:
    """Hold a named lock that dies with the process (no stale locks after kill -9).

    PostgreSQL: a session advisory lock on a dedicated connection. SQLite: an
    flock on a file beside the database. Yields False when `wait` is False and
    another process holds the lock.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database or "memory"
        lock_path = Path(f"{database}.{name}.lock")
        with open(lock_path, "a+") as handle:
            flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            acquired = True
        else:
            acquired = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            )
        conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


# ---------------------------------------------------------------- bulk writes


def _kinds(table: Table, columns: list[str]) -> list[tuple[int, str]]:
    """Columns whose values SQLite needs written as SQLAlchemy writes them."""
    kinds = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, DateTime):
            kinds.append((index, "datetime"))
        elif isinstance(column_type, Date):
            kinds.append((index, "date"))
        elif isinstance(column_type, Boolean):
            kinds.append((index, "bool"))
    return kinds


def _values(
    table: Table, columns: list[str], rows: list[dict[str, Any]], sqlite: bool
) -> list[Any]:
    """Row values in column order; on SQLite dates as text and booleans as 0/1."""
    values = [tuple(map(row.get, columns)) for row in rows]
    return _storage_rows(table, columns, values) if sqlite else values


def _storage_rows(table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> list[Any]:
    """Rows as SQLite stores them through SQLAlchemy (dates as text, booleans as 0/1)."""
    kinds = _kinds(table, columns)
    if not kinds:
        return rows
    converted = []
    for row in rows:
        value = list(row)
        for index, kind in kinds:
            item = value[index]
            if item is None:
                continue
            if kind == "datetime":
                value[index] = item.isoformat(" ", "microseconds")
            elif kind == "date":
                value[index] = item.isoformat()
            else:
                value[index] = int(item)
        converted.append(value)
    return converted


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows fast: executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    columns = [column.name for column in table.columns]
    sqlite = conn.dialect.name == "sqlite"
    insert_values(conn, table, columns, _values(table, columns, rows, sqlite))


def insert_tuples(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in `columns` order."""
    if rows:
        sqlite = conn.dialect.name == "sqlite"
        insert_values(conn, table, columns, _storage_rows(table, columns, rows) if sqlite else rows)


def insert_values(conn: Connection, table: Table, columns: list[str], values: list[Any]) -> None:
    """Insert already-converted values: executemany on SQLite, COPY on PostgreSQL."""
    sqlite = conn.dialect.name == "sqlite"
    names = ", ".join(f'"{name}"' for name in columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if sqlite:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)
        return
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for value in values:
            copy.write_row(value)


def bulk_update(
    conn: Connection, table: Table, keys: list[str], changed: list[str], rows: list[dict[str, Any]]
) -> None:
    """Update many rows by key, each setting the same columns."""
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    assignments = ", ".join(f'"{name}" = {mark}' for name in changed)
    condition = " AND ".join(f'"{name}" = {mark}' for name in keys)
    values = _values(table, changed + keys, rows, sqlite)
    statement = f'UPDATE "{table.name}" SET {assignments} WHERE {condition}'
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(statement, values)


# ---------------------------------------------------------------- staging and upserts


def upsert_insert(backend_name: str) -> Any:
    """The `insert` construct with ON CONFLICT clauses for this backend (sqlite or postgresql)."""
    if backend_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    return insert


def indexed_columns(target: Table, columns: list[str]) -> list[str]:
    """Those of `columns` that some index of `target` covers."""
    covered = {column.name for index in target.indexes for column in index.columns}
    return [name for name in columns if name in covered]


def upsert_from(
    conn: Connection,
    target: Table,
    stage: Table,
    *,
    key: str,
    keep: tuple[str, ...],
    version: str,
    compared: list[str],
    index_changes: bool = True,
) -> None:
    """INSERT ... SELECT from the stage, ON CONFLICT (key) DO UPDATE when newer.

    A newer record replaces the row, bookkeeping included (a newer version
    with the same values still moves the row's version and stamps: the row is
    then the one a load of only that version writes). A row without a version
    (typed by hand, or loaded before versions were kept) is older than any.
    `keep` columns are written on insert only; `change_epoch` is the target's
    own change capture, set by its trigger, never copied.

    Indexed columns the record carries are set by a second statement, and only
    where their value changed: a column named in an UPDATE's SET costs an index
    write per row even when the value is the same, and most changes (a
    decision's outcome, a status) leave the indexed columns (client, file) alone.
    `index_changes=False` says no staged record changes an indexed column of an
    existing row (the caller's classification knows), and skips that statement.
    """
    from sqlalchemy import and_, func, or_, select, true, update

    insert = upsert_insert(conn.dialect.name)

    names = [c.name for c in target.columns if c.name != "change_epoch"]
    indexed = set(indexed_columns(target, compared))
    columns: list[Any] = [stage.c[name] for name in names]
    if "change_epoch" in target.c:
        # The row is stamped with the current epoch as it is written: SQLite's capture
        # trigger then finds it stamped and does not write the row a second time (the
        # PostgreSQL trigger sets the same value in place).
        names.append("change_epoch")
        columns.append(literal_column(f"(SELECT epoch FROM {CAPTURE_TABLE} WHERE id = 1)"))
    source = select(*columns).where(true())
    statement = insert(target).from_select(names, source)
    excluded = statement.excluded
    current = func.coalesce(target.c[version], -1)
    differs = or_(*(target.c[name].is_distinct_from(excluded[name]) for name in compared))
    changes: dict[str, Any] = {
        name: excluded[name]
        for name in names
        if name not in keep and name != key and name not in indexed
    }
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_=changes,
        where=and_(excluded[version] >= current, or_(differs, excluded[version] > current)),
    )
    conn.execute(statement)
    if indexed and index_changes:  # rows the statement above applied carry the stage's version
        conn.execute(
            update(target)
            .where(
                target.c[key] == stage.c[key],
                target.c[version] == stage.c[version],
                or_(*(target.c[name].is_distinct_from(stage.c[name]) for name in indexed)),
            )
            .values({name: stage.c[name] for name in sorted(indexed)})
        )


def refresh_statistics(conn: Connection, *, light: bool = False) -> None:
    """Give the query planner current table statistics after a bulk load.

    Without them SQLite drives the nightly extraction from a small-looking
    index (division) instead of the `updated_at` range: a full scan. `light`
    (after a nightly run) lets SQLite decide which tables need it.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA optimize" if light else "ANALYZE")
    else:
        conn.exec_driver_sql("ANALYZE")


class _DatePlus(FunctionElement[Any]):
    """A date plus a whole number of days (compiled per backend below)."""

    type = DateTime()
    name = "date_plus"
    inherit_cache = True


@compiles(_DatePlus, "sqlite")
def _date_plus_sqlite(element: _DatePlus, compiler: Any, **kw: Any) -> str:
    column, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"datetime({column}, '+' || {days} || ' days')"


@compiles(_DatePlus, "postgresql")
def _date_plus_postgresql(element: _DatePlus, compiler: Any, **kw: Any) -> str:
    column, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({column} + make_interval(days => {days}))"


def add_days(date_column: Any, days: int) -> Any:
    """`date_column` plus `days` days, comparable with the backend's timestamps."""
    return _DatePlus(date_column, literal_column(str(int(days))))


# ---------------------------------------------------------------- change capture

#: The table holding a system database's current change epoch (one row, id 1).
CAPTURE_TABLE = "capture_epoch"


def _capture_trigger_names(table: str) -> tuple[str, str]:
    return f"capture_{table}_insert", f"capture_{table}_update"


def capture_install(conn: Connection, tables: list[str]) -> None:
    """Create the epoch table and, on every table, the trigger that stamps each change.

    Every existing row is stamped with epoch 1 and the database starts at 2.
    SQLite: AFTER triggers rewrite the row's `change_epoch` (SQLite writes one
    transaction at a time, so the epoch a row reads is the one it commits in).
    PostgreSQL: a BEFORE trigger reads the epoch row FOR SHARE once per
    transaction and holds that lock to commit, so a reader moving the epoch on
    waits for every writer still stamping the old one.
    """
    conn.exec_driver_sql(
        f"CREATE TABLE {CAPTURE_TABLE} (id INTEGER PRIMARY KEY, epoch BIGINT NOT NULL)"
    )
    conn.exec_driver_sql(f"INSERT INTO {CAPTURE_TABLE} (id, epoch) VALUES (1, 2)")
    for table in tables:
        conn.exec_driver_sql(f'UPDATE "{table}" SET change_epoch = 1')
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(
            """
        CREATE FUNCTION capture_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            current_epoch text := current_setting('casesync.capture_epoch', true);
        BEGIN
            IF current_epoch IS NULL OR current_epoch = '' THEN
                SELECT epoch::text INTO current_epoch FROM capture_epoch WHERE id = 1 FOR SHARE;
                PERFORM set_config('casesync.capture_epoch', current_epoch, true);
            END IF;
            NEW.change_epoch := current_epoch::bigint;
            RETURN NEW;
        END $$
        """
        )
    capture_add(conn, tables)


def capture_add(conn: Connection, tables: list[str]) -> None:
    """The capture trigger on tables a later migration creates (the epoch exists already)."""
    current = f"(SELECT epoch FROM {CAPTURE_TABLE} WHERE id = 1)"
    if conn.dialect.name == "sqlite":
        for table in tables:
            for name, event_name in zip(
                _capture_trigger_names(table), ("INSERT", "UPDATE"), strict=True
            ):
                conn.exec_driver_sql(
                    f'CREATE TRIGGER "{name}" AFTER {event_name} ON "{table}" '
                    f"WHEN NEW.change_epoch IS NOT {current} BEGIN "
                    f'UPDATE "{table}" SET change_epoch = {current} WHERE rowid = NEW.rowid; END'
                )
        return
    for table in tables:
        name = _capture_trigger_names(table)[0]
        conn.exec_driver_sql(
            f'CREATE TRIGGER "{name}" BEFORE INSERT OR UPDATE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION capture_stamp()"
        )


def capture_drop(conn: Connection, tables: list[str]) -> None:
    """Undo capture_add (a later migration's downgrade)."""
    for table in tables:
        for name in _capture_trigger_names(table):
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
            else:
                conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')


def capture_remove(conn: Connection, tables: list[str]) -> None:
    """Undo capture_install (the downgrade)."""
    capture_drop(conn, tables)
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS capture_stamp()")
    conn.exec_driver_sql(f"DROP TABLE {CAPTURE_TABLE}")


def capture_triggers(conn: Connection) -> set[str]:
    """Tables of the connected database that have their capture trigger."""
    if conn.dialect.name == "sqlite":
        query = (
            "SELECT tbl_name FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE :names ESCAPE '!'"
        )
    else:
        query = (
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE :names ESCAPE '!'"
        )
    return {row[0] for row in conn.execute(text(query), {"names": "capture!_%"})}


def advance_epoch(conn: Connection) -> int:
    """Move the database's change epoch on; returns the epoch that closed.

    Every change stamped with the returned epoch (or an earlier one) is
    committed once this returns: on PostgreSQL the update waits for the writers
    that hold the epoch row, on SQLite no writer runs beside it.
    """
    from sqlalchemy import text as sql

    closed = conn.execute(
        sql(f"UPDATE {CAPTURE_TABLE} SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch - 1")
    ).scalar_one()
    return int(closed)


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection that sees one snapshot of the database until it closes."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
