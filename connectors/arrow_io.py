"""Arrow in and out of the databases: raw reads, bulk loads, staging.

A night moves up to millions of records; moving them one Python object at a
time is what a batch transfer must not do. On PostgreSQL the loads are COPY.
On SQLite they go through the ADBC SQLite driver, which reads a query's
result straight into Arrow and binds an Arrow table to a prepared insert in
C: a night's extraction, its staging and its audit rows never become Python
objects. A column whose values are of mixed types (SQLite allows it; only a
defect makes it) reads as text, as the driver's rows would be kept; where
ADBC cannot read a result at all, the reads fall back to the driver's rows.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import pyarrow as pa
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

#: Schema names of the scratch databases a SQLite load stages in and a read goes through.
STAGE_SCHEMA = "casesync_stage"
_SCRATCH = "casesync_scratch"
_SCRATCH_PREFIX = "casesync-scratch-"
_BUSY_MS = 60_000
#: One result batch: ADBC infers each column's type from every row, not the first thousand.
_ONE_BATCH = str(2**30)


@functools.cache
def stage_table(target: Table, name: str, *, schema: str | None = None) -> Table:
    """A table shaped like `target` (no keys): temporary, dropped with the transaction on PG.

    The same arguments give the same Table object (it is a description: each load
    creates and drops the table itself), so the statements built on it have one cache
    key and SQLAlchemy compiles them once per engine, not once per batch.
    """
    from sqlalchemy import Column, MetaData
    from sqlalchemy import Table as SqlTable

    options: dict[str, Any] = (
        {"schema": schema}
        if schema
        else {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "drop"}
    )
    return SqlTable(
        name,
        MetaData(),
        *(Column(column.name, column.type) for column in target.columns),
        **options,
    )


# ---------------------------------------------------------------- ADBC on SQLite


def _sqlite_file(engine: Engine) -> str | None:
    """The SQLite database file behind an engine (None for PostgreSQL or memory)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database


