"""The DAGs run for real: dag.test() of one night, and backfills through Airflow's scheduler."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from casesync import airflow_runner
from casesync.seeding import parse_options, seed
from casesync.sync import nightly
from connectors import Connectors, dialect
from schemas import gcms, nova
from schemas.calendar import night_interval
from schemas.control import Finding, Quarantine, SyncRun, ValidationRun
from tests.conftest import (
    BACKEND,
    PG_URL,
    copy_world,
    drop_world,
    system_digests,
    type_claim,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from casesync.settings import Settings

pytestmark = pytest.mark.dags
#: The backfill runs Airflow on the backend under test: the LocalExecutor and SQLite metadata
#: on SQLite (a slow test, run once by CI), Celery and PostgreSQL metadata on PostgreSQL (the
#: only place CI runs that deployment, so not deselected there).
SLOW_ON_SQLITE = pytest.mark.slow if BACKEND == "sqlite" else pytest.mark.dags

FIRST = dt.date(2020, 1, 6)
#: Nights the backfill runs: two prove a multi-night backfill runs them in order, as one
#: `casesync nightly` does (each night costs half a minute of Airflow task runs).
NIGHTS = 2


@pytest.fixture(scope="module")
def seeded(module_world: Callable[..., Settings]) -> Settings:
    """The module's world, seeded once: each test runs on copies of it."""
    settings = module_world()
    seed(
        settings,
        parse_options(
            files=800, days=3, start=FIRST.isoformat(), defect_rate=0.02, seed=3, mode="one_way"
        ),
    )
    return settings


