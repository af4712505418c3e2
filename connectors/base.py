"""The connector every system shares: one URL, one engine, a connect() context manager."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import create_engine

from connectors import dialect

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine


class Connector:
    """Owns one database's URL and its single engine. Nothing else creates engines."""

    #: The database this connector talks to (nova, gcms, ncms, control, ground_truth).
    database: ClassVar[str] = ""

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
