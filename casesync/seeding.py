"""`casesync seed` and `casesync simulate`: build a synthetic world, or advance it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import os
import shutil
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from casesync.database import init_all, require_current
from casesync.errors import BadInput, CasesyncError
from connectors import Connectors
from connectors.bulk import DatabaseSink
from schemas import metadata_for
from schemas.ground_truth import WorldRun
from seed import simulator
from seed.world import Options, World

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from casesync.settings import Settings

#: The systems whose content makes a world (control holds the pipeline's state).
WORLD_DATABASES = ("nova", "gcms", "ncms", "ground_truth", "control")


def state_path(settings: Settings) -> Path:
    """Where the simulator keeps the world's truth between simulated days."""
    return settings.home.resolve() / "world" / "state.pkl"


def parse_options(
    *, files: int, days: int, start: str, defect_rate: float, seed: int, mode: str
) -> Options:
    """Check seeding options; a bad one raises BadInput naming it."""
    from casesync.sync import require_supported_mode

    require_supported_mode(mode)
    if files < 1:
        raise BadInput(f"--files must be at least 1 (got {files})")
    if days < 0:
        raise BadInput(f"--days must be 0 or more (got {days})")
    if not 0.0 <= defect_rate <= 1.0:
        raise BadInput(f"--defect-rate must be between 0 and 1 (got {defect_rate})")
    try:
        start_on = dt.date.fromisoformat(start)
    except ValueError:
        raise BadInput(f"--start must be a date written YYYY-MM-DD (got {start!r})") from None
    if not dt.date(2000, 1, 1) <= start_on <= dt.date(2100, 1, 1):
        raise BadInput(f"--start must fall between 2000 and 2100 (got {start})")
    return Options(
        files=files,
        days=days,
        start=start_on,
        defect_rate=defect_rate,
        seed=seed,
        interop_mode=mode,
    )


def world_exists(connectors: Connectors) -> bool:
    """True when any system already holds rows (a world was seeded here)."""
    for database, table in (("ncms", "office"), ("gcms", "client"), ("nova", "party")):
        with connectors[database].connect() as conn:
            if conn.execute(
                select(func.count()).select_from(metadata_for(database).tables[table])
            ).scalar():
                return True
    with connectors.ground_truth.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(WorldRun)).scalar())


def clear_world(connectors: Connectors, settings: Settings) -> None:
    """Empty every table of the five databases and the batch, report and state files."""
    for database in WORLD_DATABASES:
        with connectors[database].begin() as conn:
            for table in reversed(metadata_for(database).sorted_tables):
                conn.execute(delete(table))
    for directory in (
        settings.batch_dir,
        settings.reports_dir,
        settings.data_docs_dir,
        state_path(settings).parent,
    ):
        shutil.rmtree(directory, ignore_errors=True)


def seed(
    settings: Settings,
    options: Options,
    *,
    replace: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    create_databases: bool = True,
) -> dict[str, Any]:
    """Create the databases if needed (see init_all), then write a new world into them."""
    init_all(settings, create_databases=create_databases)
    connectors = Connectors.from_settings(settings)
    try:
        if world_exists(connectors):
            if not replace:
                raise CasesyncError(
                    "these databases already hold a world; "
                    "pass --replace to discard it and seed anew"
                )
            clear_world(connectors, settings)
        sink = DatabaseSink(connectors)
        try:
            world, result = simulator.seed_world(options, sink, progress=progress)
        except Exception:
            sink.rollback()
            raise
        _record_world(connectors, world)
        simulator.save(world, state_path(settings))
        del world  # the feeds' history is read back from the databases: free the truth first
        gc.collect()
        _feed_history(settings, connectors, options)
        _analyze(connectors)
        return result.as_dict()
    finally:
        connectors.dispose()


def simulate_until(settings: Settings, night: dt.date) -> dict[str, Any]:
    """Advance the world through day `night` (nothing to do when it is there already)."""
    path = state_path(settings)
    if not path.exists():
        raise CasesyncError(f"no world to advance: {path} is missing; run casesync seed first")
    world = simulator.load(path)
    reached = world.day or world.options.start - dt.timedelta(days=1)
    if night <= reached:
        return {"simulated_through": reached.isoformat(), "days": 0}
    days = (night - reached).days
    result = simulate(settings, days)
    return {"simulated_through": result["simulated_through"], "days": days}


def _feed_history(settings: Settings, connectors: Connectors, options: Options) -> None:
    """The feeds' copies of the back-filled history, as loaded before the first night."""
    from casesync.settings import InteropMode
    from casesync.sync import active_interfaces
    from connectors.transfer import load_history
    from schemas.calendar import night_interval

    two_way = settings.interop_mode is InteropMode.TWO_WAY
    for interface in active_interfaces(settings):
        start = night_interval(options.start, interface.cutoff)[0]
        load_history(connectors, interface, start, two_way=two_way)


def simulate(settings: Settings, days: int) -> dict[str, Any]:
    """Advance the seeded world by `days` days."""
    from casesync.sync import require_supported_mode

    require_supported_mode(settings.interop_mode)
    if days < 1:
        raise BadInput(f"--days must be at least 1 (got {days})")
    path = state_path(settings)
    if not path.exists():
        raise CasesyncError(f"no world to advance: {path} is missing; run casesync seed first")
    if not os.access(path.parent, os.W_OK):
        raise CasesyncError(
            f"{path.parent} is read-only: the advanced world could not be kept; "
            "point CASESYNC_HOME at a writable directory (nothing was done)"
        )
    world = simulator.load(path)
    connectors = Connectors.from_settings(settings)
    try:
        require_current(connectors, WORLD_DATABASES)
        sink = DatabaseSink(connectors)
        result = simulator.continue_world(world, sink, days)
        _analyze(connectors, light=True)
        _record_world(connectors, world)
        simulator.save(world, path)
        return result.as_dict()
    finally:
        connectors.dispose()


def _analyze(connectors: Connectors, *, light: bool = False) -> None:
    """Fresh planner statistics for the systems after a bulk load."""
    from connectors import dialect

    for database in ("nova", "gcms", "ncms"):
        with connectors[database].begin() as conn:
            dialect.refresh_statistics(conn, light=light)


def _record_world(connectors: Connectors, world: World) -> None:
    options = world.options
    row = {
        "world_id": 1,
        "seed": options.seed,
        "options": json.dumps(dataclasses.asdict(options), sort_keys=True, default=str),
        "start_on": options.start,
        "simulated_through": world.day or options.start - dt.timedelta(days=1),
    }
    with connectors.ground_truth.begin() as conn:
        conn.execute(delete(WorldRun))
        conn.execute(insert(WorldRun), [row])
