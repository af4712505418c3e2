"""The connector every system shares: one URL, one engine, a connect() context manager."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import create_engine
from sqlalchemy.util import LRUCache

from connectors import dialect

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine


class SharedStatementCache:
    """SQLAlchemy's statement cache, shared by every engine of this process.

    SQLAlchemy keys a compiled statement by the engine's own dialect object, so
    each new engine compiles every statement again. A process opens many
    engines for the same statements (each night of `compare-modes`, a
    validation after a sync, a run after a fork, every world of the tests), and
    compiling was a sixth of the tests' schedules on SQLite. Here a dialect is
    keyed by what the compiled SQL depends on (its class, the server's version,
    the parameter style): engines of one configuration share their compiled
    statements.
    """

    def __init__(self, size: int = 3000) -> None:
        self._entries: LRUCache[Any, Any] = LRUCache(size)

    @staticmethod
    def _key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        dialect = key[0]
        return (type(dialect), dialect.server_version_info, dialect.paramstyle, *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        return self._entries.get(self._key(key), default)

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self._entries[self._key(key)] = value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


#: The one statement cache of this process (see SharedStatementCache).
STATEMENT_CACHE = SharedStatementCache()


class Connector:
    """Owns one database's URL and its single engine. Nothing else creates engines."""

    #: The database this connector talks to (nova, gcms, ncms, control, ground_truth).
    database: ClassVar[str] = ""
    #: Engines share STATEMENT_CACHE; off, each keeps its own (`casesync bench engines`' baseline).
    share_statements: ClassVar[bool] = True

    def __init__(self, url: str) -> None:
        self.url = dialect.normalize_url(url)
        self.backend = dialect.backend(self.url)
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dialect.safe_url(self.url)!r})"

    @property
    def engine(self) -> Engine:
        """The connector's engine, created on first use."""
        if self._engine is None:
            engine = create_engine(
                self.url, pool_pre_ping=True, future=True, **dialect.engine_options(self.url)
            )
            dialect.prepare_engine(engine)
            if self.share_statements:
                engine.update_execution_options(compiled_cache=STATEMENT_CACHE)
            self._engine = engine
        return self._engine

    @contextlib.contextmanager
    def connect(self, *, writes: bool = False) -> Iterator[Connection]:
        """A connection for reads, or (`writes`) for transactions the caller opens and commits.

        On SQLite a transaction of a `writes` connection takes the write lock
        when it starts; a read's takes none.
        """
        with self.engine.connect() as conn:
            if writes:
                conn = conn.execution_options(**{dialect.WRITE_OPTION: True})
            yield conn

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success, rolled back on error."""
        with self.connect(writes=True) as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
