"""`casesync airflow`, `casesync backfill` and `casesync demo`: Airflow for people."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from casesync import airflow_runner
from casesync.errors import BadInput, CasesyncError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

#: The demo world: small enough that its nights run through Airflow in a couple of minutes,
#: with a defect rate high enough that five days hold a few planted errors to find.
DEMO = {"files": 10000, "days": 5, "start": "2020-01-06", "defect_rate": 0.05, "seed": 2020}


def _state_file(settings: Settings) -> Any:
    return settings.airflow_home / "casesync-airflow.json"


@contextlib.contextmanager
def airflow(settings: Settings) -> Iterator[airflow_runner.RunningAirflow]:
    """The embedded Airflow: the one `casesync airflow` runs, or a private one for this command."""
    state = _state_file(settings)
    if state.exists():
        port = int(json.loads(state.read_text())["port"])
        config = airflow_runner.AirflowConfig(home=settings.airflow_home, port=port)
        running = airflow_runner.RunningAirflow(
            config, airflow_runner.airflow_env(settings, config)
        )
        if running.healthy():
            yield running
            return
    config = airflow_runner.AirflowConfig(home=settings.airflow_home)
    with airflow_runner.running(settings, config) as started:
        yield started


def backfill(
    settings: Settings,
    first: dt.date,
    last: dt.date,
    *,
    reprocess: str = "none",
    dag_id: str = "nightly_interfaces",
    progress: Callable[[str], None] | None = None,
    pause_after: bool = False,
) -> list[dict[str, Any]]:
    """Backfill nights through Airflow's scheduler; every run must succeed.

    The world is checked first (databases current, nights within the simulated
    days), so a backfill that cannot work fails in seconds, not after Airflow
    retried it. `progress` hears each task's state per night as it changes, and
    why a task failed as soon as it fails.
    """
    if last < first:
        raise BadInput(f"--to ({last}) is before --from ({first})")
    if reprocess not in ("none", "completed", "failed"):
        raise BadInput(
            f"--reprocess-behavior must be none, completed or failed (got {reprocess!r})"
        )
    _check_world(settings, first, last)
    failures: list[str] = []

    def heard(line: str) -> None:
        if ": " in line and " failed: " in line:
            failures.append(line)
        if progress is not None:
            progress(line)

    with airflow(settings) as running:
        runs = running.backfill(dag_id, first, last, reprocess=reprocess, progress=heard)
        if pause_after:  # the demo: `make airflow` must not start a night of its own at once
            running.pause(dag_id)
    failed = [r for r in runs if r["state"] != "success"]
    if failed:
        nights = ", ".join(airflow_runner.night_of_run(r) for r in failed)
        reasons = "; ".join(failures) or f"task logs under {settings.airflow_home / 'logs'}"
        raise CasesyncError(f"{len(failed)} night(s) failed ({nights}): {reasons}")
    return runs


def _check_world(settings: Settings, first: dt.date, last: dt.date) -> None:
    """The databases are current and the nights are simulated ones: else say so now."""
    from casesync.database import require_current
    from casesync.settings import DATABASES
    from casesync.sync import require_simulated, require_supported_mode
    from connectors import Connectors

    require_supported_mode(settings.interop_mode)
    connectors = Connectors.from_settings(settings)
    try:
        require_current(connectors, DATABASES)
        require_simulated(connectors, first)
        require_simulated(connectors, last)
    finally:
        connectors.dispose()


def serve(settings: Settings, say: Callable[[str], None], *, port: int = 8080) -> None:
    """Run the Airflow UI (with schedules on) until interrupted (Ctrl-C or SIGTERM).

    Every process it starts is stopped on the way out, whichever signal ended it.
    """
    import signal
    import socket
    import time

    if not 1 <= port <= 65535:
        raise BadInput(f"--port must be between 1 and 65535 (got {port})")
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise BadInput(f"--port {port} cannot be used: {exc.strerror}") from None

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    config = airflow_runner.AirflowConfig(
        home=settings.airflow_home, schedules=True, port=port, triggerer=True
    )
    with airflow_runner.running(settings, config) as running:
        _state_file(settings).write_text(json.dumps({"port": config.port}))
        say(f"Airflow is up: {config.api_url}  (login: admin / {running.password})")
        say("DAGs: nightly_interfaces, replay_night, full_validation, simulate_day. Ctrl-C stops.")
        try:
            while all(p.poll() is None for p in running.processes.values()):
                time.sleep(2)
        except KeyboardInterrupt:
            say("stopping Airflow")
        finally:
            _state_file(settings).unlink(missing_ok=True)


def demo(settings: Settings, say: Callable[[str], None]) -> dict[str, Any]:
    """Seed the demo world, run its nights through Airflow, validate, score; say where to look."""
    import shutil
    import time

    from casesync.database import init_all
    from casesync.seeding import parse_options, seed
    from casesync.validation import score, validate

    started = time.perf_counter()
    say("1. casesync init: the five databases")
    for result in init_all(settings):
        say("   " + result.describe())
    options = parse_options(mode=settings.interop_mode.value, **DEMO)  # type: ignore[arg-type]
    say(
        f"2. casesync seed: {options.files:,} files, "
        f"then {options.days} simulated days from {options.start}"
    )
    seeded = seed(settings, options, replace=True)
    say(
        f"   {seeded['typed_entries']:,} typed entries, "
        f"{sum(seeded['defects'].values())} planted defects"
    )
    first = options.start
    last = first + dt.timedelta(days=options.days - 1)
    shutil.rmtree(settings.airflow_home, ignore_errors=True)  # the demo's Airflow starts empty
    say(
        "3. Airflow (scheduler, DAG processor, API server) "
        f"backfills nightly_interfaces {first}..{last}"
    )
    runs = backfill(
        settings, first, last, progress=lambda line: say("   " + line), pause_after=True
    )
    for run in runs:
        say(f"   {run['dag_run_id']}: {run['state']}")
    say("4. casesync validate --full")
    checked = validate(settings)
    say(f"   {checked['errors']:,} error and {checked['warnings']:,} warning findings")
    say(
        "   (errors: a record typed wrong, to correct; warnings: a file that needs attention,"
        " such as a dormant file or an order nobody works on: both in the night's report)"
    )
    scored = score(settings)
    overall = scored["overall"]
    say(f"5. casesync score: recall {overall['recall']}, precision {overall['precision']}")
    for name, entry in scored["classes"].items():
        say(f"   {name:<26} planted {entry['planted']:>3}, found {entry['found']:>3}")
    summary = {
        "seconds": round(time.perf_counter() - started, 1),
        "runs": [(r["dag_run_id"], r["state"]) for r in runs],
        "findings": checked["findings"],
        "data_docs": checked["data_docs"],
        "recall": overall["recall"],
        "precision": overall["precision"],
    }
    say("")
    say(f"Done in {summary['seconds']} s. Where to look:")
    say(f"  databases        {settings.home.resolve()}/{{nova,gcms,ncms,control,ground_truth}}.db")
    say(f"  batches          {settings.batch_dir}")
    say(f"  Data Docs        {checked['data_docs']}")
    say(f"  Airflow logs     {settings.airflow_home / 'logs'}")
    say("  findings         casesync validate --full; casesync score")
    say("  Airflow UI       make airflow   (prints the login)")
    return summary
