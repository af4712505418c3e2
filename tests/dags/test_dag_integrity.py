"""Every DAG file parses in a clean process touching nothing, and is documented and retried.

Each file is parsed by a fresh child of one probe process that imported only
Airflow: the child refuses (and records) every engine, database connection,
Airflow connection or Variable look-up and every heavy import, so nothing the
test process already imported can hide a module-level access. The same probe
parses a few broken DAG files, each of which must be caught.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.dags
ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILES = sorted(p.name for p in DAGS.glob("*.py"))
HEAVY = ("pandas", "great_expectations", "pyarrow")
VERBS = {"sync", "reconcile", "validate", "build", "replay", "advance"}

PROBE = r"""
import json, os, sys

HEAVY = set(sys.argv[1].split(","))
import airflow.sdk
import sqlalchemy
import sqlalchemy.engine
import sqlalchemy.engine.create
from airflow.models import DagBag


def parse(path):
    touched, heavy = [], []

    def refuse(what):
        def refused(*args, **kwargs):
            touched.append(what)
            raise RuntimeError(f"refused at parse time: {what}")
        return refused

    for module in (sqlalchemy, sqlalchemy.engine, sqlalchemy.engine.create):
        module.create_engine = refuse("sqlalchemy.create_engine")
    for name in ("connect", "begin", "raw_connection"):
        setattr(sqlalchemy.engine.Engine, name, refuse(f"Engine.{name}"))
    import sqlite3, psycopg
    sqlite3.connect = refuse("sqlite3.connect")
    psycopg.connect = refuse("psycopg.connect")
    psycopg.Connection.connect = classmethod(refuse("psycopg.connect"))
    airflow.sdk.Connection.get = classmethod(refuse("Connection.get"))
    airflow.sdk.BaseHook.get_connection = classmethod(refuse("BaseHook.get_connection"))
    airflow.sdk.Variable.get = staticmethod(refuse("Variable.get"))

    class HeavyImports:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY:
                heavy.append(name)
                raise ImportError(f"refused at parse time: import {name}")
            return None

    for name in list(sys.modules):
        if name.split(".")[0] in HEAVY:
            del sys.modules[name]
    sys.meta_path.insert(0, HeavyImports())
    bag = DagBag(dag_folder=path)
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "tags": sorted(dag.tags or []),
            "doc_md": dag.doc_md or "",
            "owner": (dag.default_args or {}).get("owner"),
            "tasks": {
                t.task_id: {
                    "retries": t.retries,
                    "retry_delay": t.retry_delay.total_seconds() if t.retry_delay else 0,
                    "execution_timeout": (
                        t.execution_timeout.total_seconds() if t.execution_timeout else None
                    ),
                    "doc": bool(t.doc_md or t.doc),
                }
                for t in dag.tasks
            },
        }
    errors = {os.path.basename(k): str(v)[-400:] for k, v in bag.import_errors.items()}
    return {"dags": dags, "import_errors": errors, "touched": touched,
            "heavy": sorted(set(heavy))}


