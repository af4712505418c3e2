"""
### Replay a night

For engineers: re-apply one interface's stored batch for a night, after checking
it against its manifest. With **dry_run** the run only reports what it would
add or change (before and after values, in the task's XCom). Trigger it with
the params below from the UI ("Trigger DAG w/ config") or
`airflow dags trigger replay_night --conf '{"night": "2020-01-07", "interface": "nova_to_gcms"}'`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from casesync.dag_support import DEFAULT_ARGS, start_date


@dag(
    dag_id="replay_night",
    schedule=None,
    start_date=start_date(),
    catchup=False,
    tags=["casesync", "interfaces", "replay"],
    doc_md=__doc__,
    default_args={**DEFAULT_ARGS, "retries": 0},
    params={
        "night": Param(
            "2020-01-06", type="string", format="date", description="The night, YYYY-MM-DD."
        ),
        "interface": Param("nova_to_gcms", enum=["nova_to_gcms", "gcms_to_ncms"]),
        "dry_run": Param(True, type="boolean", description="Only report what would change."),
    },
)
def replay_night() -> None:
    @task
    def replay_batch(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Re-apply (or preview) the stored batch of one interface for one night."""
        from casesync import jobs

        chosen = params or {}
        return jobs.replay(str(chosen["night"]), str(chosen["interface"]), bool(chosen["dry_run"]))

    replay_batch()


replay_night()
