"""What an operator sees: a failing backfill says which night, task and check, at once; SIGTERM
to `casesync airflow` leaves no process behind; nights the world has not reached are refused."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from casesync import orchestrate
from casesync.errors import BadInput, CasesyncError
from casesync.seeding import parse_options, seed
from connectors import Connectors
from schemas import nova
from schemas.calendar import night_interval
from schemas.control import SyncRun
from tests.conftest import settings_env, type_claim

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = [pytest.mark.dags, pytest.mark.slow]

FIRST = dt.date(2020, 1, 6)


def _seed(settings: Settings) -> None:
    seed(
        settings,
        parse_options(
            files=150, days=2, start=FIRST.isoformat(), defect_rate=0.0, seed=4, mode="one_way"
        ),
    )


def test_a_backfill_beyond_the_world_is_refused_before_airflow_starts(settings: Settings) -> None:
    _seed(settings)
    started = time.monotonic()
    with pytest.raises(BadInput, match="after the world's last simulated day"):
        orchestrate.backfill(settings, FIRST, FIRST + dt.timedelta(days=30))
    assert time.monotonic() - started < 10
    assert not (settings.airflow_home / "airflow.db").exists()


def test_a_failed_backfill_names_night_task_and_check_within_seconds(
    settings: Settings, migrated_airflow: Callable[[Path], None]
) -> None:
    _seed(settings)
    migrated_airflow(settings.airflow_home)
    night = FIRST + dt.timedelta(days=1)
    connectors = Connectors.from_settings(settings)
    try:  # a clerk's batch of decisions with an outcome code NOVA never uses
        typed = night_interval(night)[0] + dt.timedelta(hours=12)
        for number in range(30):
            _, decision_id = type_claim(connectors, 300 + number, typed)
            with connectors.nova.begin() as conn:
                conn.execute(
                    update(nova.Decision)
                    .where(nova.Decision.decision_id == decision_id)
                    .values(outcome_code="ZZZ")
                )
    finally:
        connectors.dispose()
    heard: list[tuple[float, str]] = []
    with pytest.raises(CasesyncError) as failed:
        orchestrate.backfill(
            settings, FIRST, night, progress=lambda line: heard.append((time.time(), line))
        )
    assert "2020-01-07" in str(failed.value)
    assert "quarantine_share" in str(failed.value)
    said = [(at, line) for at, line in heard if "sync_nova_to_gcms failed" in line]
    assert said, heard
    at, line = said[0]
    assert "night 2020-01-07" in line
    assert "quarantine_share" in line and "30 of" in line
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            blocked = conn.execute(
                select(SyncRun.status, SyncRun.finished_at).where(
                    SyncRun.night == night, SyncRun.interface == "nova_to_gcms"
                )
            ).all()
    finally:
        connectors.dispose()
    assert [status for status, _ in blocked] == ["blocked"]  # not retried
    finished_at = blocked[0][1]
    assert finished_at is not None
    finished = finished_at.replace(tzinfo=dt.UTC).timestamp()
    assert at - finished < 10, (at - finished, line)
    assert any("night 2020-01-06: validate_night success" in line for _, line in heard)


def _processes_of(home: Path) -> list[int]:
    """Processes whose environment names this Airflow home."""
    found = []
    marker = f"AIRFLOW_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environment.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_sigterm_to_casesync_airflow_stops_every_process_it_started(
    settings: Settings, migrated_airflow: Callable[[Path], None]
) -> None:
    from casesync.airflow_runner import free_port

    migrated_airflow(settings.airflow_home)
    home = settings.airflow_home.resolve()
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "casesync", "airflow", "--port", str(free_port())],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        assert wrapper.stdout is not None
        for line in wrapper.stdout:
            if "Airflow is up" in line or time.monotonic() > deadline:
                break
        children = _processes_of(home)
        assert len(children) >= 4, children  # API server, scheduler, DAG processor, triggerer
        wrapper.send_signal(signal.SIGTERM)
        wrapper.wait(timeout=90)
        time.sleep(1)
        assert _processes_of(home) == []
    finally:
        for pid in _processes_of(home):
            os.kill(pid, signal.SIGKILL)
        if wrapper.poll() is None:
            wrapper.kill()


def test_a_port_out_of_range_is_refused(settings: Settings) -> None:
    with pytest.raises(BadInput, match="--port must be between 1 and 65535"):
        orchestrate.serve(settings, print, port=99999)


def test_airflow_is_migrated_again_unless_its_database_is_the_one_it_migrated(
    settings: Settings, migrated_airflow: Callable[[Path], None]
) -> None:
    """`airflow db migrate` is skipped only for a database at the revision the stamp names,
    left by this Airflow version."""
    import json

    from casesync.airflow_runner import MIGRATED, AirflowConfig, airflow_env, is_migrated

    migrated_airflow(settings.airflow_home)
    env = airflow_env(settings, AirflowConfig(home=settings.airflow_home))
    assert is_migrated(env)
    stamp = settings.airflow_home / MIGRATED
    kept = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**kept, "airflow": "2.10.0"}))  # another Airflow migrated it
    assert not is_migrated(env)
    stamp.write_text(json.dumps(kept))
    database = settings.airflow_home / "airflow.db"
    database.write_bytes(b"")  # an empty database in its place
    assert not is_migrated(env)
    database.unlink()
    assert not is_migrated(env)
