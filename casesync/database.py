"""Create and upgrade the five databases: what `casesync init` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from casesync.errors import CasesyncError, DatabaseUnavailable
from casesync.settings import DATABASES
from connectors import Connectors, dialect
from schemas import migrate

if TYPE_CHECKING:
    from casesync.settings import Settings


@dataclass(frozen=True)
class InitResult:
    """What init did to one database."""

    database: str
    url: str
    created: bool
    from_revision: str | None
    to_revision: str | None

    @property
    def changed(self) -> bool:
        return self.created or self.from_revision != self.to_revision

    def describe(self) -> str:
        if self.created:
            action = "created"
        elif self.from_revision is None:
            action = "migrated (was empty)"
        elif self.changed:
            action = f"upgraded from {self.from_revision}"
        else:
            action = "up to date"
        return f"{self.database:<13} {action:<26} revision {self.to_revision}  {self.url}"


def _problem(exc: BaseException, url: str | None = None) -> str:
    """The first line of a driver error, without SQLAlchemy's wrapping (and what to do)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    problem = text[0] if text else type(original).__name__
    if "unable to open database file" in problem or "readonly database" in problem:
        problem += f"; {_writable(url)}"
    return problem


def _writable(url: str | None) -> str:
    """Why a SQLite file cannot be opened or written: its directory, or the file itself."""
    import os
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database if url else None
    if not database:
        return "check the database URL"
    path = Path(database)
    if not path.parent.exists():
        return f"the directory {path.parent} does not exist (check CASESYNC_HOME)"
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{path.parent} is read-only: point CASESYNC_HOME at a writable directory"
    return f"check that {path} is a SQLite database"


def init_database(connectors: Connectors, database: str, *, create: bool = True) -> InitResult:
    """Create (if needed and `create`) and upgrade one database to the newest revision.

    Without `create` a missing PostgreSQL database is refused: a typo in a URL
    must not make a new, empty database. SQLite files (the embedded default,
    under CASESYNC_HOME) are always created.
    """
    shown = connectors.url(database)
    try:
        connector = connectors[database]
        if (
            not create
            and connector.backend != "sqlite"
            and not dialect.database_exists(connector.url)
        ):
            raise DatabaseUnavailable(
                database, shown,
                "does not exist on the server (a typo in the URL?); check "
                f"CASESYNC_{database.upper()}_URL, or create it with "
                "`casesync init --create-databases`",
            )  # fmt: skip
        created = dialect.ensure_database(connector.url)
        with connector.begin() as conn:
            before = migrate.current(conn)
            _CURRENT.discard(connectors.url(database))
            migrate.upgrade(database, conn)
            after = migrate.current(conn)
    except (DBAPIError, OSError, ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseUnavailable(database, shown, _problem(exc, connectors.url(database))) from exc
    except DatabaseUnavailable:
        raise
    except Exception as exc:  # psycopg errors raised outside SQLAlchemy
        if type(exc).__module__.startswith("psycopg"):
            raise DatabaseUnavailable(database, shown, _problem(exc)) from exc
        raise
    return InitResult(database, shown, created, before, after)


def init_all(settings: Settings, *, create_databases: bool = True) -> list[InitResult]:
    """Create or upgrade all five databases; idempotent (see init_database for `create`)."""
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CasesyncError(
            f"cannot create the casesync home {settings.home}: {exc.strerror}; "
            "point CASESYNC_HOME at a writable directory"
        ) from None
    connectors = Connectors.from_settings(settings)
    try:
        return [init_database(connectors, name, create=create_databases) for name in DATABASES]
    finally:
        connectors.dispose()


def copy_databases(source: Settings, target: Settings) -> None:
    """Make the five databases of `target` copies of `source`'s (benchmarks and tests)."""
    for name in DATABASES:
        dialect.copy_database(
            dialect.normalize_url(source.url(name)), dialect.normalize_url(target.url(name))
        )


#: Databases this process found at the newest revision (by URL): checked once, not per night.
_CURRENT: set[str] = set()


def require_current(connectors: Connectors, databases: tuple[str, ...] | list[str]) -> None:
    """Refuse to work on a database that is unreachable or not migrated to the newest revision.

    A database found current is remembered for the rest of the process (a
    migration run here forgets it): its revision cannot go back under a run.
    """
    for database in databases:
        shown = connectors.url(database)
        if shown in _CURRENT:
            continue
        try:
            with connectors[database].connect() as conn:
                revision = migrate.current(conn)
        except (DBAPIError, OSError, ArgumentError, NoSuchModuleError, ValueError) as exc:
            problem = _problem(exc, shown)
            if 'database "' in problem and "does not exist" in problem:
                problem += "; run `casesync init` (or seed) first"
            raise DatabaseUnavailable(database, shown, problem) from exc
        if revision != migrate.head(database):
            state = "not initialized" if revision is None else f"at revision {revision}"
            raise DatabaseUnavailable(
                database, shown, f"{state}; run `casesync init` (or seed) first"
            )
        _CURRENT.add(shown)
