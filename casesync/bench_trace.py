"""`casesync bench trace`: how long `casesync trace KEY` takes on a world of a given size.

Seeds a world, runs its nights and a full validation (so the audit log, the
batches and the findings hold a whole period), then traces keys drawn from the
audit log: the records carried most often first, then random ones. The
baseline, in the same process: the indexed look-up of the same key's audit
rows alone, which a trace cannot be faster than.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from casesync.bench import machine_reference, scratch_settings
from connectors import Connectors
from schemas.control import AuditLog

if TYPE_CHECKING:
    from collections.abc import Callable


def bench_trace(
    files: int,
    days: int,
    backend: str = "sqlite",
    *,
    keys: int = 20,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Seconds per trace (median, slowest) against the indexed audit look-up of the same keys."""
    from casesync.seeding import parse_options
    from casesync.seeding import seed as seed_world
    from casesync.sync import nightly
    from casesync.trace import trace
    from casesync.validation import validate

    say = progress or (lambda _line: None)
    with scratch_settings(backend) as settings:
        options = parse_options(
            files=files, days=days, start="2020-01-06", defect_rate=0.02, seed=1, mode="one_way"
        )
        started = time.perf_counter()
        seed_world(settings, options)
        say(f"seeded in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        nightly(settings, options.start, options.start + dt.timedelta(days=days - 1))
        say(f"nights run in {time.perf_counter() - started:.0f} s")
        validate(settings, engine="sql")
        connectors = Connectors.from_settings(settings)
        try:
            with connectors.control.connect() as conn:
                audit_rows = int(
                    conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()
                )
                busiest = list(
                    conn.execute(
                        select(AuditLog.record_key)
                        .group_by(AuditLog.record_key)
                        .order_by(func.count().desc(), AuditLog.record_key)
                        .limit(keys // 2)
                    ).scalars()
                )
                every = list(conn.execute(select(AuditLog.record_key).distinct()).scalars())
            chosen = busiest + random.Random(7).sample(every, min(len(every), keys - len(busiest)))
            trace(settings, chosen[0])  # imports and engines: the first call of a process
            lookups, traces = [], []
            for key in chosen:
                started = time.perf_counter()
                with connectors.control.connect() as conn:
                    conn.execute(select(AuditLog).where(AuditLog.record_key == key)).all()
                lookups.append(time.perf_counter() - started)
                started = time.perf_counter()
                trace(settings, key)
                traces.append(time.perf_counter() - started)
        finally:
            connectors.dispose()
    return {
        "backend": backend,
        "machine_reference": machine_reference(),
        "files": files,
        "days": days,
        "audit_rows": audit_rows,
        "keys": len(chosen),
        "trace_median_seconds": round(statistics.median(traces), 3),
        "trace_slowest_seconds": round(max(traces), 3),
        "lookup_median_seconds": round(statistics.median(lookups), 4),
        "trace_vs_lookup_median": round(statistics.median(traces) / statistics.median(lookups), 1),
    }
