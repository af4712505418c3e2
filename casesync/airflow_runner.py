"""Run Airflow itself: API server, scheduler, DAG processor (and a Celery worker), on loopback.

Used by `casesync airflow` (the UI for operators), `casesync backfill`,
`make demo` and the tests. The embedded default keeps Airflow's metadata in
SQLite under `$CASESYNC_HOME/airflow` with the LocalExecutor; the server mode
uses PostgreSQL and the CeleryExecutor with Redis.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casesync.errors import CasesyncError
from casesync.settings import DATABASES
from schemas.calendar import TORONTO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"
TERMINAL = {"success", "failed"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class AirflowConfig:
    """Where Airflow keeps its state and how it runs tasks."""

    home: Path
    metadata_url: str | None = None  # default: SQLite under home
    executor: str = "LocalExecutor"
    broker_url: str | None = None  # Celery
    queue: str = "casesync"
    schedules: bool = False  # let the scheduler create scheduled runs (operators: yes; demo: no)
    port: int = field(default_factory=free_port)
    connections: dict[str, str] = field(default_factory=dict)  # AIRFLOW_CONN_* to set
    #: Run the triggerer too. No casesync task defers, so only the UI wants it (its health
    #: panel reports a missing triggerer as unhealthy): `casesync airflow` runs it.
    triggerer: bool = False
    #: Seconds the scheduler sleeps after a loop with nothing to do (Airflow's default: 1);
    #: the tests shorten it, and with it the wait between one task and the next.
    idle_sleep: float = 1.0
    #: Seconds between two looks at a backfill's runs.
    poll: float = 2.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def airflow_env(settings: Settings, config: AirflowConfig) -> dict[str, str]:
    """The environment every Airflow process of one deployment shares."""
    home = config.home.resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
        (home / ".writable").touch()
    except OSError as exc:
        raise CasesyncError(
            f"Airflow's home {home} cannot be written ({exc.strerror}): "
            "point CASESYNC_HOME at a writable directory"
        ) from None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CASESYNC_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["CASESYNC_HOME"] = str(settings.home.resolve())
    for name in DATABASES:
        env[f"CASESYNC_{name.upper()}_URL"] = settings.url(name)
    env["CASESYNC_INTEROP_MODE"] = settings.interop_mode.value
    for name, url in config.connections.items():
        env[f"AIRFLOW_CONN_{name.upper()}"] = url
    secrets_file = home / "casesync-secrets.json"
    if secrets_file.exists():
        keys = json.loads(secrets_file.read_text())
    else:
        keys = {
            "jwt": secrets.token_hex(32),
            "secret": secrets.token_hex(16),
            "fernet": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "password": secrets.token_urlsafe(12),
        }
        secrets_file.write_text(json.dumps(keys))
        secrets_file.chmod(0o600)
    passwords = home / "simple_auth_manager_passwords.json.generated"
    passwords.write_text(json.dumps({"admin": keys["password"]}))
    metadata = config.metadata_url or f"sqlite:///{home / 'airflow.db'}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": config.executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(config.port),
            "AIRFLOW__API__BASE_URL": config.api_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.api_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
            "AIRFLOW__API__SECRET_KEY": keys["secret"],
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet"],
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "bundles"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(config.schedules),
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": str(config.idle_sleep),
            # LocalExecutor starts this many workers: one per core is what a night can use.
            "AIRFLOW__CORE__PARALLELISM": str(max(2, os.cpu_count() or 2)),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": config.queue,
            "PYTHONWARNINGS": "ignore",
        }
    )
    if config.executor == "CeleryExecutor":
        env["AIRFLOW__CELERY__BROKER_URL"] = config.broker_url or "redis://127.0.0.1:6379/0"
        backend = metadata.replace("postgresql://", "postgresql+psycopg://", 1)
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + backend
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "2"
    return env


@dataclass
class RunningAirflow:
    """Airflow processes started for one deployment, and a client for its REST API."""

    config: AirflowConfig
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str | None = None

    @property
    def password(self) -> str:
        return str(json.loads((self.config.home / "casesync-secrets.json").read_text())["password"])

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if path != "/auth/token":
            headers["Authorization"] = f"Bearer {self.token()}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.config.api_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise CasesyncError(f"Airflow API {method} {path}: HTTP {exc.code}: {detail}") from None
        return json.loads(text) if text else None

    def token(self) -> str:
        if self._token is None:
            answer = self._request(
                "POST", "/auth/token", {"username": "admin", "password": self.password}
            )
            self._token = str(answer["access_token"])
        return self._token

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._request("PATCH", path, body)

    def require_alive(self) -> None:
        """Raise, naming its log, when one of the processes started for this Airflow exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.config.home / "process-logs" / f"{name}.log"
                raise CasesyncError(
                    f"Airflow {name} exited with status {process.returncode}; see {log}"
                )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                self.config.api_url + "/api/v2/monitor/health", timeout=5
            ) as response:
                health = json.loads(response.read().decode())
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            return False
        parts = ("metadatabase", "scheduler", "dag_processor")
        return all(health.get(part, {}).get("status") == "healthy" for part in parts)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(CasesyncError):
                self.get(f"/api/v2/dags/{dag_id}")
                return
            time.sleep(min(1.0, self.config.poll))
        raise CasesyncError(f"Airflow did not load the DAG {dag_id} within {timeout:.0f} s")

    def backfill(
        self,
        dag_id: str,
        first: dt.date,
        last: dt.date,
        *,
        reprocess: str = "none",
        timeout: float = 900,
        progress: Callable[[str], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Backfill the nights first..last (inclusive) and wait for every run to finish.

        `progress` hears each task's new state as it changes, per night, and the
        reason of each failed task (from its log) as soon as it fails.
        """
        self.wait_for_dag(dag_id)
        self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
        return self._backfill(dag_id, first, last, reprocess, timeout, progress)

    def pause(self, dag_id: str) -> None:
        """Pause a DAG: the scheduler starts no run of its own for it."""
        self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": True})

    def _backfill(
        self,
        dag_id: str,
        first: dt.date,
        last: dt.date,
        reprocess: str,
        timeout: float,
        progress: Callable[[str], None] | None,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        self._wait_backfills_done(
            dag_id, deadline
        )  # Airflow allows one unfinished backfill per DAG
        start = dt.datetime.combine(first, dt.time(2), TORONTO)
        end = dt.datetime.combine(last, dt.time(2), TORONTO)
        body = {
            "dag_id": dag_id,
            "from_date": start.isoformat(),
            "to_date": end.isoformat(),
            "max_active_runs": 1,
            "reprocess_behavior": reprocess,
        }
        created: Any = None
        before = self._backfill_ids(dag_id)
        for attempt in range(10):
            try:
                created = self.post("/api/v2/backfills", body)
                break
            except CasesyncError as exc:
                if "HTTP 409" in str(exc):
                    self._cancel_orphans(dag_id, before, progress)
                # On SQLite the API server refuses while the scheduler holds the database
                # (Airflow 3.3 answers 500 "Database error" and hides the cause; its
                # transaction rolled back, so nothing was created); a backfill that just
                # finished is closed by the scheduler a moment later (409).
                text = str(exc)
                busy = (
                    "Database is locked" in text
                    or "HTTP 409" in text
                    or ("HTTP 500" in text and '"reason":"Database error"' in text)
                )
                if busy and attempt < 9 and progress is not None:
                    progress(f"Airflow's database was busy; creating the backfill again ({text})")
                if not busy or attempt == 9:
                    raise
                time.sleep(1 + attempt)
        wanted = (last - first).days + 1
        seen: dict[tuple[str, str], str] = {}
        while time.monotonic() < deadline:
            self.require_alive()  # a dead scheduler would leave the backfill waiting forever
            runs = self.runs(dag_id, start, end)
            if progress is not None:
                self._report(dag_id, runs, seen, progress)
            if len([r for r in runs if r["state"] in TERMINAL]) >= wanted:
                self._close(created)
                return runs
            time.sleep(self.config.poll)
        raise CasesyncError(
            f"backfill of {dag_id} {first}..{last} did not finish within {timeout:.0f} s"
        )

    def _report(
        self,
        dag_id: str,
        runs: list[dict[str, Any]],
        seen: dict[tuple[str, str], str],
        progress: Callable[[str], None],
    ) -> None:
        """Say each task state that changed since the last look, and why a task failed."""
        for run in runs:
            night = night_of_run(run)
            answer = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")
            for task in answer.get("task_instances", []):
                state = task.get("state") or "waiting"
                key = (run["dag_run_id"], task["task_id"])
                if seen.get(key) == state or state not in _SAID:
                    continue
                seen[key] = state
                line = f"night {night}: {task['task_id']} {state}"
                if state == "failed":
                    line += f": {self.failure_reason(dag_id, run['dag_run_id'], task)}"
                progress(line)

    def failure_reason(self, dag_id: str, run_id: str, task: dict[str, Any]) -> str:
        """The error a failed task raised, from the last lines of its log."""
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task['task_id']}"
            f"/logs/{max(1, int(task.get('try_number') or 1))}?full_content=true"
        )
        try:
            answer = self.get(path)
        except CasesyncError as exc:
            return f"(its log could not be read: {exc})"
        return _reason(answer)

    def _close(self, backfill: Any) -> None:
        """Close a backfill whose runs have all finished, as the scheduler would within 30 s.

        Cancelling it only sets its end (it has no queued run left to fail), so the next
        backfill of the DAG need not wait for the scheduler's check.
        """
        if not isinstance(backfill, dict) or backfill.get("id") is None:
            return
        try:
            self._request("PUT", f"/api/v2/backfills/{backfill['id']}/cancel")
        except CasesyncError as exc:
            if "HTTP 409" not in str(exc):  # already closed by the scheduler
                raise

    def _newest_backfills(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's newest backfills (an orphan of this call is always among them)."""
        answer = self.get(f"/api/v2/backfills?dag_id={dag_id}&order_by=-id&limit=100")
        return list(answer.get("backfills", []))

    def _backfill_ids(self, dag_id: str) -> set[int]:
        return {int(b["id"]) for b in self._newest_backfills(dag_id)}

    def _cancel_orphans(
        self, dag_id: str, before: set[int], progress: Callable[[str], None] | None
    ) -> None:
        """Close the backfills an attempt of this call left open.

        Airflow commits a new backfill before it creates its runs; when the runs
        hit a locked SQLite database its clean-up is best effort, and a backfill
        it leaves open refuses every later one (HTTP 409) until it is closed.
        No backfill was open when this call began (`_wait_backfills_done`).
        """
        for backfill in self._newest_backfills(dag_id):
            if int(backfill["id"]) in before or backfill.get("completed_at"):
                continue
            if progress is not None:
                progress(f"closing backfill {backfill['id']}, left open by a failed attempt")
            self._close(backfill)

    def _wait_backfills_done(self, dag_id: str, deadline: float) -> None:
        """Wait until the scheduler closed earlier backfills of the DAG (it checks each 30 s)."""
        while time.monotonic() < deadline:
            answer = self.get(f"/api/v2/backfills?dag_id={dag_id}")
            if all(b.get("completed_at") for b in answer.get("backfills", [])):
                return
            time.sleep(self.config.poll)
        raise CasesyncError(f"an earlier backfill of {dag_id} is still open")

    def runs(self, dag_id: str, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        """Runs of a DAG whose data interval starts within [start, end]."""
        answer = self.get(f"/api/v2/dags/{dag_id}/dagRuns?order_by=logical_date&limit=1000")
        runs = []
        for run in answer.get("dag_runs", []):
            began = run.get("data_interval_start")
            if began and start <= dt.datetime.fromisoformat(began.replace("Z", "+00:00")) <= end:
                runs.append(run)
        return runs

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


#: Task states a backfill's progress names (not the scheduler's intermediate ones).
_SAID = {"running", "success", "failed", "up_for_retry", "upstream_failed", "skipped"}


def night_of_run(run: dict[str, Any]) -> str:
    """The night a DAG run covers: its data interval's start, as a Toronto date."""
    began = run.get("data_interval_start")
    if not began:
        return "?"
    moment = dt.datetime.fromisoformat(str(began).replace("Z", "+00:00"))
    return moment.astimezone(TORONTO).date().isoformat()


#: Errors casesync raises with a message for the operator, as they appear in a task log.
_ERRORS = (
    "PipelineCheckFailed",
    "BatchIntegrityError",
    "BadInput",
    "RunInProgress",
    "DatabaseUnavailable",
    "CasesyncError",
)


def _reason(log: Any) -> str:
    """The last casesync error (else the last error line) in a task log from the REST API."""
    lines: list[str] = []
    content = log.get("content", log) if isinstance(log, dict) else log
    for item in content if isinstance(content, list) else [content]:
        if not isinstance(item, dict):
            lines.extend(str(item).splitlines())
            continue
        lines.append(str(item.get("event", "")))
        for detail in item.get("error_detail") or []:  # structured: the exception raised
            if isinstance(detail, dict):
                lines.append(f"{detail.get('exc_type', 'Error')}: {detail.get('exc_value', '')}")
    for names in (_ERRORS, ("Error", "Exception")):
        for line in reversed(lines):
            for name in names:
                if name in line:
                    return line.strip()[:600]
    return "no error in its log; see the task log in the Airflow UI"


def _airflow(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "airflow"), *args]


def _warm_airflow(*args: str) -> list[str]:
    """An Airflow component whose forked task processes start with the task modules imported
    (casesync/warm_airflow.py): the scheduler (LocalExecutor) and the Celery worker."""
    return [sys.executable, "-m", "casesync.warm_airflow", *args]


#: What `migrate` last left in a home: the Airflow version and the revision it migrated to.
MIGRATED = "casesync-migrated.json"


def _migrated_to(env: dict[str, str]) -> dict[str, str] | None:
    """The installed Airflow's version and the metadata database's Alembic revision (None when
    the database is missing or has no revision)."""
    from importlib.metadata import version

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    url = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if not revision:
        return None
    return {"airflow": version("apache-airflow-core"), "revision": str(revision)}


def is_migrated(env: dict[str, str]) -> bool:
    """True when the metadata database is at the revision this Airflow version migrated it to."""
    stamp = Path(env["AIRFLOW_HOME"]) / MIGRATED
    if not stamp.is_file():
        return False
    now = _migrated_to(env)
    return now is not None and json.loads(stamp.read_text()) == now


def migrate(env: dict[str, str]) -> None:
    """Create or upgrade Airflow's metadata database.

    Skipped when `is_migrated`: `airflow db migrate` takes 10 s or more even with nothing to do.
    """
    if is_migrated(env):
        return
    done = subprocess.run(
        _airflow("db", "migrate"), env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise CasesyncError("airflow db migrate failed: " + " | ".join(tail))
    now = _migrated_to(env)
    if now is not None:
        (Path(env["AIRFLOW_HOME"]) / MIGRATED).write_text(json.dumps(now))


@contextlib.contextmanager
def running(
    settings: Settings, config: AirflowConfig, *, timeout: float = 180
) -> Iterator[RunningAirflow]:
    """Start Airflow's processes, wait until they are healthy, and stop them afterwards."""
    env = airflow_env(settings, config)
    migrate(env)
    logs = config.home / "process-logs"
    logs.mkdir(parents=True, exist_ok=True)
    commands = {
        "api-server": _airflow("api-server", "--host", "127.0.0.1", "--port", str(config.port)),
        "scheduler": _warm_airflow("scheduler", "--skip-serve-logs"),
        "dag-processor": _airflow("dag-processor"),
    }
    if config.triggerer:
        commands["triggerer"] = _airflow("triggerer", "--skip-serve-logs")
    if config.executor == "CeleryExecutor":
        commands["celery-worker"] = _warm_airflow(
            "celery", "worker", "--queues", config.queue, "--concurrency", "2",
            "--celery-hostname", f"{config.queue}@%h", "--skip-serve-logs",
            "--without-gossip", "--without-mingle",
        )  # fmt: skip
    airflow = RunningAirflow(config, env)
    try:
        for name, command in commands.items():
            with open(logs / f"{name}.log", "ab") as log:
                airflow.processes[name] = subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        deadline = time.monotonic() + timeout
        while not airflow.healthy():
            airflow.require_alive()
            if time.monotonic() > deadline:
                raise CasesyncError(
                    f"Airflow was not healthy within {timeout:.0f} s; logs in {logs}"
                )
            time.sleep(min(1.0, config.poll))
        yield airflow
    finally:
        airflow.stop()
