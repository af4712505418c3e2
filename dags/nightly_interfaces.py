"""
### Nightly interfaces

Runs one night of today's one-way feeds, then checks the night:

1. **sync_nova_to_gcms**: NOVA RPD and RAD filings and final decisions into GCMS;
2. **sync_gcms_to_ncms**: travel documents, RPD/RAD decisions, litigation, appeals
   and PRRA into NCMS;
3. **reconcile_systems**: refresh the reconciliation tables; fail when a feed fell behind;
4. **validate_night**: the night's validation (findings for analysts, Data Docs);
5. **build_report**: the analysts' report of the night and its work queue per region
   (`var/reports/<night>/`).

With `CASESYNC_INTEROP_MODE=two_way` the night also runs **sync_ncms_to_gcms**
(NCMS warrants, triage and review decisions, removal information and R240(3)
departures into GCMS, before the GCMS feed) and **sync_gcms_to_nova** (cases
cleared for the IRB to schedule, after it); changes to fields a target owns are
queued as conflicts (`casesync conflicts`), and recorded resolutions applied.

A run covers [D 02:00, D+1 02:00) America/Toronto (its data interval). Each sync
writes an immutable batch and loads it idempotently, so a rerun or a backfill of
a night leaves the systems exactly as one clean run. A batch whose counts do not
reconcile, or too large a share quarantined, fails its task and stops the night.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import dag, task

from casesync.dag_support import DEFAULT_ARGS, NIGHTLY_CRON, asset, start_date, timetable

#: The interoperability mode is a setting in the environment (no connection is read):
#: two_way adds the NCMS -> GCMS and GCMS -> NOVA syncs.
TWO_WAY = os.environ.get("CASESYNC_INTEROP_MODE", "one_way") == "two_way"


@dag(
    dag_id="nightly_interfaces",
    schedule=timetable(NIGHTLY_CRON),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["casesync", "interfaces", "nightly"],
    doc_md=__doc__,
    default_args=DEFAULT_ARGS,
)
def nightly_interfaces() -> None:
    @task(outlets=[asset("gcms")])
    def sync_nova_to_gcms(data_interval_start: Any = None) -> dict[str, Any]:
        """Move the night's NOVA filings and final decisions into GCMS."""
        from casesync import jobs

        return jobs.sync_interface("nova_to_gcms", data_interval_start)

    @task(outlets=[asset("ncms")])
    def sync_gcms_to_ncms(data_interval_start: Any = None) -> dict[str, Any]:
        """Move the night's GCMS decisions, litigation, PRRA and travel documents into NCMS."""
        from casesync import jobs

        return jobs.sync_interface("gcms_to_ncms", data_interval_start)

    @task(outlets=[asset("gcms")])
    def sync_ncms_to_gcms(data_interval_start: Any = None) -> dict[str, Any]:
        """Two-way: move the night's NCMS warrants, case decisions and R240(3) departures."""
        from casesync import jobs

        return jobs.sync_interface("ncms_to_gcms", data_interval_start)

    @task
    def sync_gcms_to_nova(data_interval_start: Any = None) -> dict[str, Any]:
        """Two-way: send the IRB the cases GCMS cleared for scheduling."""
        from casesync import jobs

        return jobs.sync_interface("gcms_to_nova", data_interval_start)

    @task
    def reconcile_systems(data_interval_start: Any = None) -> dict[str, Any]:
        """Refresh the reconciliation tables; fail if a feed is behind past tolerance."""
        from casesync import jobs

        return jobs.reconcile(data_interval_start)

    @task(outlets=[asset("findings")])
    def validate_night(data_interval_start: Any = None) -> dict[str, Any]:
        """Validate the night's changes; findings go to the analysts' work queue."""
        from casesync import jobs

        return jobs.validate_night(data_interval_start)

    @task
    def build_report(data_interval_start: Any = None) -> dict[str, Any]:
        """Write the night's analyst report (offline HTML) and its work queues (CSV)."""
        from casesync import jobs
        from casesync.report import build_report as write

        return write(jobs.task_settings(), jobs.night_of(data_interval_start))

    checks = reconcile_systems()
    checks >> validate_night() >> build_report()
    first = sync_nova_to_gcms()
    if TWO_WAY:
        first >> sync_ncms_to_gcms() >> sync_gcms_to_ncms() >> sync_gcms_to_nova() >> checks
    else:
        first >> sync_gcms_to_ncms() >> checks


nightly_interfaces()
