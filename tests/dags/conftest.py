"""Airflow's metadata database, migrated once per test run and copied into each test's home.

`airflow db migrate` of a new SQLite metadata database takes 10-20 s; every test that runs
Airflow on the embedded default starts from a copy of one migrated database instead (its
stamp says so, and `airflow_runner.migrate` then has nothing to do). The first xdist worker
to need it migrates it; the other waits for it (a file lock in the run's shared temporary
directory).
"""

from __future__ import annotations

import fcntl
import shutil
from typing import TYPE_CHECKING

import pytest

from casesync import airflow_runner
from casesync.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

#: The files of a migrated home a copy needs: the database, its stamp, and the keys its
#: secrets were written with.
TEMPLATE_FILES = ("airflow.db", airflow_runner.MIGRATED, "casesync-secrets.json")


@pytest.fixture(scope="session")
def migrated_airflow(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], None]:
    """Copies a migrated SQLite metadata database (and its stamp) into an Airflow home."""
    shared = tmp_path_factory.getbasetemp().parent  # one directory for every xdist worker
    template = shared / "airflow-template"
    with open(shared / "airflow-template.lock", "w") as lock:  # closing it unlocks it
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = airflow_runner.airflow_env(
            Settings(home=shared / "airflow-template-world"),
            airflow_runner.AirflowConfig(home=template),
        )
        airflow_runner.migrate(env)  # nothing to do when the other worker did it
        assert airflow_runner.is_migrated(env)

    def copy_into(home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        for name in TEMPLATE_FILES:
            shutil.copy2(template / name, home / name)

    return copy_into
