"""Fixtures shared by every test: settings pointing at fresh databases on the chosen backend.

CASESYNC_TEST_BACKEND=sqlite (default) or postgresql selects the backend. On
PostgreSQL each world gets its own uniquely named databases on
CASESYNC_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432), dropped
afterwards. A requested backend that is unavailable fails the test; it is
never skipped.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from casesync.settings import DATABASES, Settings
from connectors import dialect

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator
    from pathlib import Path

BACKEND = os.environ.get("CASESYNC_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("CASESYNC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")
#: The tests' PostgreSQL sessions (this process's, and the CLI and Airflow processes it starts:
#: libpq reads PGOPTIONS) commit without waiting for the server's disk. No test crashes the
#: server, so what a commit makes visible is the same; the thousands of small commits of the
#: schedules and nightly runs stop waiting for an fsync each.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")


def pytest_report_header() -> str:
    return f"casesync test backend: {BACKEND}"


def _pg_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_URL + "/postgres", connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def backend() -> str:
    """The backend under test; fails (never skips) when PostgreSQL is asked for and missing."""
    if BACKEND not in ("sqlite", "postgresql"):
        pytest.fail(f"CASESYNC_TEST_BACKEND must be sqlite or postgresql, not {BACKEND!r}")
    if BACKEND == "postgresql":
        problem = _pg_available()
        if problem:
            pytest.fail(f"PostgreSQL at {PG_URL} is required for this run: {problem}")
    return BACKEND


def database_urls(home: Path, backend: str, tag: str) -> dict[str, str]:
    """URLs for the five databases of one test world."""
    if backend == "sqlite":
        return {name: f"sqlite:///{home / f'{name}.db'}" for name in DATABASES}
    return {name: f"{PG_URL}/cst_{tag}_{name}" for name in DATABASES}


@pytest.fixture
def make_settings(
    tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[Callable[..., Settings]]:
    """A factory of Settings for fresh, empty worlds; their databases are dropped afterwards."""
    made: list[Settings] = []

    def factory(**overrides: object) -> Settings:
        home = tmp_path_factory.mktemp("world")
        tag = uuid.uuid4().hex[:10]
        urls = database_urls(home, backend, tag)
        fields: dict[str, object] = {f"{name}_url": url for name, url in urls.items()}
        fields.update({str(k): v for k, v in overrides.items()})
        settings = Settings(home=home, **fields)  # type: ignore[arg-type]
        made.append(settings)
        return settings

    yield factory
    if backend == "postgresql":
        for settings in made:
            for name in DATABASES:
                dialect.drop_database(dialect.normalize_url(settings.url(name)))


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Settings for one fresh, empty world."""
    return make_settings()


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that select `settings` in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESYNC_")}
    env["CASESYNC_HOME"] = str(settings.home)
    for name in DATABASES:
        env[f"CASESYNC_{name.upper()}_URL"] = settings.url(name)
    env["CASESYNC_INTEROP_MODE"] = settings.interop_mode.value
    return env


def invoke(settings: Settings, *args: str, **env: str) -> Any:
    """The CLI in this process (typer's runner), on `settings` (and `env` on top of them).

    Tests that must prove the installed entry point (a lock held by another process,
    a kill) run `python -m casesync` in a subprocess instead.
    """
    from typer.testing import CliRunner

    from casesync.cli import app
    from casesync.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={**settings_env(settings), **env})
    finally:
        get_settings.cache_clear()


#: Modules whose parametrized cases are split in this many work units for xdist: their
#: cases outweigh the rest of the suite's modules, and one worker would carry them alone.
SPLIT_MODULES = {"tests/integration/test_schedules.py": 2}

