"""`casesync bench engines`: nights run in new engines, with and without one statement cache.

A process often opens new engines for statements it has run before: each
night of `compare-modes`, a validation after a sync, every world of the test
suite. SQLAlchemy keeps compiled statements per engine, so each new engine
compiles them all again; casesync's engines share one cache per process
(connectors/base.py). The benchmark seeds a small
world, copies it twice, and runs every night of each copy in new engines:
the baseline with a cache per engine (SQLAlchemy's default), then with the
shared one, in the same process. A warm-up copy runs the first night before
either, so neither pays for first imports.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import CacheStats

from casesync.bench import machine_reference, scratch_settings
from casesync.database import copy_databases
from connectors.base import STATEMENT_CACHE, Connector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings


@contextlib.contextmanager
def _statements_per_engine(per_engine: bool) -> Iterator[None]:
    """Engines created inside keep their own statement cache (`per_engine`) or share one."""
    before = Connector.share_statements
    Connector.share_statements = not per_engine
    try:
        yield
    finally:
        Connector.share_statements = before


class _Compiles:
    """Counts statements compiled (statement-cache misses) by every engine of the process."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, _conn: Any, _cursor: Any, _sql: Any, _params: Any, context: Any, *_: Any
    ) -> None:
        if context is not None and getattr(context, "cache_hit", None) is CacheStats.CACHE_MISS:
            self.count += 1


def _nights(settings: Settings, nights: list[dt.date]) -> tuple[float, int]:
    """Every night in new engines (run_night's own, as compare-modes runs them)."""
    from casesync.sync import run_night

    started = time.perf_counter()
    records = 0
    for night in nights:
        results = run_night(settings, night, check=True)
        records += sum(r.total("extracted") for r in results)
    return time.perf_counter() - started, records


def bench_engines(
    files: int,
    days: int,
    backend: str = "sqlite",
    *,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seconds for a world's nights in new engines: a cache per engine against one shared."""
    from casesync.seeding import parse_options
    from casesync.seeding import seed as seed_world
    from casesync.sync import run_night

    say = progress or (lambda _line: None)
    options = parse_options(
        files=files, days=days, start="2020-01-06", defect_rate=0.02, seed=seed, mode="one_way"
    )
    nights = [options.start + dt.timedelta(days=offset) for offset in range(days)]
    compiles = _Compiles()
    with contextlib.ExitStack() as stack:
        seeded, warm, alone, shared = (
            stack.enter_context(scratch_settings(backend)) for _ in range(4)
        )
        seed_world(seeded, options)
        for copy in (warm, alone, shared):
            copy_databases(seeded, copy)
        say(f"seeded {files:,} files and {days} days, copied three times")
        event.listen(Engine, "after_cursor_execute", compiles)
        stack.callback(event.remove, Engine, "after_cursor_execute", compiles)
        with _statements_per_engine(True):
            run_night(warm, nights[0], check=True)
            compiles.count = 0
            per_engine_seconds, per_engine_records = _nights(alone, nights)
            per_engine_compiles = compiles.count
        say(f"a cache per engine: {per_engine_seconds:.2f} s")
        STATEMENT_CACHE.clear()
        compiles.count = 0
        with _statements_per_engine(False):
            shared_seconds, shared_records = _nights(shared, nights)
        say(f"one shared cache: {shared_seconds:.2f} s")
    if per_engine_records != shared_records:
        raise AssertionError(f"the runs differ: {per_engine_records} != {shared_records} records")
    return {
        "backend": backend,
        "machine_reference": machine_reference(),
        "files": files,
        "days": days,
        "records_extracted": shared_records,
        "per_engine_seconds": round(per_engine_seconds, 2),
        "shared_seconds": round(shared_seconds, 2),
        "per_engine_vs_shared": round(per_engine_seconds / shared_seconds, 2),
        "statements_compiled": {"per_engine": per_engine_compiles, "shared": compiles.count},
    }
