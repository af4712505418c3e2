"""Creating a backfill while Airflow's SQLite database is busy: retried, and said; other errors
are not retried; a backfill stops waiting when a process it needs has died."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from casesync import airflow_runner
from casesync.errors import CasesyncError

if TYPE_CHECKING:
    from pathlib import Path

BUSY = (
    'Airflow API POST /api/v2/backfills: HTTP 500: {"detail":{"reason":"Database error",'
    '"statement":"hidden","orig_error":"hidden"}}'
)


class _Airflow(airflow_runner.RunningAirflow):
    """The REST client with a scripted answer to each POST, and one finished run."""

    def __init__(self, home: Path, answers: list[Exception | None]) -> None:
        super().__init__(airflow_runner.AirflowConfig(home=home, poll=0.01), {})
        self.answers = answers
        self.posts = 0

        self.backfills: list[dict[str, Any]] = []  # what GET /backfills answers
        self.closed: list[int] = []

    def post(self, path: str, body: Any) -> Any:
        self.posts += 1
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer
        return {"id": 1}

    def get(self, path: str) -> Any:
        assert path.startswith("/api/v2/backfills?dag_id=nightly_interfaces")
        return {"backfills": self.backfills}

    def _wait_backfills_done(self, dag_id: str, deadline: float) -> None:
        return None

    def runs(self, dag_id: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        return [{"state": "success", "dag_run_id": "r1", "data_interval_start": start.isoformat()}]

    def _report(self, *args: Any) -> None:
        return None

    def _close(self, backfill: Any) -> None:
        self.closed.append(backfill["id"])
        backfill["completed_at"] = "2020-01-06T07:00:00Z"


def test_a_busy_database_is_retried_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(airflow_runner.time, "sleep", lambda _: None)
    airflow = _Airflow(tmp_path, [CasesyncError(BUSY), None])
    heard: list[str] = []
    night = dt.date(2020, 1, 6)
    runs = airflow._backfill("nightly_interfaces", night, night, "none", 60, heard.append)
    assert airflow.posts == 2 and [r["state"] for r in runs] == ["success"]
    assert len(heard) == 1 and "database was busy" in heard[0]


def test_another_error_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airflow_runner.time, "sleep", lambda _: None)
    refused = CasesyncError('Airflow API POST /api/v2/backfills: HTTP 422: {"detail":"bad date"}')
    airflow = _Airflow(tmp_path, [refused, None])
    night = dt.date(2020, 1, 6)
    with pytest.raises(CasesyncError, match="HTTP 422"):
        airflow._backfill("nightly_interfaces", night, night, "none", 60, None)
    assert airflow.posts == 1


def test_a_backfill_stops_waiting_when_the_scheduler_died(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    monkeypatch.setattr(airflow_runner.time, "sleep", lambda _: None)
    airflow = _Airflow(tmp_path, [None])
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    airflow.processes["scheduler"] = dead
    night = dt.date(2020, 1, 6)
    died = r"scheduler exited with status 3; see .*scheduler\.log"
    with pytest.raises(CasesyncError, match=died):
        airflow._backfill("nightly_interfaces", night, night, "none", 60, None)


CONFLICT = CasesyncError(
    "Airflow API POST /api/v2/backfills: HTTP 409: "
    '{"detail":"There is already a running backfill for dag nightly_interfaces"}'
)


def test_a_backfill_a_failed_attempt_left_open_is_closed_and_the_next_attempt_goes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow commits a backfill before its runs: a lock error while creating them can leave
    it open, and it refuses every later backfill until closed."""
    monkeypatch.setattr(airflow_runner.time, "sleep", lambda _: None)
    airflow = _Airflow(tmp_path, [CasesyncError(BUSY), CONFLICT, None])
    earlier = {"id": 3, "completed_at": "2020-01-05T07:00:00Z"}  # an earlier, closed one
    airflow.backfills = [earlier]
    answers = airflow.answers

    def post(path: str, body: Any) -> Any:
        if len(answers) == 3:  # the busy attempt leaves its backfill behind, open
            airflow.backfills.append({"id": 4, "completed_at": None})
        return _Airflow.post(airflow, path, body)

    monkeypatch.setattr(airflow, "post", post)
    heard: list[str] = []
    night = dt.date(2020, 1, 6)
    runs = airflow._backfill("nightly_interfaces", night, night, "none", 60, heard.append)
    assert [r["state"] for r in runs] == ["success"] and airflow.posts == 3
    assert airflow.closed[0] == 4 and 3 not in airflow.closed  # only the orphan, then its own
    assert any("closing backfill 4" in line for line in heard)


def test_a_conflict_with_a_backfill_open_before_the_call_closes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(airflow_runner.time, "sleep", lambda _: None)
    airflow = _Airflow(tmp_path, [CONFLICT] * 10)
    airflow.backfills = [{"id": 7, "completed_at": None}]  # someone else's, running
    night = dt.date(2020, 1, 6)
    with pytest.raises(CasesyncError, match="HTTP 409"):
        airflow._backfill("nightly_interfaces", night, night, "none", 60, None)
    assert airflow.closed == []
