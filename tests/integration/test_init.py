"""`casesync init` and the migrations, on the backend under test."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from casesync.database import init_all
from casesync.settings import DATABASES
from connectors import Connectors, dialect
from schemas import metadata_for, migrate
from tests.conftest import settings_env

if TYPE_CHECKING:
    from casesync.settings import Settings

pytestmark = pytest.mark.integration

SYSTEMS = ("nova", "gcms", "ncms")


def _tables(connectors: Connectors, database: str) -> set[str]:
    with connectors[database].connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _schema(connectors: Connectors, database: str) -> dict[str, list[tuple[str, str, bool]]]:
    with connectors[database].connect() as conn:
        inspector = inspect(conn)
        return {
            table: [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ]
            for table in sorted(inspector.get_table_names())
        }


def test_init_creates_every_table_of_every_database(settings: Settings) -> None:
    results = init_all(settings)
    assert [r.database for r in results] == list(DATABASES)
    assert all(r.changed for r in results)
    connectors = Connectors.from_settings(settings)
    try:
        for database in DATABASES:
            expected = set(metadata_for(database).tables)
            if database in SYSTEMS:
                expected.add(dialect.CAPTURE_TABLE)
            assert _tables(connectors, database) == expected, database
        assert {"removal_case", "warrant", "detention_review"} <= _tables(connectors, "ncms")
        assert {"client", "removal_order", "irb_decision"} <= _tables(connectors, "gcms")
        assert {"case_file", "decision"} <= _tables(connectors, "nova")
        assert {"quarantine", "audit_log", "finding"} <= _tables(connectors, "control")
    finally:
        connectors.dispose()


@pytest.mark.parametrize("database", SYSTEMS)
def test_every_system_table_has_its_capture_trigger(settings: Settings, database: str) -> None:
    """A table without the trigger would hide its changes from every interface."""
    init_all(settings)
    connectors = Connectors.from_settings(settings)
    try:
        with connectors[database].connect() as conn:
            assert dialect.capture_triggers(conn) == set(metadata_for(database).tables)
    finally:
        connectors.dispose()


def test_init_twice_changes_nothing(settings: Settings) -> None:
    init_all(settings)
    connectors = Connectors.from_settings(settings)
    try:
        before = {db: _schema(connectors, db) for db in DATABASES}
        again = init_all(settings)
        assert not any(r.changed for r in again)
        assert {db: _schema(connectors, db) for db in DATABASES} == before
    finally:
        connectors.dispose()


@pytest.mark.parametrize("database", DATABASES)
def test_migrations_upgrade_from_empty_and_downgrade_to_empty(
    settings: Settings, database: str
) -> None:
    connectors = Connectors.from_settings(settings)
    dialect.ensure_database(connectors[database].url)
    try:
        with connectors[database].begin() as conn:
            migrate.upgrade(database, conn)
            assert migrate.current(conn) == migrate.head(database)
        capture = {dialect.CAPTURE_TABLE} if database in SYSTEMS else set()
        assert _tables(connectors, database) == set(metadata_for(database).tables) | capture
        with connectors[database].begin() as conn:
            migrate.downgrade(database, conn, "base")
            assert migrate.current(conn) is None
        assert _tables(connectors, database) == set()
    finally:
        connectors.dispose()


@pytest.mark.parametrize("database", DATABASES)
def test_models_match_migrations(settings: Settings, database: str) -> None:
    """A model change without a migration fails here."""
    init_all(settings)
    connectors = Connectors.from_settings(settings)
    try:
        with connectors[database].connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": migrate.include_name}
            )
            diff = compare_metadata(context, metadata_for(database))
        assert diff == [], diff
    finally:
        connectors.dispose()


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = settings_env(settings)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "casesync", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_cli_init_prints_each_database(settings: Settings) -> None:
    done = _cli(settings, "init", "--create-databases")
    assert done.returncode == 0, done.stderr
    for database in DATABASES:
        assert database in done.stdout
    again = _cli(settings, "init")  # no database to create now
    assert again.returncode == 0
    assert again.stdout.count("up to date") == len(DATABASES)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://casesync@127.0.0.1:1/gcms", "connection"),
        ("mysql://user@host/gcms", "unsupported database backend"),
        ("this is not a url", "parse"),
    ],
)
def test_cli_init_with_a_bad_url_explains_in_one_line(
    settings: Settings, url: str, problem: str
) -> None:
    done = _cli(settings, "init", "--create-databases", CASESYNC_GCMS_URL=url)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("casesync init: database 'gcms'")
    assert problem in lines[0].lower() or problem in lines[0]
    assert "Traceback" not in done.stderr
