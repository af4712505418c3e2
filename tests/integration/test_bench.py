"""The interface benchmark on a small scale: its figures add up and its three copies agree."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import MetaData, Table, select

from casesync.bench import (
    NIGHT,
    bench_sync,
    casesync_copy,
    generate_decisions,
    pandas_copy,
    raw_copy,
)
from casesync.database import init_all
from connectors import Connectors
from schemas import gcms
from schemas.calendar import night_interval
from schemas.interfaces import NOVA_TO_GCMS
from tests.conftest import PG_URL

if TYPE_CHECKING:
    from casesync.settings import Settings

pytestmark = pytest.mark.integration
ROWS = 2_000


@pytest.fixture(scope="module")
def result(backend: str) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASESYNC_BENCH_PG_URL", PG_URL)
        return bench_sync(ROWS, backend)


def test_bench_sync_counts_every_record(result: dict[str, Any], backend: str) -> None:
    assert result["backend"] == backend
    assert result["rows"] == ROWS
    # the next night changes 1% of the decisions; the incremental run carries only those
    assert result["incremental_rows"] == ROWS // 100
    assert result["incremental_updated"] == ROWS // 100
    assert result["raw_incremental_rows"] == ROWS // 100  # the raw floor upserts the same records
    assert set(result["machine_reference"]) == {"python_loop_seconds", "sqlite_write_seconds"}


def _quotient(numerator: float, denominator: float, digits: int) -> Any:
    """numerator / denominator, within what rounding both to 3 decimals (and it) can move it."""
    value = numerator / denominator
    slack = value * (0.0005 / numerator + 0.0005 / denominator) + 0.5 * 10**-digits
    return pytest.approx(value, abs=slack * 1.01)


def test_bench_sync_figures_are_derived_from_its_timings(result: dict[str, Any]) -> None:
    """Each rate and ratio is the one its measured seconds give (no timing is bounded)."""
    seconds = {name: result[f"{name}_seconds"] for name in ("casesync", "raw_sql", "pandas")}
    for name, taken in seconds.items():
        assert taken > 0, name
        assert result[f"{name}_rows_per_s"] == _quotient(ROWS, taken, 0), name
    assert result["ratio_vs_raw"] == _quotient(seconds["raw_sql"], seconds["casesync"], 3)
    assert result["ratio_vs_pandas"] == _quotient(seconds["pandas"], seconds["casesync"], 3)
    incremental = result["incremental_seconds"], result["raw_incremental_seconds"]
    assert result["incremental_cost_vs_full"] == _quotient(incremental[0], seconds["casesync"], 4)
    assert result["raw_incremental_cost_vs_full"] == _quotient(
        incremental[1], seconds["raw_sql"], 4
    )


def _rows(connectors: Connectors, database: str, table: Any, key: str, mapped: bool) -> set[Any]:
    """(key, uci, file, division, outcome, decided_on) of every row of one copy."""
    _, outcomes = NOVA_TO_GCMS.streams[1].codes["outcome"]
    with connectors[database].connect() as conn:
        found = conn.execute(select(table)).mappings().all()
    fields = NOVA_TO_GCMS.streams[1].fields
    out = set()
    for row in found:
        if mapped:  # a target row: the stream's own columns
            values = tuple(row[name] for name in sorted(fields))
            out.add((row[key], *values, row["outcome"]))
        else:  # pandas copies the source query: the source's columns and spellings
            values = tuple(row[fields[name]] for name in sorted(fields))
            out.add((f"N{row['source_key']}", *values, outcomes[row["outcome_code"]]))
    return out


def test_the_three_copies_hold_the_same_records(settings: Settings) -> None:
    """casesync's load, the raw INSERT ... SELECT and pandas' copy: the same records."""
    init_all(settings)
    connectors = Connectors.from_settings(settings)
    try:
        generate_decisions(connectors, 300)
        raw_copy(connectors, night_interval(NIGHT)[1])
        pandas_copy(connectors)
        loaded = casesync_copy(connectors, settings, NIGHT)
        assert loaded.total("inserted") == 300
        stream = NOVA_TO_GCMS.streams[1]
        key = stream.target_key
        raw = Table("bench_copy", MetaData(), autoload_with=connectors.nova.engine)
        panda = Table("bench_pandas", MetaData(), autoload_with=connectors.gcms.engine)
        through_casesync = _rows(connectors, "gcms", gcms.IrbDecision.__table__, key, True)
        through_sql = _rows(connectors, "nova", raw, key, True)
        through_pandas = _rows(connectors, "gcms", panda, key, False)
    finally:
        connectors.dispose()
    assert len(through_casesync) == 300
    assert through_sql == through_casesync
    assert _normalized(through_pandas) == _normalized(through_casesync)


def _normalized(rows: set[Any]) -> set[tuple[str, ...]]:
    """Dates as ISO text: pandas reads SQLite's dates back as text or as timestamps."""

    def show(value: Any) -> str:
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)[:10] if str(value)[:4].isdigit() and "-" in str(value) else str(value)

    return {tuple(show(value) for value in row) for row in rows}


def test_bench_catchup_compares_its_last_nights_with_its_first(backend: str) -> None:
    from casesync.bench import bench_catchup

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASESYNC_BENCH_PG_URL", PG_URL)
        figures = bench_catchup(120, 10, backend)
    assert figures["days"] == 10 and figures["backend"] == backend
    # one night in ten on each side (after the first night, which also carries the history)
    expected = figures["late_nights_mean_seconds"] / figures["early_nights_mean_seconds"]
    assert figures["late_vs_early"] == pytest.approx(expected, abs=0.02)
    assert figures["nights_seconds"] >= 10 * figures["median_night_seconds"] / 2
    assert figures["records_extracted"] > 0  # the world typed entries: a capture that carried
    # none would leave every night empty, and the ratio would compare empty runs


def test_bench_catchup_refuses_fewer_than_ten_nights(settings: Settings) -> None:
    from tests.conftest import invoke

    done = invoke(settings, "bench", "catchup", "--days", "5")
    assert done.exit_code == 2
    assert "--files must be at least 1 and --days at least 10 (got 22000, 5)" in done.output


def test_bench_engines_compiles_each_statement_once_with_the_shared_cache(backend: str) -> None:
    from casesync.bench_engines import bench_engines
    from connectors.base import Connector

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASESYNC_BENCH_PG_URL", PG_URL)
        figures = bench_engines(120, 4, backend)
    assert Connector.share_statements  # the baseline's setting does not outlive it
    assert figures["records_extracted"] > 0  # both copies carried the same records
    compiled = figures["statements_compiled"]
    # four nights in new engines compile the sync's statements four times with a cache per
    # engine; with the shared one, once (the first night), so less than half as many
    assert 0 < compiled["shared"] < compiled["per_engine"] / 2
    expected = figures["per_engine_seconds"] / figures["shared_seconds"]
    assert figures["per_engine_vs_shared"] == pytest.approx(expected, abs=0.02)
