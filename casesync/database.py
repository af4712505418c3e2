"""Create and upgrade the five databases: what `casesync init` does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from casesync.errors import DatabaseUnavailable
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


def _problem(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's wrapping."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def init_database(connectors: Connectors, database: str) -> InitResult:
    """Create (if needed) and upgrade one database to the newest revision."""
    shown = connectors.url(database)
    try:
        connector = connectors[database]
        created = dialect.ensure_database(connector.url)
        with connector.begin() as conn:
            before = migrate.current(conn)
            _CURRENT.discard(connectors.url(database))
            migrate.upgrade(database, conn)
            after = migrate.current(conn)
    except (DBAPIError, OSError, ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseUnavailable(database, shown, _problem(exc)) from exc
    except Exception as exc:  # psycopg errors raised outside SQLAlchemy
        if type(exc).__module__.startswith("psycopg"):
            raise DatabaseUnavailable(database, shown, _problem(exc)) from exc
        raise
    return InitResult(database, shown, created, before, after)


def init_all(settings: Settings) -> list[InitResult]:
    """Create or upgrade all five databases; idempotent."""
    settings.home.mkdir(parents=True, exist_ok=True)
    connectors = Connectors.from_settings(settings)
    try:
        return [init_database(connectors, name) for name in DATABASES]
    finally:
        connectors.dispose()


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
            problem = _problem(exc)
            if "does not exist" in problem:
                problem += "; run `casesync init` (or seed) first"
            raise DatabaseUnavailable(database, shown, problem) from exc
        if revision != migrate.head(database):
            state = "not initialized" if revision is None else f"at revision {revision}"
            raise DatabaseUnavailable(
                database, shown, f"{state}; run `casesync init` (or seed) first"
            )
        _CURRENT.add(shown)
