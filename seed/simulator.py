"""Seed a world and advance it day by day: the simulator's entry points."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import pickle
import random
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from seed import detention, enforcement, history, intake, irb, removals, type_nova
from seed.context import Day
from seed.defects import DefectClass, DefectInjector
from seed.ledger import Ledger
from seed.params import (
    ARRESTS_BY_REASON,
    FULL_SCALE_FILES,
    ORDERS_BY_CATEGORY,
    REMOVALS_BY_PRIORITY,
    REPORTS_BY_CATEGORY,
    WorldParameters,
)
from seed.people import PeoplePool
from seed.world import Options, World

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from seed.ledger import Sink

#: What each scheduled event does.
HANDLERS: dict[str, Callable[..., None]] = {
    "md_review": intake.md_review,
    "id_hearing": irb.id_hearing,
    "rekey": irb.rekey,
    "rpd_decision": irb.rpd_decision,
    "rad_filing": irb.rad_filing,
    "rad_perfected": irb.rad_perfected,
    "rad_decision": irb.rad_decision,
    "order_in_force": irb.order_in_force,
    "litigation_filed": irb.litigation_filed,
    "litigation_entry": irb.litigation_entry,
    "leave_decision": irb.leave_decision,
    "judicial_review": irb.judicial_review,
    "prra_applied": irb.prra_applied,
    "prra_decision": irb.prra_decision,
    "iad_decision": irb.iad_decision,
    "td_issued": enforcement.td_issued,
    "impediment_end": removals.impediment_end,
    "stay_end": removals.stay_end,
    "departure_deadline": removals.departure_deadline,
    "activity": removals.activity,
    "review": removals.review,
    "detention_review": detention.review,
    "release": detention.release,
    "reasons_sent": type_nova.reasons_sent,
}

#: Reference tables the calibration compares against: (counter name, table).
CALIBRATION = {
    "reports": REPORTS_BY_CATEGORY,
    "orders": ORDERS_BY_CATEGORY,
    "arrests": ARRESTS_BY_REASON,
    "removals": REMOVALS_BY_PRIORITY,
}


@dataclass
class SeedResult:
    """What a seeding run did, for `casesync seed --json`."""

    options: dict[str, Any]
    seconds: float
    history_seconds: float
    simulated_through: str | None
    rows: dict[str, int]
    typed_entries: int
    defects: dict[str, int]
    #: Entries on which each class of error could have been made (planted or not).
    opportunities: dict[str, int] = field(default_factory=dict)
    calibration: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def scale_of(options: Options) -> float:
    return options.files / FULL_SCALE_FILES


def calibration(world: World) -> dict[str, dict[str, dict[str, float]]]:
    """Achieved shares of each reference table, next to the reference's own shares."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for name, table in CALIBRATION.items():
        counts = world.counters.get(name, {})
        total = sum(counts.values())
        reference_total = sum(table.values())
        result[name] = {
            str(getattr(key, "value", key)): {
                "count": counts.get(str(getattr(key, "value", key)), 0),
                "share": counts.get(str(getattr(key, "value", key)), 0) / total if total else 0.0,
                "reference_share": value / reference_total,
            }
            for key, value in table.items()
        }
    return result


def _day(
    world: World, ledger: Ledger, date: dt.date, params: WorldParameters, people: PeoplePool
) -> Day:
    return Day(world, ledger, date, params, people, scale_of(world.options))


def simulate_day(
    world: World, ledger: Ledger, date: dt.date, params: WorldParameters, people: PeoplePool
) -> None:
    """Advance the world by one day: what was scheduled, then the day's new arrivals."""
    day = _day(world, ledger, date, params, people)
    ledger.defect_day = date
    for kind, args in world.agenda.pop_day(date):
        HANDLERS[kind](day, *args)
    intake.daily_reports(day)
    detention.daily_arrests(day)
    removals.daily_removals(day)
    removals.daily_warrants(day)
    world.day = date


