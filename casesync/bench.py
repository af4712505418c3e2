"""Benchmarks: each measures casesync against a baseline run in the same process.

`casesync bench sync` generates N NOVA final decisions typed in one night and
moves them to GCMS three ways, on the same engine and data: a raw
`INSERT ... SELECT` copy inside the source database (the floor), pandas
`read_sql(chunksize) -> to_sql` across the two databases, and casesync's
nova_to_gcms interface (batch file, contract, staged upsert, audit). It then
changes 1% of the records in the next night and times that incremental run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    MetaData,
    String,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)

from casesync.database import init_all
from casesync.settings import DATABASES, Settings
from connectors import Connectors, dialect, transfer
from schemas import metadata_for, nova
from schemas.calendar import night_interval
from schemas.interfaces import NOVA_TO_GCMS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

NIGHT = dt.date(2021, 3, 1)
_FILES_PER_DECISION = 2  # two final decisions per file (a first decision and a redetermination)


@contextlib.contextmanager
def scratch_settings(backend: str) -> Iterator[Settings]:
    """Five empty databases for a benchmark, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="casesync-bench-") as home:
        if backend == "sqlite":
            yield Settings(home=Path(home))
            return
        server = os.environ.get("CASESYNC_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
        tag = uuid.uuid4().hex[:8]
        urls = {f"{name}_url": f"{server}/casesync_bench_{tag}_{name}" for name in DATABASES}
        settings = Settings(home=Path(home), **urls)  # type: ignore[arg-type]
        try:
            yield settings
        finally:
            for name in DATABASES:
                dialect.drop_database(dialect.normalize_url(settings.url(name)))


_PARTY = [
    "party_id",
    "uci",
    "family_name",
    "given_names",
    "birth_on",
    "citizenship",
    "hearing_language",
    "interpreter_language",
    "entered_at",
    "updated_at",
    "entered_by",
]
_FILE = [
    "file_number",
    "division",
    "proceeding",
    "party_id",
    "region",
    "referred_on",
    "parent_file_number",
    "status",
    "is_irregular_arrival",
    "entered_at",
    "updated_at",
    "entered_by",
]
_DECISION = ["decision_id", "file_number", "is_final", "outcome_code", "decided_on", "reasons_on",
             "member_id", "entered_at", "updated_at", "entered_by"]  # fmt: skip


def _file_number(i: int) -> str:
    prefix = "TB" if i < 1_000_000 else "MB"
    return f"{prefix}{i // 100_000 % 10}-{i % 100_000:05d}"


def _uci(i: int) -> str:
    digits = f"{i % 10**8:08d}"
    return f"{digits[:4]}-{digits[4:]}"


def generate_decisions(connectors: Connectors, rows: int) -> None:
    """`rows` final RPD decisions typed during NIGHT; their files and parties a night before."""
    start, _ = night_interval(NIGHT)
    earlier = start - dt.timedelta(hours=20)
    typed = start + dt.timedelta(hours=10)
    files = max(1, rows // _FILES_PER_DECISION)
    born = dt.date(1990, 1, 1)
    referred = dt.date(2019, 1, 1)
    decided = dt.date(2021, 3, 1)
    outcomes = ("ACC", "REJ", "ABN", "WDO")
    with connectors.nova.begin() as conn:
        for first in range(0, files, 100_000):
            chunk = range(first, min(files, first + 100_000))
            parties = [
                (i, _uci(i), "Bench", "Party", born, "MEX", "EN", None, earlier, earlier, "BENCH")
                for i in chunk
            ]
            dialect.insert_tuples(conn, nova.Party.__table__, _PARTY, parties)  # type: ignore[arg-type]
            case_files = [
                (
                    _file_number(i),
                    "RPD",
                    "CLAIM",
                    i,
                    "T",
                    referred,
                    None,
                    "FN",
                    False,
                    earlier,
                    earlier,
                    "BENCH",
                )
                for i in chunk
            ]
            dialect.insert_tuples(conn, nova.CaseFile.__table__, _FILE, case_files)  # type: ignore[arg-type]
        for first in range(0, rows, 100_000):
            decisions = [
                (
                    i,
                    _file_number(i % files),
                    True,
                    outcomes[i % 4],
                    decided,
                    None,
                    "M100",
                    typed,
                    typed,
                    "BENCH",
                )
                for i in range(first, min(rows, first + 100_000))
            ]
            dialect.insert_tuples(conn, nova.Decision.__table__, _DECISION, decisions)  # type: ignore[arg-type]


def machine_reference() -> dict[str, float]:
    """How fast this machine is today: a pure-Python loop and a SQLite bulk write (best of three).

    Shared machines vary from day to day, and not evenly: the interpreter and
    SQLite's own code can slow down apart. Figures from two days compare
    through these numbers; ratios against a same-run baseline need no correction.
    """
    import sqlite3

    loop = write = float("inf")
    rows = [(i, f"A{i * 7919 % 1_000_003}", "2021-03-01 10:00:00.000000") for i in range(200_000)]
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        loop = min(loop, time.perf_counter() - started)
        with tempfile.TemporaryDirectory(prefix="casesync-reference-") as scratch:
            conn = sqlite3.connect(Path(scratch) / "reference.db", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b TEXT)")
            conn.execute("CREATE INDEX t_a ON t (a)")
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
            conn.execute("COMMIT")
            write = min(write, time.perf_counter() - started)
            conn.close()
    return {"python_loop_seconds": round(loop, 3), "sqlite_write_seconds": round(write, 3)}


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _raw_statement(
    load_at: dt.datetime, since: dt.datetime | None = None, backend: str = "sqlite"
) -> Any:
    """INSERT ... SELECT of the interface's result into `bench_copy`, an upsert with `since`.

    With `since`, only the records changed from then on are read (by the same
    indexed `updated_at` the interface reads) and each replaces its row.
    """
    stream = NOVA_TO_GCMS.streams[1]
    query = stream.query()
    if since is not None:
        query = query.where(query.selected_columns.source_updated_at >= since)
    source = query.subquery()
    copy = (
        metadata_for("gcms").tables[stream.target_table].to_metadata(MetaData(), name="bench_copy")
    )
    outcome_column, mapping = stream.codes["outcome"]
    values = {
        stream.target_key: literal("N") + cast(source.c.source_key, String),
        **{name: source.c[column] for name, column in stream.fields.items()},
        "outcome": case(*((source.c[outcome_column] == k, literal(v)) for k, v in mapping.items())),
        **{name: literal(value) for name, value in stream.constants.items()},
        "source_updated_at": source.c.source_updated_at,
        "source_epoch": source.c.source_epoch,
        "entered_at": literal(load_at),
        "updated_at": literal(load_at),
        "entered_by": literal(NOVA_TO_GCMS.feed_user),
    }
    names = [c.name for c in copy.columns if c.name != "change_epoch"]
    rows = select(*(values[name].label(name) for name in names))
    if since is None:
        return copy, insert(copy).from_select(names, rows)
    statement = dialect.upsert_insert(backend)(copy).from_select(names, rows.where(true()))
    changed = {n: statement.excluded[n] for n in names if n != stream.target_key}
    return copy, statement.on_conflict_do_update(index_elements=[stream.target_key], set_=changed)


def raw_copy(connectors: Connectors, load_at: dt.datetime) -> float:
    """The floor: one INSERT ... SELECT inside the source database.

    It writes the interface's result (same columns, same keys and indexes as
    GCMS's irb_decision, codes mapped in SQL) from the interface's own query,
    with no batch, contract, version check or audit.
    """
    copy, statement = _raw_statement(load_at)
    with connectors.nova.begin() as conn:
        copy.create(conn)

    def work() -> None:  # committed, as casesync's run is
        with connectors.nova.begin() as conn:
            conn.execute(statement)

    return _timed(work)


def raw_incremental(
    connectors: Connectors, since: dt.datetime, load_at: dt.datetime
) -> tuple[float, int]:
    """The floor of an incremental night: the changed records upserted into the raw copy.

    Returns the seconds and the number of rows the upsert wrote.
    """
    copy, statement = _raw_statement(load_at, since, connectors.nova.backend)

    def work() -> None:
        with connectors.nova.begin() as conn:
            conn.execute(statement)

    seconds = _timed(work)
    with connectors.nova.connect() as conn:
        written = conn.execute(
            select(func.count()).select_from(copy).where(copy.c.updated_at == load_at)
        ).scalar()
    return seconds, int(written or 0)


def pandas_copy(connectors: Connectors) -> float:
    """pandas: read_sql in chunks from NOVA, to_sql into GCMS."""
    import pandas as pd

    query = NOVA_TO_GCMS.streams[1].query()

    def work() -> None:
        with connectors.nova.connect() as source, connectors.gcms.begin() as target:
            for chunk in pd.read_sql(query, source, chunksize=50_000):
                chunk.to_sql("bench_pandas", target, if_exists="append", index=False)

    return _timed(work)


def casesync_copy(connectors: Connectors, settings: Settings, night: dt.date) -> transfer.RunResult:
    return transfer.run_interface(connectors, settings.batch_dir, NOVA_TO_GCMS, night)


def change_one_percent(connectors: Connectors, rows: int) -> int:
    """Change 1% of the decisions during the next night."""
    start, _ = night_interval(NIGHT + dt.timedelta(days=1))
    typed = start + dt.timedelta(hours=10)
    changed = max(1, rows // 100)
    decision = nova.Decision.__table__
    with connectors.nova.begin() as conn:
        conn.execute(
            update(decision)  # type: ignore[arg-type]
            .where(decision.c.decision_id % 100 == 7)
            .values(outcome_code="REJ", updated_at=typed)
        )
        return int(
            conn.execute(select(func.count()).where(decision.c.updated_at == typed)).scalar()
            or changed
        )


def bench_sync(
    rows: int, backend: str = "sqlite", progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Interface throughput against the raw and pandas baselines, and an incremental night."""
    say = progress or (lambda _message: None)
    with scratch_settings(backend) as settings:
        init_all(settings)
        connectors = Connectors.from_settings(settings)
        try:
            say(f"generating {rows:,} decisions ({backend})")
            generate_decisions(connectors, rows)
            for database in ("nova", "gcms"):
                with connectors[database].begin() as conn:
                    dialect.refresh_statistics(conn)
            say("raw INSERT ... SELECT")
            raw_seconds = raw_copy(connectors, night_interval(NIGHT)[1])
            say("pandas read_sql -> to_sql")
            pandas_seconds = pandas_copy(connectors)
            with connectors.gcms.begin() as conn:
                conn.execute(text("DROP TABLE bench_pandas"))
            say("casesync nova_to_gcms (full night)")
            started = time.perf_counter()
            full = casesync_copy(connectors, settings, NIGHT)
            full_seconds = time.perf_counter() - started
            assert full.total("inserted") == rows, full.as_dict()
            changed = change_one_percent(connectors, rows)
            say(f"casesync nova_to_gcms (incremental night, {changed:,} changed)")
            started = time.perf_counter()
            incremental = casesync_copy(connectors, settings, NIGHT + dt.timedelta(days=1))
            incremental_seconds = time.perf_counter() - started
            say("raw INSERT ... SELECT ... ON CONFLICT (incremental night)")
            next_night = night_interval(NIGHT + dt.timedelta(days=1))
            raw_incremental_seconds, raw_incremental_rows = raw_incremental(connectors, *next_night)
        finally:
            connectors.dispose()
    return {
        "backend": backend,
        "machine_reference": machine_reference(),
        "rows": rows,
        "casesync_seconds": round(full_seconds, 3),
        "raw_sql_seconds": round(raw_seconds, 3),
        "pandas_seconds": round(pandas_seconds, 3),
        "casesync_rows_per_s": round(rows / full_seconds),
        "raw_sql_rows_per_s": round(rows / raw_seconds),
        "pandas_rows_per_s": round(rows / pandas_seconds),
        "ratio_vs_raw": round(raw_seconds / full_seconds, 3),
        "ratio_vs_pandas": round(pandas_seconds / full_seconds, 3),
        "incremental_rows": incremental.total("extracted"),
        "incremental_updated": incremental.total("updated"),
        "incremental_seconds": round(incremental_seconds, 3),
        "incremental_cost_vs_full": round(incremental_seconds / full_seconds, 4),
        "raw_incremental_rows": raw_incremental_rows,
        "raw_incremental_seconds": round(raw_incremental_seconds, 3),
        "raw_incremental_cost_vs_full": round(raw_incremental_seconds / raw_seconds, 4),
    }


def bench_seed(files: int, days: int, seed: int = 1) -> dict[str, Any]:
    """Seed a world in a child process (wall time, peak memory), then time the write floor.

    The floor re-writes every row the seed produced into fresh databases with
    the same bulk path: what the databases alone cost, without the simulation.
    """
    import resource
    import subprocess
    import sys

    with scratch_settings("sqlite") as settings:
        env = {**os.environ, "CASESYNC_HOME": str(settings.home)}
        for name in DATABASES:
            env.pop(f"CASESYNC_{name.upper()}_URL", None)
        command = [
            sys.executable,
            "-m",
            "casesync",
            "seed",
            "--files",
            str(files),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--json",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seed_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"seed failed: {done.stderr.strip()}")
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        import json

        result = json.loads(done.stdout)
        floor_seconds, rows = _write_floor(settings)
    return {
        "machine_reference": machine_reference(),
        "files": files,
        "days": days,
        "seconds": round(seed_seconds, 2),
        "peak_memory_mib": round(peak_mib, 1),
        "rows_written": rows,
        "write_floor_seconds": round(floor_seconds, 2),
        "ratio_to_write_floor": round(seed_seconds / floor_seconds, 2),
        "typed_entries": result["typed_entries"],
        "planted_defects": sum(result["defects"].values()),
        "calibration_largest_gap": {
            table: round(max(abs(v["share"] - v["reference_share"]) for v in shares.values()), 4)
            for table, shares in result["calibration"].items()
        },
    }


def _write_floor(seeded: Settings) -> tuple[float, int]:
    """Seconds to bulk-write all of a seeded world's rows into empty databases."""
    source = Connectors.from_settings(seeded)
    total = 0
    with scratch_settings("sqlite") as fresh:
        init_all(fresh)
        target = Connectors.from_settings(fresh)
        tables = {}
        for database in ("nova", "gcms", "ncms", "ground_truth"):
            with source[database].connect() as conn:
                for table in metadata_for(database).sorted_tables:
                    tables[(database, table.name)] = (
                        table,
                        [dict(r) for r in conn.execute(select(table)).mappings()],
                    )
        started = time.perf_counter()
        for (database, _), (table, rows) in tables.items():
            with target[database].begin() as conn:
                for first in range(0, len(rows), 50_000):
                    dialect.bulk_insert(conn, table, rows[first : first + 50_000])
            total += len(rows)
        seconds = time.perf_counter() - started
        target.dispose()
    source.dispose()
    return seconds, total


def bench_validate(files: int, days: int, backend: str = "sqlite", seed: int = 1) -> dict[str, Any]:
    """Validation time at a given scale: GX against the same rules as hand-written SQL.

    Seeds a world, runs every night, then times the reconciliation refresh, a
    full validation and the last night's validation with each engine.
    """
    from casesync.seeding import parse_options
    from casesync.seeding import seed as seed_world
    from casesync.sync import nightly
    from casesync.validation import validate
    from expectations import reconcile

    with scratch_settings(backend) as settings:
        options = parse_options(
            files=files, days=days, start="2020-01-06", defect_rate=0.02, seed=seed, mode="one_way"
        )
        started = time.perf_counter()
        seed_world(settings, options)
        seeded = time.perf_counter() - started
        last = options.start + dt.timedelta(days=days - 1)
        started = time.perf_counter()
        nightly(settings, options.start, last)
        synced = time.perf_counter() - started
        connectors = Connectors.from_settings(settings)
        try:
            started = time.perf_counter()
            reconcile.refresh(connectors)
            refreshed = time.perf_counter() - started
        finally:
            connectors.dispose()
        import great_expectations  # noqa: F401  (import time is not validation time)

        timings: dict[str, float] = {}
        findings: dict[str, int] = {}
        for engine in ("sql", "gx"):
            for label, night in (("full", None), ("night", last)):
                result = validate(settings, night=night, engine=engine)
                # the rules' run only: both engines read the same refreshed tables and
                # write findings the same way; GX also builds Data Docs (timed apart)
                timings[f"{engine}_{label}_seconds"] = result["rule_seconds"]
                if engine == "gx":
                    timings[f"gx_{label}_data_docs_seconds"] = result["docs_seconds"]
                findings[f"{engine}_{label}"] = result["findings"]
    return {
        "backend": backend,
        "machine_reference": machine_reference(),
        "files": files,
        "days": days,
        "seed_seconds": round(seeded, 1),
        "nightly_seconds": round(synced, 1),
        "first_reconciliation_seconds": round(refreshed, 2),
        **{k: round(v, 2) for k, v in timings.items()},
        "gx_vs_sql_full": round(timings["gx_full_seconds"] / timings["sql_full_seconds"], 2),
        "gx_vs_sql_night": round(timings["gx_night_seconds"] / timings["sql_night_seconds"], 2),
        "findings": findings,
    }


def bench_catchup(files: int, days: int, backend: str = "sqlite", seed: int = 1) -> dict[str, Any]:
    """A catch-up over every night of a world: does a night cost more when many came before?

    Seeds a world, then runs its nights in order (as `casesync nightly` does),
    timing each. The baseline is the same run's first tenth of nights: the
    ratio of the last tenth's mean to it says whether a night's cost grows with
    the nights already run (capture marks, batches, audit rows pile up), 1.0
    when it does not. The world's days are alike, so their records are too.
    """
    import statistics

    from casesync.seeding import parse_options
    from casesync.seeding import seed as seed_world
    from casesync.sync import run_night

    if days < 10:
        raise ValueError(f"a catch-up needs at least 10 nights to compare (got {days})")
    with scratch_settings(backend) as settings:
        options = parse_options(
            files=files, days=days, start="2020-01-06", defect_rate=0.02, seed=seed, mode="one_way"
        )
        seed_world(settings, options)
        connectors = Connectors.from_settings(settings)
        seconds: list[float] = []
        records = 0
        try:
            for offset in range(days):
                night = options.start + dt.timedelta(days=offset)
                started = time.perf_counter()
                results = run_night(settings, night, connectors=connectors, check=True)
                seconds.append(time.perf_counter() - started)
                records += sum(r.total("extracted") for r in results)
        finally:
            connectors.dispose()
    tenth = max(1, days // 10)
    # the first night also carries what the history left for it: the baseline starts after it
    early, late = seconds[1 : tenth + 1], seconds[-tenth:]
    return {
        "backend": backend,
        "machine_reference": machine_reference(),
        "files": files,
        "days": days,
        "nights_seconds": round(sum(seconds), 2),
        "records_extracted": records,
        "median_night_seconds": round(statistics.median(seconds), 3),
        "early_nights_mean_seconds": round(statistics.mean(early), 3),
        "late_nights_mean_seconds": round(statistics.mean(late), 3),
        "late_vs_early": round(statistics.mean(late) / statistics.mean(early), 2),
    }
