"""The interface benchmark on a small scale: its three copies move the same records."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from casesync.bench import bench_sync, cpu_reference

if TYPE_CHECKING:
    import pytest


def test_bench_sync_moves_every_record_three_ways(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CASESYNC_BENCH_PG_URL",
        os.environ.get("CASESYNC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432"),
    )
    result = bench_sync(2_000, backend)

    assert result["backend"] == backend
    assert result["rows"] == 2_000
    # the next night changes 1% of the decisions; the incremental run carries only those
    assert result["incremental_rows"] == 20
    assert result["incremental_updated"] == 20
    for name in ("casesync", "raw_sql", "pandas"):
        assert result[f"{name}_rows_per_s"] > 0
    assert result["ratio_vs_raw"] > 0 and result["ratio_vs_pandas"] > 0
    assert result["cpu_reference_seconds"] > 0


def test_cpu_reference_is_a_positive_duration() -> None:
    assert 0 < cpu_reference() < 60
