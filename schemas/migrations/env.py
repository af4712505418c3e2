"""Alembic environment shared by the five databases.

The database is chosen by the `casesync_database` main option; its models'
MetaData is the migration target and its versions live in versions/<database>/.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from schemas import metadata_for
from schemas.migrate import include_name

config = context.config
database = config.get_main_option("casesync_database")
if not database:
    raise RuntimeError("casesync_database is not set; run migrations through casesync init")
target_metadata = metadata_for(database)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