@pytest.fixture
def copies(
    seeded: Settings, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[Callable[[], Settings]]:
    """A factory of fresh copies of the seeded world, dropped afterwards."""
    made: list[Settings] = []

    def factory() -> Settings:
        made.append(copy_world(seeded, tmp_path_factory.mktemp("world"), backend))
        return made[-1]

    yield factory
    for settings in made:
        drop_world(settings, backend)


DAG_TEST = """
import json, sys, pendulum
from airflow.models import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["nightly_interfaces"]
run = dag.test(logical_date=pendulum.datetime(2020, 1, 8, 2, tz="America/Toronto"))
print(json.dumps({"state": str(run.state), "start": run.data_interval_start.isoformat()}))
"""


@pytest.mark.slow
def test_dag_test_runs_one_night_end_to_end(
    copies: Callable[[], Settings], migrated_airflow: Callable[[Path], None]
) -> None:
    settings = copies()
    nightly(settings, FIRST, FIRST)  # the night before: the reconciliation blocks a skipped night
    night = dt.date(2020, 1, 7)
    start, end = night_interval(night)
    connectors = Connectors.from_settings(settings)
    try:  # clerks type a few decisions too: the night must carry some, whatever the seed typed
        for number in range(3):
            type_claim(connectors, number, start + dt.timedelta(hours=12), outcome="REJ")
    finally:
        connectors.dispose()
    migrated_airflow(settings.airflow_home)
    config = airflow_runner.AirflowConfig(home=settings.airflow_home)
    env = airflow_runner.airflow_env(settings, config)
    airflow_runner.migrate(env)
    done = subprocess.run(
        [sys.executable, "-c", DAG_TEST, str(airflow_runner.DAGS_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["state"] == "success"
    assert dt.datetime.fromisoformat(result["start"]).replace(tzinfo=None) == start
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.nova.connect() as conn:
            typed = (
                conn.execute(
                    select(nova.Decision.decision_id)
                    .join(nova.CaseFile, nova.CaseFile.file_number == nova.Decision.file_number)
                    .where(
                        nova.Decision.updated_at >= start,
                        nova.Decision.updated_at < end,
                        nova.Decision.is_final.is_(True),
                        nova.CaseFile.division.in_(("RPD", "RAD")),
                    )
                )
                .scalars()
                .all()
            )
        with connectors.gcms.connect() as conn:
            fed = set(conn.execute(select(gcms.IrbDecision.decision_ref)).scalars())
        with connectors.control.connect() as conn:
            runs = conn.execute(
                select(SyncRun.interface, SyncRun.status).where(SyncRun.night == night)
            ).all()
            findings = conn.execute(
                select(func.count()).select_from(Finding).where(Finding.scope == f"night:{night}")
            ).scalar()
            validated = conn.execute(
                select(ValidationRun.findings).where(ValidationRun.scope == f"night:{night}")
            ).scalar()
    finally:
        connectors.dispose()
    assert sorted(runs) == [("gcms_to_ncms", "succeeded"), ("nova_to_gcms", "succeeded")]
    assert validated == findings
    report = settings.reports_dir / night.isoformat()
    assert (report / "index.html").is_file() and list(report.glob("work-queue-*.csv"))
    assert typed, "the night typed no final decision: the comparison below would be empty"
    quarantined = _quarantined_decisions(settings)
    assert lost_decisions(typed, fed, quarantined) == []
    # The comparison catches one record dropped on the way (and one loaded though refused).
    dropped = next(f"N{d}" for d in typed if f"N{d}" in fed)
    assert lost_decisions(typed, fed - {dropped}, quarantined) == [dropped]
    if quarantined & {f"N{d}" for d in typed}:
        refused = next(iter(quarantined & {f"N{d}" for d in typed}))
        assert lost_decisions(typed, fed | {refused}, quarantined) == [refused]


def _quarantined_decisions(settings: Settings) -> set[str]:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            return set(
                conn.execute(
                    select(Quarantine.record_key).where(Quarantine.stream == "final_decisions")
                ).scalars()
            )
    finally:
        connectors.dispose()


def lost_decisions(typed: Sequence[int], fed: set[str], quarantined: set[str]) -> list[str]:
    """Typed decisions whose GCMS copy disagrees with the quarantine: missing though not
    refused, or present though refused."""
    keys = [f"N{d}" for d in typed]
    return sorted(k for k in keys if (k in fed) == (k in quarantined))


@pytest.fixture
def metadata(backend: str) -> Iterator[tuple[str | None, str]]:
    """Airflow's metadata database: SQLite on the SQLite run (a copy of the migrated one),
    PostgreSQL + Celery on the other (migrated by the test: it is the only one there)."""
    if backend == "sqlite":
        yield None, "LocalExecutor"
        return
    url = f"{PG_URL}/cst_airflow_{uuid.uuid4().hex[:8]}"
    dialect.ensure_database(dialect.normalize_url(url))
    yield url.replace("postgresql://", "postgresql+psycopg://", 1), "CeleryExecutor"
    dialect.drop_database(dialect.normalize_url(url))


@SLOW_ON_SQLITE
def test_backfill_through_the_scheduler_equals_casesync_nightly(
    copies: Callable[[], Settings],
    metadata: tuple[str | None, str],
    request: pytest.FixtureRequest,
) -> None:
    through_airflow, by_hand = copies(), copies()
    last = FIRST + dt.timedelta(days=NIGHTS - 1)
    nightly(by_hand, FIRST, last)
    metadata_url, executor = metadata
    if metadata_url is None:
        request.getfixturevalue("migrated_airflow")(through_airflow.airflow_home)
    queue = f"casesync_{uuid.uuid4().hex[:8]}"
    connections = {}
    task_settings = through_airflow
    if executor == "CeleryExecutor":
        # Tasks must find the databases through Airflow connections: the settings they
        # inherit point elsewhere.
        connections = {
            f"{name}_db": through_airflow.url(name)
            for name in ("nova", "gcms", "ncms", "control", "ground_truth")
        }
        task_settings = through_airflow.model_copy(
            update={
                f"{name}_url": f"sqlite:///{through_airflow.home / 'elsewhere'}_{name}.db"
                for name in ("nova", "gcms", "ncms", "control", "ground_truth")
            }
        )
    config = airflow_runner.AirflowConfig(
        home=through_airflow.airflow_home,
        idle_sleep=0.2,
        poll=0.5,
        metadata_url=metadata_url,
        executor=executor,
        broker_url="redis://127.0.0.1:6379/0",
        queue=queue,
        connections=connections,
    )
    with airflow_runner.running(task_settings, config) as airflow:
        runs = airflow.backfill("nightly_interfaces", FIRST, last)
        assert [r["state"] for r in runs] == ["success"] * NIGHTS
        starts = [
            dt.datetime.fromisoformat(r["data_interval_start"].replace("Z", "+00:00")) for r in runs
        ]
        assert [s.replace(tzinfo=None) for s in starts] == [
            night_interval(FIRST + dt.timedelta(days=i))[0] for i in range(NIGHTS)
        ]
        after = system_digests(through_airflow)
        assert after == system_digests(by_hand)
        if executor == "CeleryExecutor":
            instances = airflow.get(
                f"/api/v2/dags/nightly_interfaces/dagRuns/{runs[0]['dag_run_id']}/taskInstances"
            )
            assert {ti["queue"] for ti in instances["task_instances"]} == {queue}
        before = _sync_runs(through_airflow, last)
        again = airflow.backfill("nightly_interfaces", last, last, reprocess="completed")
        assert [r["state"] for r in again] == ["success"]
        assert (
            again[0]["dag_run_id"] == runs[-1]["dag_run_id"]
        )  # the same run, cleared and run again
        rerun = _sync_runs(through_airflow, last)
        # The night really ran again: one new succeeded run per interface, after the first ones.
        new = [r for r in rerun if r.run_id not in {b.run_id for b in before}]
        assert sorted((r.interface, r.status) for r in new) == [
            ("gcms_to_ncms", "succeeded"),
            ("nova_to_gcms", "succeeded"),
        ]
        assert min(r.run_id for r in new) > max(r.run_id for r in before)
        assert system_digests(through_airflow) == after
    # The component that forks the task processes had the task modules imported first.
    forks = "celery-worker" if executor == "CeleryExecutor" else "scheduler"
    log = (config.home / "process-logs" / f"{forks}.log").read_text(errors="replace")
    assert "casesync: task modules imported in" in log


def _sync_runs(settings: Settings, night: dt.date) -> list[Any]:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            return list(
                conn.execute(
                    select(SyncRun.run_id, SyncRun.interface, SyncRun.status).where(
                        SyncRun.night == night
                    )
                ).all()
            )
    finally:
        connectors.dispose()
