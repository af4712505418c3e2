"""
### Simulate a day (demo)

Demo only: advances the synthetic world through the run's day, an hour before
that night's interfaces run, so the nightly chain always has a new day of
entries to move. A run for a day the world has already reached does nothing.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from casesync.dag_support import DEFAULT_ARGS, SIMULATE_CRON, asset, start_date, timetable


@dag(
    dag_id="simulate_day",
    schedule=timetable(SIMULATE_CRON),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["casesync", "demo", "simulator"],
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
)
def simulate_day() -> None:
    @task(outlets=[asset("nova"), asset("gcms"), asset("ncms"), asset("world")])
    def advance_world(data_interval_start: Any = None) -> dict[str, Any]:
        """Simulate the world's day: staff type the day's events into the three systems."""
        from casesync import jobs

        return jobs.simulate_through(data_interval_start)

    advance_world()


simulate_day()
