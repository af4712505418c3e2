"""Every DAG file parses fast, touches no database at parse time, and is documented."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dags
DAGS = Path(__file__).resolve().parents[2] / "dags"


def _load() -> Any:
    from airflow.models import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def bag() -> Any:
    import airflow  # noqa: F401  (import time is not parse time)

    return _load()


def test_every_file_imports_without_errors(bag: Any) -> None:
    assert bag.import_errors == {}
    files = {p.name for p in DAGS.glob("*.py")}
    assert files == {
        "nightly_interfaces.py",
        "replay_night.py",
        "full_validation.py",
        "simulate_day.py",
    }
    assert set(bag.dags) == {
        "nightly_interfaces",
        "replay_night",
        "full_validation",
        "simulate_day",
    }


def test_parsing_the_folder_takes_under_two_seconds() -> None:
    import airflow  # noqa: F401

    started = time.perf_counter()
    bag = _load()
    assert bag.import_errors == {}
    assert time.perf_counter() - started < 2.0


def test_no_database_or_connection_access_at_parse_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk
    import sqlalchemy

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a DAG file touched a database or a connection while being parsed")

    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)
    monkeypatch.setattr(airflow.sdk.Connection, "get", refuse)
    monkeypatch.setattr(airflow.sdk.BaseHook, "get_connection", refuse)
    bag = _load()
    assert bag.import_errors == {}
    assert len(bag.dags) == 4


def test_dags_have_tags_owner_retries_and_docs(bag: Any) -> None:
    for dag_id, dag in bag.dags.items():
        assert dag.tags and "casesync" in dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag_id
        assert dag.default_args["owner"] == "casesync", dag_id
        for task in dag.tasks:
            retries = task.retries
            assert retries >= (0 if dag_id == "replay_night" else 1), (dag_id, task.task_id)
            assert task.doc_md or task.doc, (dag_id, task.task_id)
            first = task.task_id.split("_")[0]
            verbs = {"sync", "reconcile", "validate", "build", "replay", "advance"}
            assert first in verbs, task.task_id


def test_nightly_chain_order_and_timetable(bag: Any) -> None:
    dag = bag.dags["nightly_interfaces"]
    order = [
        "sync_nova_to_gcms", "sync_gcms_to_ncms", "reconcile_systems", "validate_night",
        "build_report",
    ]  # fmt: skip
    for upstream, downstream in itertools.pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    timetable = dag.timetable
    assert type(timetable).__name__ == "CronDataIntervalTimetable"
    assert timetable.expression == "0 2 * * *"
    assert str(timetable.timezone) == "America/Toronto"
    outlets = {t.task_id: [a.uri.rstrip("/") for a in t.outlets] for t in dag.tasks}
    assert outlets["sync_nova_to_gcms"] == ["casesync://gcms"]
    assert outlets["sync_gcms_to_ncms"] == ["casesync://ncms"]
