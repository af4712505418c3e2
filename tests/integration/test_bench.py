"""The interface benchmark on a small scale: its three copies move the same records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casesync.bench import bench_sync
from tests.conftest import PG_URL

if TYPE_CHECKING:
    import pytest


def test_bench_sync_moves_every_record_three_ways(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASESYNC_BENCH_PG_URL", PG_URL)
    result = bench_sync(2_000, backend)

    assert result["backend"] == backend
    assert result["rows"] == 2_000
    # the next night changes 1% of the decisions; the incremental run carries only those
    assert result["incremental_rows"] == 20
    assert result["incremental_updated"] == 20
    assert result["raw_incremental_rows"] == 20  # the raw floor upserts the same records
    assert result["raw_incremental_cost_vs_full"] > 0
    for name in ("casesync", "raw_sql", "pandas"):
        assert result[f"{name}_rows_per_s"] > 0
    assert result["ratio_vs_raw"] > 0 and result["ratio_vs_pandas"] > 0
    reference = result["machine_reference"]
    assert set(reference) == {"python_loop_seconds", "sqlite_write_seconds"}
    assert 0 < reference["python_loop_seconds"] < 60
    assert 0 < reference["sqlite_write_seconds"] < 60