@contextlib.contextmanager
def _adbc(path: str | Path) -> Iterator[Any]:
    """An ADBC connection to a SQLite file: autocommit, and waits for locks like sqlite3 does."""
    import adbc_driver_sqlite.dbapi as adbc

    connection = adbc.connect(str(path), autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            cursor.fetchall()
        yield connection
    finally:
        connection.close()


def _compiled(conn: Connection, statement: Any) -> str:
    """The statement as SQL text with its values inline (dates and numbers only reach here)."""
    return str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def fetch_arrow(conn: Connection, statement: Any) -> pa.Table | None:
    """The query's result as an Arrow table, on SQLite; None where that path cannot take it.

    SQLite writes the result into a scratch file with one CREATE TABLE ... AS,
    and ADBC reads that file into Arrow in one batch (so a column's type comes
    from all of its values). The two SQLite libraries never hold the same file
    open together: in one process that would break SQLite's locking. None on
    PostgreSQL, and where ADBC cannot read the result (the caller then reads
    the driver's rows).
    """
    if _sqlite_file(conn.engine) is None:
        return None
    (read,) = _read_sqlite(conn.engine, [(_compiled(conn, statement), None)], rows=False)
    return read.arrow


@dataclass
class Read:
    """One query's result from a snapshot read: Arrow where ADBC read it, else driver rows."""

    counted: int
    arrow: pa.Table | None = None
    names: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def placeholder(name: str) -> Any:
    """A value of a cached statement, filled in when it runs (see `read_snapshot`)."""
    from sqlalchemy import literal_column

    return literal_column(f"__casesync_{name}__")


#: Compiled text of statements that run every night with other values only, by statement.
_TEMPLATES: dict[tuple[int, str], tuple[Any, str, str]] = {}


def _template(dialect: Any, statement: Any) -> tuple[str, str]:
    """The statement's SQL and its count's, compiled once per statement and backend.

    Compiling these statements with literal values costs milliseconds each; a
    night runs several, a test schedule hundreds. The statement object is kept
    with its text so its id is never reused while cached.
    """
    from sqlalchemy import func, select

    key = (id(statement), dialect.name)
    cached = _TEMPLATES.get(key)
    if cached is None:
        count = select(func.count()).select_from(statement.subquery())
        render = {"literal_binds": True}
        cached = (
            statement,
            str(statement.compile(dialect=dialect, compile_kwargs=render)),
            str(count.compile(dialect=dialect, compile_kwargs=render)),
        )
        _TEMPLATES[key] = cached
    return cached[1], cached[2]


def _fill(sql: str, values: dict[str, Any]) -> str:
    """Put each value (a timestamp or a whole number: nothing else reaches here) in place."""
    import datetime as dt

    for name, value in values.items():
        if isinstance(value, dt.datetime):
            text = f"'{value.isoformat(' ', 'microseconds')}'"
        elif isinstance(value, int):
            text = str(int(value))
        else:
            raise TypeError(f"{name}: only timestamps and integers are filled in, not {value!r}")
        sql = sql.replace(f"__casesync_{name}__", text)
    return sql


def read_snapshot(engine: Engine, requests: list[tuple[Any, dict[str, Any]]]) -> list[Read]:
    """Run several queries against one snapshot of the database, each counted in it too.

    Each request is a statement whose `placeholder`s take the given values.
    The count (`SELECT count(*)` of the same query, in the same snapshot) lets
    the caller check that what it read is everything the source holds.
    SQLite: one read transaction writes each result into a scratch file (CREATE
    TABLE ... AS) and ADBC reads the files afterwards. PostgreSQL: one
    REPEATABLE READ transaction reads the driver's rows.
    """
    from connectors.dialect import snapshot

    sqls = []
    for statement, values in requests:
        sql, count = _template(engine.dialect, statement)
        sqls.append((_fill(sql, values), _fill(count, values)))
    if _sqlite_file(engine) is None:
        reads = []
        with snapshot(engine) as conn:
            for sql, count in sqls:
                cursor = conn.exec_driver_sql(sql).cursor
                assert cursor is not None
                names = [d[0] for d in cursor.description]
                rows = list(cursor.fetchall())
                counted = conn.exec_driver_sql(count).scalar_one()
                reads.append(Read(int(counted), None, names, rows))
        return reads
    return _read_sqlite(engine, sqls)


def _read_sqlite(
    engine: Engine, sqls: Sequence[tuple[str, str | None]], *, rows: bool = True
) -> list[Read]:
    """Each query's result (and count, where given) from one snapshot, through scratch files.

    Where ADBC cannot type a result, its rows are read with sqlite3 from the same
    copy (`rows`), or left out (`arrow` None).
    """
    import adbc_driver_manager

    reads: list[Read] = []
    with _scratch() as path:
        driver = engine.raw_connection()  # its own connection: never inside a transaction
        try:
            driver.execute(f"ATTACH DATABASE ? AS {_SCRATCH}", (str(path),))
            try:
                driver.execute(f"PRAGMA {_SCRATCH}.journal_mode=OFF")
                driver.execute("BEGIN")  # one snapshot of the database for every query
                try:
                    for index, (sql, count_sql) in enumerate(sqls):
                        driver.execute(f'CREATE TABLE {_SCRATCH}."result_{index}" AS {sql}')
                        counted = driver.execute(count_sql).fetchone() if count_sql else (-1,)
                        reads.append(Read(int(counted[0])))
                finally:
                    driver.execute("COMMIT")
            finally:
                driver.execute(f"DETACH DATABASE {_SCRATCH}")
        finally:
            driver.close()
        with _adbc(path) as connection, connection.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": _ONE_BATCH})
            for index, read in enumerate(reads):
                try:
                    cursor.execute(f'SELECT * FROM "result_{index}"')
                    read.arrow = cursor.fetch_arrow_table()
                except (OSError, adbc_driver_manager.Error):
                    read.arrow = None
        unread = [index for index, read in enumerate(reads) if read.arrow is None]
        if unread and rows:  # ADBC could not type a result: the driver's rows of the same copy
            import sqlite3

            with contextlib.closing(sqlite3.connect(path)) as copy:
                for index in unread:
                    cursor = copy.execute(f'SELECT * FROM "result_{index}"')
                    reads[index].names = [d[0] for d in cursor.description]
                    reads[index].rows = list(cursor.fetchall())
    return reads


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A scratch SQLite file's path, removed afterwards (and those of runs that were killed)."""
    _remove_orphans(Path(tempfile.gettempdir()))
    directory = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        yield directory / "scratch.db"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _remove_orphans(root: Path) -> None:
    """Remove scratch directories whose process is gone (a run killed with kill -9)."""
    for directory in root.glob(f"{_SCRATCH_PREFIX}*-*"):
        pid = directory.name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(directory, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


def _ddl(table: Table, conn: Connection) -> str:
    """CREATE TABLE for a stage table with the target's column types (so the same affinities)."""
    columns = ", ".join(
        f'"{column.name}" {column.type.compile(dialect=conn.dialect)}' for column in table.columns
    )
    return f'CREATE TABLE "{table.name}" ({columns})'


@contextlib.contextmanager
def staging(
    conn: Connection, loads: dict[str, tuple[Table, pa.Table]]
) -> Iterator[Callable[[str], Table]]:
    """Stage each load's rows (`name -> (target, rows)`); yields `name -> stage table`.

    Enter it before the load's transaction begins. SQLite: the rows are written
    by ADBC into a scratch database file, which is attached to `conn` (attaching
    is not allowed inside a transaction) and removed afterwards. PostgreSQL: a
    temporary table per load, filled by COPY inside the transaction when asked
    for, and dropped with it.
    """
    if _sqlite_file(conn.engine) is None:
        made: dict[str, Table] = {}

        def temporary(name: str) -> Table:
            if name not in made:
                target, rows = loads[name]
                made[name] = stage_table(target, f"stage_{name}")
                made[name].create(conn)
                insert_arrow(conn, made[name], rows)
            return made[name]

        yield temporary
        return
    stages = {
        name: stage_table(target, f"stage_{name}", schema=STAGE_SCHEMA)
        for name, (target, _) in loads.items()
    }
    with _scratch() as path:
        with _adbc(path) as connection, connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.fetchall()
            cursor.execute("PRAGMA synchronous=OFF")
            for name, (_, rows) in loads.items():
                cursor.execute(_ddl(stages[name], conn))
                if rows.num_rows:
                    cursor.adbc_ingest(stages[name].name, rows, mode="append")
        driver = conn.connection.driver_connection  # no transaction may be open here
        driver.execute(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", (str(path),))  # type: ignore[union-attr]
        try:
            yield stages.__getitem__
        finally:
            try:
                driver.execute(f"DETACH DATABASE {STAGE_SCHEMA}")  # type: ignore[union-attr]
            except Exception:  # still in a transaction: never hand this connection out again
                conn.invalidate()


# ---------------------------------------------------------------- reads and loads on a connection


def fetch_raw(
    conn: Connection, statement: Any, *, literal: bool = False
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a query and return its column names and the driver's own row tuples.

    Rows skip SQLAlchemy's result processing: a million-row night is read at
    the driver's speed. By default the statement is compiled once per engine
    (SQLAlchemy's statement cache) with its values bound: the sync's
    statements are the same objects every run. `literal`: its values are
    written into the SQL text instead, for a statement built anew each time
    that holds long lists of values (a rule's holiday dates): keying and
    binding thousands of values costs more than writing them.
    """
    if literal:
        # The compiled text already doubles a literal's % for the driver: pass it as it is.
        cursor = conn.exec_driver_sql(_compiled(conn, statement)).cursor
    else:
        cursor = conn.execute(statement).cursor
    assert cursor is not None
    names = [d[0] for d in cursor.description]
    return names, list(cursor.fetchall())


def insert_arrow(conn: Connection, table: Table, rows: Any) -> None:
    """Insert an Arrow table whose values are already in storage form (dates as text).

    SQLite: executemany of the rows; PostgreSQL: one COPY of the table as CSV.
    """
    if rows.num_rows == 0:
        return
    names = ", ".join(f'"{name}"' for name in rows.column_names)
    if conn.dialect.name == "sqlite":
        columns = [column.to_pylist() for column in rows.columns]
        marks = ", ".join("?" for _ in columns)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', zip(*columns, strict=True)
        )
        return
    import io

    import pyarrow.csv as pa_csv

    buffer = io.BytesIO()
    # one chunk: pyarrow 26 writes garbage for a table whose first chunk is empty
    pa_csv.write_csv(rows.combine_chunks(), buffer, pa_csv.WriteOptions(include_header=False))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT csv)') as copy:
        copy.write(buffer.getvalue())


def upsert_arrow(conn: Connection, table: Table, rows: Any, keys: list[str]) -> None:
    """Insert an Arrow table, replacing the non-key columns of rows whose key exists."""
    if rows.num_rows == 0:
        return
    from sqlalchemy import select, true

    from connectors.dialect import upsert_insert

    insert = upsert_insert(conn.dialect.name)

    stage = stage_table(table, f"upsert_{table.name}")
    stage.create(conn)
    insert_arrow(conn, stage, rows)
    columns = list(rows.column_names)
    statement = insert(table).from_select(
        columns, select(*(stage.c[c] for c in columns)).where(true())
    )
    others = [c for c in columns if c not in keys]
    if others:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in others}
        )
    else:
        statement = statement.on_conflict_do_nothing()
    conn.execute(statement)
    stage.drop(conn)
