"""Bad input on the command line is answered in one line that says what to do, never a traceback."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from connectors import dialect
from tests.conftest import PG_URL, invoke

if TYPE_CHECKING:
    from pathlib import Path

    from casesync.settings import Settings

pytestmark = pytest.mark.integration


def _run(settings: Settings, *args: str, **env: str) -> tuple[int, str]:
    done = invoke(settings, *args, **env)
    assert "Traceback" not in done.output, done.output
    return done.exit_code, done.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["score", "--scope", "bogus"], "casesync score: --scope must be full"),
        (["backfill", "--from", "2020-02-30", "--to", "2020-03-01"], "is not a date on the"),
        (["sync", "--night", "20200106"], "must be a date written YYYY-MM-DD"),
        (["bench", "sync", "--rows", "-5"], "casesync bench sync: --rows must be at least"),
    ],
    ids=["score-scope", "impossible-date", "date-format", "bench-name"],
)
def test_a_bad_option_is_named_with_its_command(
    settings: Settings, args: list[str], expected: str
) -> None:
    code, output = _run(settings, *args)
    assert code == 2
    assert expected in output


def test_a_missing_server_database_is_created_only_when_asked(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    """A typo in a PostgreSQL URL must not make a new database; SQLite files are the default."""
    if backend == "sqlite":
        code, output = _run(settings, "init")
        assert code == 0, output
        assert all((settings.home / f"{name}.db").exists() for name in ("nova", "control"))
        return
    typo = f"{PG_URL}/cst_typo_{os.getpid()}_nova"
    try:
        code, output = _run(settings, "init", CASESYNC_NOVA_URL=typo)
        assert code == 2
        assert "does not exist on the server" in output
        assert "--create-databases" in output
        assert not dialect.database_exists(dialect.normalize_url(typo))
        code, output = _run(settings, "init", "--create-databases", CASESYNC_NOVA_URL=typo)
        assert code == 0, output
        assert dialect.database_exists(dialect.normalize_url(typo))
    finally:
        dialect.drop_database(dialect.normalize_url(typo))


def test_an_unreachable_database_says_why_not_to_run_init(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-directory' / 'nova.db'}"
        expected = "does not exist (check CASESYNC_HOME)"
    else:
        url = PG_URL.replace("postgres@", "nobody_here@") + "/postgres"
        expected = "nobody_here"
    code, output = _run(settings, "sync", "--night", "2020-01-06", CASESYNC_NOVA_URL=url)
    assert code == 2
    assert expected in output
    assert "run `casesync init`" not in output


def test_a_home_that_cannot_be_made_is_named(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, output = _run(settings, "init", CASESYNC_HOME=str(blocker / "home"))
    assert code == 2
    assert "cannot create the casesync home" in output


def test_simulate_on_a_world_never_seeded_is_one_line(settings: Settings) -> None:
    code, output = _run(settings, "simulate", "--days", "1")
    assert code == 2
    assert "run casesync seed first" in output


def test_an_airflow_home_that_cannot_be_written_is_named(
    settings: Settings, tmp_path: Path
) -> None:
    """`casesync airflow` and `backfill` start Airflow in a home they must be able to write."""
    from casesync.airflow_runner import AirflowConfig, airflow_env
    from casesync.errors import CasesyncError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CasesyncError, match="point CASESYNC_HOME at a writable directory"):
        airflow_env(settings, AirflowConfig(home=blocker / "airflow"))
