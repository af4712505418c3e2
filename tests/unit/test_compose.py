"""docker-compose.yml: parsed and checked (no Docker engine runs the tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from casesync.settings import DATABASES, env_variables

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_services_and_their_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis"} <= set(services)
    commands = {name: _command(service) for name, service in services.items()}
    for wanted in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert wanted in commands.values(), wanted
    # the worker forks every task: it starts with the task modules imported, as in the tests
    assert commands["airflow-worker"] == "python -m casesync.warm_airflow celery worker"
    for name, service in services.items():
        if name in ("postgres", "redis"):
            continue
        image = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", service["image"])  # the default
        assert image.split(":")[0] == "apache/airflow", image
        assert re.fullmatch(r"apache/airflow:3\.3\.\d+(-python3\.\d+)?", image), image
        assert any(v.endswith(":/opt/casesync") for v in service["volumes"]), name


def test_airflow_runs_celery_on_postgres_and_redis(compose: dict[str, Any]) -> None:
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/casesync/dags"


def test_every_casesync_variable_is_a_known_setting(compose: dict[str, Any]) -> None:
    known = env_variables()
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}) or {}:
            if variable.startswith("CASESYNC_"):
                assert variable in known, f"{name} sets unknown {variable}"
    env = compose["services"]["airflow-worker"]["environment"]
    for database in DATABASES:
        assert env[f"CASESYNC_{database.upper()}_URL"].endswith(f"/{database}")
        assert env[f"AIRFLOW_CONN_{database.upper()}_DB"] == env[f"CASESYNC_{database.upper()}_URL"]


def test_postgres_init_script_creates_the_databases(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    script = next(v.split(":")[0] for v in volumes if "docker-entrypoint-initdb.d" in v)
    sql = (ROOT / script).read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", sql))
    assert created == {*DATABASES, "airflow"}


def test_the_worker_command_is_the_one_the_tests_start(compose: dict[str, Any]) -> None:
    """The compose worker runs the module and Airflow command that casesync's runner starts."""
    from casesync.airflow_runner import _warm_airflow

    command = compose["services"]["airflow-worker"]["command"]
    tested = _warm_airflow("celery", "worker")
    assert command[0] == "python" and command[1:] == tested[1:]
    done = subprocess.run(
        [sys.executable, *command[1:], "--help"], capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "task modules imported" in done.stderr
    assert "--concurrency" in done.stdout  # Airflow's own `celery worker` took the arguments
