"""Run each database's Alembic migrations from code (what `casesync init` calls)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave the change-capture epoch table (a migration's, not a model's) out of compares."""
    return not (type_ == "table" and name == "capture_epoch")


def alembic_config(database: str, url: str | None = None) -> Config:
    """An Alembic Config for one database's migration history."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", str(MIGRATIONS / "versions" / database))
    config.set_main_option("casesync_database", database)
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def head(database: str) -> str | None:
    """The newest revision of a database's migrations (read once per process)."""
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def current(connection: Connection) -> str | None:
    """The revision a database is at (None when it was never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: str, connection: Connection, revision: str = "head") -> None:
    """Upgrade one database on an open connection."""
    config = alembic_config(database)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def downgrade(database: str, connection: Connection, revision: str = "base") -> None:
    """Downgrade one database on an open connection."""
    config = alembic_config(database)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def revision(database: str, url: str, message: str) -> None:
    """Autogenerate a new revision of one database from its models (for developers).

    `url` must point at a database already upgraded to head.
    """
    command.revision(alembic_config(database, url), message=message, autogenerate=True)


if __name__ == "__main__":  # python -m schemas.migrate <database> <url> <message>
    import sys

    if len(sys.argv) != 4:
        raise SystemExit("usage: python -m schemas.migrate <database> <url> <message>")
    revision(sys.argv[1], sys.argv[2], sys.argv[3])