def seed_world(
    options: Options,
    sink: Sink,
    *,
    params: WorldParameters | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[World, SeedResult]:
    """Write a world's history and simulate its days into the databases behind `sink`."""
    params = params or WorldParameters()
    started = time.perf_counter()
    with quiet_collector():
        world, history_seconds, ledger, people = _build(options, sink, params, started, progress)
        advance(world, ledger, options.start, options.days, params, people, sink, progress)
    sink.finish()
    return world, summarize(world, ledger, started, history_seconds)


@contextlib.contextmanager
def quiet_collector() -> Iterator[None]:
    """Collect cyclic garbage rarely: the world is millions of long-lived objects, no cycles.

    No collection on entry: in a long-lived process (a test run, an Airflow
    worker) a full collection of its heap costs more than a small day's simulation.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _build(
    options: Options,
    sink: Sink,
    params: WorldParameters,
    started: float,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[World, float, Ledger, PeoplePool]:
    world = World(options=options)
    world.injector = DefectInjector(0.0)  # history is clean
    people = PeoplePool(options.seed)
    ledger = Ledger(world)
    history_day = _day(world, ledger, options.start - dt.timedelta(days=2), params, people)
    if progress:
        progress("history", 0, options.files)
    history.build(history_day, options.start, sink)
    history_seconds = time.perf_counter() - started
    world.counters.clear()  # the calibration counts only simulated days
    world.samplers.clear()
    world.injector = DefectInjector(options.defect_rate)
    return world, history_seconds, Ledger(world), people


def advance(
    world: World,
    ledger: Ledger,
    first: dt.date,
    days: int,
    params: WorldParameters,
    people: PeoplePool,
    sink: Sink,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Simulate `days` days from `first`, writing each day before the next begins."""
    world.until = first + dt.timedelta(days=days - 1)
    for offset in range(days):
        date = first + dt.timedelta(days=offset)
        simulate_day(world, ledger, date, params, people)
        ledger.flush(sink)
        if progress:
            progress("days", offset + 1, days)


def summarize(world: World, ledger: Ledger, started: float, history_seconds: float) -> SeedResult:
    injector = world.injector
    return SeedResult(
        options={
            k: (v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in asdict(world.options).items()
        },
        seconds=round(time.perf_counter() - started, 3),
        history_seconds=round(history_seconds, 3),
        simulated_through=world.day.isoformat() if world.day else None,
        rows=dict(sorted(ledger.written.items())),
        typed_entries=injector.typed,
        defects={c.value: world.recorded.get(c.value, 0) for c in DefectClass},
        opportunities={c.value: injector.offered[c] for c in DefectClass},
        calibration=calibration(world),
    )


def continue_world(
    world: World, sink: Sink, days: int, *, params: WorldParameters | None = None
) -> SeedResult:
    """Simulate `days` more days of an existing world (the demo's simulate_day DAG)."""
    params = params or WorldParameters()
    started = time.perf_counter()
    people = PeoplePool(world.options.seed)
    ledger = Ledger(world)
    first = (world.day or world.options.start) + dt.timedelta(days=1)
    with quiet_collector():
        advance(world, ledger, first, days, params, people, sink)
    sink.finish()
    return summarize(world, ledger, started, 0.0)


def save(world: World, path: Path) -> None:
    """Keep the world's state (truth, agenda, counters) for the next simulated day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "wb") as handle:
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        # No memo: the world shares no mutable object and has no cycle, and a memo
        # of millions of objects would double the memory the world takes.
        pickler.fast = True
        pickler.dump(world)
    temporary.replace(path)


def load(path: Path) -> World:
    with open(path, "rb") as handle:
        world = pickle.load(handle)
    assert isinstance(world, World)
    _fill_missing(world)
    for case in world.cases.values():
        _fill_missing(case)
    if not hasattr(world.injector, "offered"):
        world.injector.offered = dict.fromkeys(DefectClass, 0)
    return world


def _fill_missing(record: Any) -> None:
    """Give a record saved by an earlier version the fields added since (their defaults)."""
    for spec in fields(record):
        if not hasattr(record, spec.name):
            if spec.default_factory is not MISSING:
                setattr(record, spec.name, spec.default_factory())
            elif spec.default is not MISSING:
                setattr(record, spec.name, spec.default)


_ = random
