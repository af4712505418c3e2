"""
### Full validation

Every Sunday: validate everything the systems hold, as of the latest night all
interfaces have run (findings for analysts, Data Docs, inventory-health warnings).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from casesync.dag_support import DEFAULT_ARGS, WEEKLY_CRON, asset, start_date, timetable


@dag(
    dag_id="full_validation",
    schedule=timetable(WEEKLY_CRON),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["casesync", "validation", "weekly"],
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
)
def full_validation() -> None:
    @task(outlets=[asset("findings")])
    def validate_everything() -> dict[str, Any]:
        """Run every rule over every record."""
        from casesync import jobs

        return jobs.validate_full()

    validate_everything()


full_validation()
