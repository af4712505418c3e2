"""Start an Airflow component with casesync's task modules already imported.

Airflow's LocalExecutor (inside the scheduler) and Celery's prefork pool fork
every task process from a long-lived process, without starting a new
interpreter. A task that imports what it needs pays for it on every run:
Great Expectations alone takes about 8 s of CPU to import, so each night's
`validate_night` spent more time importing than validating. Imported once
here, before the component starts, every task process it forks has them.

    python -m casesync.warm_airflow scheduler --skip-serve-logs

runs `airflow scheduler --skip-serve-logs` that way (`casesync airflow` and the
tests start the scheduler and the Celery worker like this). Nothing here reads
a setting or opens a connection: a task still reads both when it runs.
"""

from __future__ import annotations

import importlib
import sys
import time

#: What the DAGs' tasks import when they run (casesync/jobs.py and the DAG files).
TASK_MODULES = (
    "casesync.jobs",
    "casesync.sync",
    "casesync.seeding",
    "casesync.validation",
    "casesync.report",
    "expectations.gx",
    "great_expectations",
)


def preload() -> float:
    """Import every task module; the seconds it took."""
    started = time.perf_counter()
    for name in TASK_MODULES:
        importlib.import_module(name)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int | None:
    """Preload the task modules, then run Airflow's command line with `argv`."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        sys.stderr.write("usage: python -m casesync.warm_airflow <airflow command> [options]\n")
        return 2
    seconds = preload()
    sys.stderr.write(f"casesync: task modules imported in {seconds:.1f} s before airflow starts\n")
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *arguments]
    return airflow_main()


if __name__ == "__main__":
    sys.exit(main())