for path in sys.argv[2:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a child per file: what one file imported cannot help the next
        os.close(read)
        try:
            out = parse(path)
        except BaseException as exc:  # noqa: BLE001
            out = {"crash": repr(exc)}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    print(json.dumps({"path": path, **json.loads(b"".join(chunks))}))
"""


def problems(parsed: dict[str, Any]) -> list[str]:
    """What is wrong with one parsed DAG file (empty when it is fine)."""
    found = [f"touched {what}" for what in parsed.get("touched", [])]
    found += [f"imported {name}" for name in parsed.get("heavy", [])]
    found += [f"import error: {error}" for error in parsed.get("import_errors", {}).values()]
    if "crash" in parsed:
        found.append(f"probe crashed: {parsed['crash']}")
    if not parsed.get("dags") and not found:
        found.append("no DAG in the file")
    for dag_id, dag in parsed.get("dags", {}).items():
        if "casesync" not in dag["tags"]:
            found.append(f"{dag_id}: no casesync tag")
        if len(dag["doc_md"]) <= 100:
            found.append(f"{dag_id}: doc_md missing or too short")
        if dag["owner"] != "casesync":
            found.append(f"{dag_id}: owner {dag['owner']!r}")
        least = 0 if dag_id == "replay_night" else 1  # a replay is an operator's, run by hand
        for task_id, task in dag["tasks"].items():
            where = f"{dag_id}.{task_id}"
            if task["retries"] < least:
                found.append(f"{where}: retries {task['retries']}")
            if task["retries"] and task["retry_delay"] <= 0:
                found.append(f"{where}: no retry_delay")
            if not task["execution_timeout"]:
                found.append(f"{where}: no execution_timeout")
            if not task["doc"]:
                found.append(f"{where}: no docstring")
            if task_id.split("_")[0] not in VERBS:
                found.append(f"{where}: task name is not a verb")
    return found


# Broken DAG files: each must be caught, so the checks above can fail.
GOOD_DAG = '''
    """
    ### A broken DAG for the integrity test

    It is complete and documented except for the one defect its test plants; the
    integrity checks must name that defect and nothing else.
    """
    from airflow.sdk import dag, task
    from casesync.dag_support import DEFAULT_ARGS, start_date
    {defect}

    @dag(dag_id="broken", schedule=None, start_date=start_date(), tags={tags},
         doc_md=__doc__, default_args={default_args})
    def broken():
        @task
        def sync_something():
            """Sync something."""

        sync_something()

    broken()
'''
MUTANTS: dict[str, tuple[str, str]] = {
    "connection_at_import": (
        "from casesync.settings import Settings\n"
        "    from connectors import Connectors\n"
        "    with Connectors.from_settings(Settings()).nova.connect():\n"
        "        pass",
        "touched ",
    ),
    "create_engine_at_import": (
        "import sqlalchemy\n    sqlalchemy.create_engine('sqlite://').connect()",
        "touched sqlalchemy.create_engine",
    ),
    "airflow_connection_at_import": (
        "from airflow.sdk import BaseHook\n    BaseHook.get_connection('nova_db')",
        "touched BaseHook.get_connection",
    ),
    "variable_at_import": (
        "from airflow.sdk import Variable\n    Variable.get('casesync_home')",
        "touched Variable.get",
    ),
    "pandas_at_import": ("import pandas", "imported pandas"),
    "great_expectations_at_import": (
        "import great_expectations",
        "imported great_expectations",
    ),
    "pyarrow_at_import": ("import pyarrow.parquet", "imported pyarrow"),
    "no_tags": ("TAGS = []", "no casesync tag"),
    "no_retries": ("RETRIES = 0", "retries 0"),
    "no_timeout": ("NO_TIMEOUT = True", "no execution_timeout"),
}


def _mutant_source(name: str, defect: str) -> str:
    tags = "TAGS" if name == "no_tags" else '["casesync"]'
    args = "DEFAULT_ARGS"
    if name == "no_retries":
        args = '{**DEFAULT_ARGS, "retries": RETRIES}'
    if name == "no_timeout":
        args = '{**DEFAULT_ARGS, "execution_timeout": None}'
    body = GOOD_DAG.format(defect=defect, tags=tags, default_args=args)
    return textwrap.dedent(body)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Every DAG file and every broken one, each parsed by a clean child process."""
    folder = tmp_path_factory.mktemp("mutant_dags")
    paths = {name: str(DAGS / name) for name in DAG_FILES}
    for name, (defect, _) in MUTANTS.items():
        path = folder / name / f"{name}.py"
        path.parent.mkdir()
        path.write_text(_mutant_source(name, defect))
        paths[name] = str(path)
    paths["clean_mutant"] = str(folder / "clean.py")
    Path(paths["clean_mutant"]).write_text(_mutant_source("clean", ""))
    env_home = tmp_path_factory.mktemp("home")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *paths.values()],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env={**_clean_env(), "CASESYNC_HOME": str(env_home), "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    by_path = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            by_path[entry["path"]] = entry
    yield {name: by_path[path] for name, path in paths.items()}


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("CASESYNC_", "AIRFLOW"))}


def test_the_dag_folder_holds_the_four_dags(parsed: dict[str, dict[str, Any]]) -> None:
    assert DAG_FILES == [
        "full_validation.py",
        "nightly_interfaces.py",
        "replay_night.py",
        "simulate_day.py",
    ]
    found = {dag_id for name in DAG_FILES for dag_id in parsed[name]["dags"]}
    assert found == {"nightly_interfaces", "replay_night", "full_validation", "simulate_day"}


@pytest.mark.parametrize("name", DAG_FILES)
def test_dag_file_parses_clean_and_is_documented_and_retried(
    parsed: dict[str, dict[str, Any]], name: str
) -> None:
    assert problems(parsed[name]) == []
    (dag,) = parsed[name]["dags"].values()
    assert dag["tasks"], name


def test_a_clean_broken_dag_template_has_no_problem(parsed: dict[str, dict[str, Any]]) -> None:
    """The mutants below differ from this file by their defect alone."""
    assert problems(parsed["clean_mutant"]) == []


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_dag_file_with_a_defect_is_caught(parsed: dict[str, dict[str, Any]], name: str) -> None:
    _, expected = MUTANTS[name]
    found = problems(parsed[name])
    assert found, name
    assert any(expected in problem for problem in found), found


def test_nightly_chain_order_and_timetable() -> None:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(DAGS / "nightly_interfaces.py"))
    dag = bag.dags["nightly_interfaces"]
    order = [
        "sync_nova_to_gcms", "sync_gcms_to_ncms", "reconcile_systems", "validate_night",
        "build_report",
    ]  # fmt: skip
    for upstream, downstream in itertools.pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    timetable: Any = dag.timetable
    assert type(timetable).__name__ == "CronDataIntervalTimetable"
    assert timetable.expression == "0 2 * * *"
    assert str(timetable.timezone) == "America/Toronto"
    outlets = {t.task_id: [a.uri.rstrip("/") for a in t.outlets] for t in dag.tasks}
    assert outlets["sync_nova_to_gcms"] == ["casesync://gcms"]
    assert outlets["sync_gcms_to_ncms"] == ["casesync://ncms"]
