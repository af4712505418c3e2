"""casesync.warm_airflow's command line (the backfill test in tests/dags/test_dag_runs.py checks
that the scheduler and the Celery worker it starts imported the task modules first)."""

from __future__ import annotations

import subprocess
import sys


def test_without_a_command_it_prints_its_usage_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "casesync.warm_airflow"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "usage: python -m casesync.warm_airflow <airflow command>" in done.stderr
