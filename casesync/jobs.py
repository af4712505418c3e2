"""What the DAGs' tasks do: the same functions as the CLI, given a night by Airflow.

Each function takes the run's data interval (never the clock), resolves the
databases (Airflow connections `nova_db`, `gcms_db`... when defined, else the
casesync settings), does one step of the night, and returns a JSON-able
summary for XCom. Pipeline-level failures raise PipelineCheckFailed naming
the checks; record-level findings never fail a task.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from casesync.settings import DATABASES, Settings, get_settings
from schemas.calendar import TORONTO
from schemas.errors import PipelineCheckFailed

#: Airflow connection id for each database.
CONNECTION_IDS = {name: f"{name}_db" for name in DATABASES}
#: Nights a feed may fall behind before the reconciliation blocks the night.
LAG_TOLERANCE_NIGHTS = 1


def night_of(interval_start: Any) -> dt.date:
    """The night a data interval covers: its start, as a Toronto date."""
    moment = (
        interval_start
        if isinstance(interval_start, dt.datetime)
        else dt.datetime.fromisoformat(str(interval_start))
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TORONTO).date()


def _connection_url(conn_id: str) -> str | None:
    """The SQLAlchemy URL of an Airflow connection, or None when it is not defined."""
    if (
        not any(key.startswith("AIRFLOW_CONN_") for key in os.environ)
        and "AIRFLOW_HOME" not in os.environ
    ):
        return None
    try:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return None
    try:
        connection = Connection.get(conn_id)
    except AirflowNotFoundException:  # not defined: the casesync settings say where it is
        return None
    # Any other error (the API server did not answer...) propagates: falling back to
    # the SQLite files would write a night into the wrong databases.
    uri = connection.get_uri()
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://") :]
    return uri


def task_settings() -> Settings:
    """Settings for a task: Airflow connections override the database URLs they define."""
    settings = get_settings()
    overrides = {}
    for name, conn_id in CONNECTION_IDS.items():
        url = _connection_url(conn_id)
        if url:
            overrides[f"{name}_url"] = url
    if not overrides:
        return settings
    return settings.model_copy(update=overrides)


def sync_interface(interface: str, data_interval_start: Any) -> dict[str, Any]:
    """One interface for the run's night; blocking checks on counts and quarantine."""
    from casesync.sync import run_night

    settings = task_settings()
    night = night_of(data_interval_start)
    (result,) = run_night(settings, night, interface=interface, check=True)
    summary = result.as_dict()
    summary.pop("streams", None)
    return summary


def reconcile(data_interval_start: Any) -> dict[str, Any]:
    """Refresh the reconciliation tables; block when a feed fell behind past tolerance."""
    from casesync.sync import active_interfaces
    from connectors import Connectors
    from expectations import reconcile as recon

    settings = task_settings()
    night = night_of(data_interval_start)
    connectors = Connectors.from_settings(settings)
    try:
        copied, unread = recon.refresh(connectors)
        if unread:
            raise PipelineCheckFailed(
                f"reconcile night {night}", {f"read:{k}": v for k, v in unread.items()}
            )
        lag = recon.lagging(connectors, active_interfaces(settings), night, LAG_TOLERANCE_NIGHTS)
    finally:
        connectors.dispose()
    if lag:
        behind = f"older than {LAG_TOLERANCE_NIGHTS} night(s) not delivered"
        rules = {
            f"reconciliation_lag:{name}": f"{count} records {behind}" for name, count in lag.items()
        }
        raise PipelineCheckFailed(f"reconcile night {night}", rules)
    return {"night": night.isoformat(), "copied": sum(copied.values())}


def validate_night(data_interval_start: Any) -> dict[str, Any]:
    """The night's validation; findings go to analysts, they never fail the task."""
    from casesync.validation import validate

    result = validate(task_settings(), night=night_of(data_interval_start))
    return {
        k: result[k]
        for k in ("scope", "findings", "errors", "warnings", "rule_seconds", "data_docs")
    }


def validate_full() -> dict[str, Any]:
    from casesync.validation import validate

    result = validate(task_settings())
    return {
        k: result[k]
        for k in ("scope", "findings", "errors", "warnings", "rule_seconds", "data_docs")
    }


def replay(night: str, interface: str, dry_run: bool) -> dict[str, Any]:
    """Re-apply (or preview) a stored batch, for engineers."""
    from casesync.sync import parse_night, run_night

    (result,) = run_night(
        task_settings(), parse_night(night), interface=interface, replay=True, dry_run=dry_run
    )
    return result.as_dict()


def simulate_through(data_interval_start: Any) -> dict[str, Any]:
    """Advance the demo world to the end of the run's night (a no-op when it is there already)."""
    from casesync.seeding import simulate_until

    return simulate_until(task_settings(), night_of(data_interval_start))
