"""What the DAG files share: owner, retries, the nightly timetable, the systems' Assets.

Imported at DAG parse time: light on purpose (no database, no heavy library).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

TIMEZONE = "America/Toronto"
#: Nightly interfaces: a run covers [D 02:00, D+1 02:00) Toronto and starts after it ends.
NIGHTLY_CRON = "0 2 * * *"
#: The demo world advances one day an hour before the nightly chain.
SIMULATE_CRON = "0 1 * * *"
#: Full validation: Sundays at 04:00.
WEEKLY_CRON = "0 4 * * 0"
#: The earliest night the DAGs can backfill.
FIRST_NIGHT = dt.datetime(2019, 1, 1, 2, 0)

#: Failures a retry cannot fix: the task fails at once (and the sync run says `blocked`).
#: A lock held by another run, a database that did not answer: retried as usual.
NOT_RETRIED = (
    "schemas.errors.PipelineCheckFailed",
    "schemas.errors.BatchIntegrityError",
    "casesync.errors.BadInput",
)


def retry_policy() -> Any:
    """Fail at once on the errors in NOT_RETRIED; everything else takes the task's retries."""
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    return ExceptionRetryPolicy(
        rules=[
            RetryRule(
                exception=list(NOT_RETRIED),
                action=RetryAction.FAIL,
                reason="a blocking check or a batch integrity error: a retry cannot fix it",
            )
        ]
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "casesync",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    #: A night of a CBSA-scale world takes minutes; a task past this is stuck, not slow.
    "execution_timeout": dt.timedelta(hours=2),
    "retry_policy": retry_policy(),
}

#: Asset URIs of what the tasks update.
ASSET_URIS = {
    "nova": "casesync://nova",
    "gcms": "casesync://gcms",
    "ncms": "casesync://ncms",
    "findings": "casesync://control/findings",
    "world": "casesync://world",
}


def timetable(cron: str) -> Any:
    """A cron timetable whose runs cover a whole interval in Toronto time."""
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable(cron, timezone=TIMEZONE)


def start_date() -> Any:
    import pendulum

    return pendulum.instance(FIRST_NIGHT, tz=TIMEZONE)


def asset(name: str) -> Any:
    from airflow.sdk import Asset

    return Asset(uri=ASSET_URIS[name], name=name)