#: Seconds each test took last time on this backend (setup, call and teardown), kept in
#: pytest's cache: the scheduler hands out the heaviest work units first.
DURATIONS_KEY = f"casesync/durations/{BACKEND}"
#: Rough seconds of the longest tests (by node id prefix), for a run without that cache.
ROUGH_SECONDS = {  # from CI at ffffbac (the larger of the two backends)
    "tests/dags/test_dag_runs.py::test_backfill": 65.0,
    "tests/dags/test_dag_runs.py::test_dag_test": 20.0,
    "tests/dags/test_operator_feedback.py::test_a_failed_backfill": 40.0,
    "tests/dags/test_operator_feedback.py::test_sigterm": 25.0,
    "tests/integration/test_schedules.py::test_any_schedule": 20.0,
    "tests/integration/test_schedules.py::test_any_two_way": 15.0,
    "tests/integration/test_validation.py::test_every_planted": 40.0,
    "tests/integration/test_validation.py::test_a_clean_synced": 30.0,
}
#: A test this long (seconds) should not hold a heavy unit queued behind it on its worker.
LONG_TEST = 20.0


def _unit_of(nodeid: str) -> str:
    """A test's work unit: its module, or a share of a module in SPLIT_MODULES."""
    import re

    module = nodeid.split("::", 1)[0]
    parts = SPLIT_MODULES.get(module)
    number = re.search(r"\[\D*(\d+)\]$", nodeid)
    if parts and number:
        return f"{module}::part{int(number.group(1)) % parts}"
    return module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope`, one work unit per module (its module fixtures built once; a module
    in SPLIT_MODULES gives one unit per share of its numbered cases), heaviest unit first.

    xdist gives a worker its next unit when one test of its current units is left (a worker
    must know the next test before it starts one): a worker about to start a long test
    gets the lightest unit left, and the other worker takes the heavy ones meanwhile.
    """
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    known: dict[str, float] = (cache.get(DURATIONS_KEY, {}) if cache else {}) or {}

    def seconds(nodeid: str) -> float:
        if nodeid in known:
            return float(known[nodeid])
        rough = [v for prefix, v in ROUGH_SECONDS.items() if nodeid.startswith(prefix)]
        return rough[0] if rough else 0.5

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit_of(nodeid)

        def _unit_seconds(self, unit: str) -> float:
            return sum(seconds(nodeid) for nodeid in self.workqueue[unit])

        def _pending(self, node: Any) -> list[str]:
            units = self.assigned_work.get(node, {}).values()
            return [nodeid for unit in units for nodeid, done in unit.items() if not done]

        def _assign_work_unit(self, node: Any) -> None:
            pending = self._pending(node)
            if pending and seconds(pending[-1]) >= LONG_TEST:
                chosen = min(self.workqueue, key=self._unit_seconds)
            else:
                chosen = max(self.workqueue, key=self._unit_seconds)
            self.workqueue.move_to_end(chosen, last=False)
            super()._assign_work_unit(node)

        def _reschedule(self, node: Any) -> None:
            # The parent tops a worker up while it has two tests left; one is enough.
            if self.workqueue and not node.shutting_down and len(self._pending(node)) > 1:
                return
            super()._reschedule(node)

    return ModuleScheduling(config, log)


class _Durations:
    """Sums each test's phases (in the xdist controller, or a run without xdist) and keeps
    them in pytest's cache for the next run's scheduling."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is None or not self.seconds:
            return
        kept = dict(cache.get(DURATIONS_KEY, {}) or {})
        kept.update({nodeid: round(value, 2) for nodeid, value in self.seconds.items()})
        cache.set(DURATIONS_KEY, kept)


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_Durations(config), "casesync-durations")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI a skipped test is a failed test: nothing counts as passing untested."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (a skip is a failure here): {report.longrepr}"


def new_settings(home: Path, backend: str, **overrides: object) -> Settings:
    """Settings for a fresh world under `home` (PostgreSQL databases get unique names)."""
    tag = uuid.uuid4().hex[:10]
    urls = database_urls(home, backend, tag)
    fields: dict[str, object] = {f"{name}_url": url for name, url in urls.items()}
    fields.update(overrides)
    return Settings(home=home, **fields)  # type: ignore[arg-type]


def drop_world(settings: Settings, backend: str) -> None:
    """Drop a world's PostgreSQL databases (SQLite files go with the temporary directory)."""
    if backend == "postgresql":
        for name in DATABASES:
            dialect.drop_database(dialect.normalize_url(settings.url(name)))


@pytest.fixture(scope="module")
def module_world(
    tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[Callable[..., Settings]]:
    """A factory of worlds that live for the whole test module."""
    made: list[Settings] = []

    def factory(**overrides: object) -> Settings:
        settings = new_settings(tmp_path_factory.mktemp("world"), backend, **overrides)
        made.append(settings)
        return settings

    yield factory
    for settings in made:
        drop_world(settings, backend)


def system_digests(settings: Settings) -> dict[str, dict[str, str]]:
    """Content digests of every table of the three systems (capture bookkeeping left out)."""
    from connectors import Connectors
    from connectors.fingerprint import database_digests

    connectors = Connectors.from_settings(settings)
    try:
        out = {}
        for database in ("nova", "gcms", "ncms"):
            with connectors[database].connect() as conn:
                out[database] = database_digests(conn, database)
        return out
    finally:
        connectors.dispose()


def update_row(
    settings: Settings, system: str, model: Any, key: Any, values: dict[str, Any]
) -> None:
    """A clerk's correction: set `values` on one row (by its primary key) of a system."""
    from sqlalchemy import update

    from connectors import Connectors

    connectors = Connectors.from_settings(settings)
    (pk,) = model.__table__.primary_key.columns
    try:
        with connectors[system].begin() as conn:
            conn.execute(update(model).where(pk == key).values(values))
    finally:
        connectors.dispose()


def gcms_warrant(settings: Settings, warrant_no: str) -> Any:
    """The GCMS warrant row (None when GCMS has none)."""
    from sqlalchemy import select

    from connectors import Connectors
    from schemas import gcms

    connectors = Connectors.from_settings(settings)
    try:
        with connectors.gcms.connect() as conn:
            table = gcms.Warrant.__table__
            return conn.execute(select(table).where(table.c.warrant_no == warrant_no)).first()
    finally:
        connectors.dispose()


def copy_world(settings: Settings, home: Path, backend: str) -> Settings:
    """A copy of a world's five databases and its simulator state, under `home`."""
    import shutil

    from casesync.database import copy_databases
    from casesync.seeding import state_path

    copy = new_settings(home, backend, quarantine_threshold=settings.quarantine_threshold)
    copy_databases(settings, copy)
    state = state_path(settings)
    if state.exists():
        state_path(copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(state, state_path(copy))
    return copy


def type_claim(
    connectors: Any, number: int, typed_at: dt.datetime, *, outcome: str = "REJ"
) -> tuple[str, int]:
    """A clerk types a new RPD claim and its final decision at `typed_at` (file, decision id).

    Ids and file numbers (TB9-9nnnn, 9,000,000 + n) stay clear of a small seeded world's.
    """
    from sqlalchemy import insert

    from schemas import nova

    file_number = f"TB9-9{number % 10000:04d}"
    party_id = decision_id = 9_000_000 + number
    stamp = {"entered_at": typed_at, "updated_at": typed_at, "entered_by": "CLERK-T"}
    with connectors.nova.begin() as conn:
        conn.execute(
            insert(nova.Party).values(
                party_id=party_id, uci=f"{number % 10000:04d}-{(number * 7) % 10000:04d}",
                family_name="Gagnon", given_names="Sam", **stamp,
            )
        )  # fmt: skip
        conn.execute(
            insert(nova.CaseFile).values(
                file_number=file_number, division="RPD", proceeding="CLAIM", party_id=party_id,
                region="T", referred_on=typed_at.date(), status="FN", is_irregular_arrival=False,
                **stamp,
            )
        )  # fmt: skip
        conn.execute(
            insert(nova.Decision).values(
                decision_id=decision_id, file_number=file_number, is_final=True,
                outcome_code=outcome, decided_on=typed_at.date(), member_id="M1", **stamp,
            )
        )  # fmt: skip
    return file_number, decision_id
