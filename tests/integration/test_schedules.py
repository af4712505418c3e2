"""Model-based test: random schedules of operations end where one clean in-order run ends.

A seeded random scheduler runs, on a copy of a tiny world, what operators,
engineers and clerks do in any order: nights out of order, skipped then
backfilled, reruns, replays of old batches (with and without a dry run),
corrections to every column each interface carries (joined rows included,
some typed with an old time), entries typed late into nights already
batched, the world extended with `simulate`, runs killed (SIGKILL of a
forked process) at every fault point, a retry after a blocked check, and two
runs of one night at once. Then the operator catches up (every night once,
in order).

The oracle: another copy of the same world, given the same source changes
in the same order, then every night run once, in order. Every schedule must
leave each system equal to the oracle (content digests), no lag in the
reconciliation, no batch unapplied, and an audit (or quarantine) row for
every record of every applied batch. Some schedules also compare the
findings of a full validation.

`CASESYNC_SCHEDULES=2000 .venv/bin/pytest -q -n 2 tests/integration/test_schedules.py`
runs 2,000 schedules (default: 100 on SQLite, 25 on PostgreSQL). The same
schedules also run on a world simulated in two_way mode, with all four
interfaces (`CASESYNC_TWO_WAY_SCHEDULES`, default 8 on SQLite and 4 on
PostgreSQL): corrections there reach every column an interface carries for
the system that owns it (a change to a target-owned field is a conflict,
which depends on the order of events by design, and has its own tests in
test_two_way.py); no schedule may raise a conflict.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Date, func, insert, select, update

from casesync import sync
from casesync.seeding import parse_options, seed, simulate
from casesync.settings import InteropMode
from casesync.sync import active_interfaces, run_night
from connectors import Connectors, faults, transfer
from expectations import reconcile
from schemas import metadata_for, nova
from schemas.calendar import night_interval
from schemas.control import AuditLog, Batch, Conflict, Quarantine
from schemas.errors import PipelineCheckFailed, RunInProgress
from schemas.interfaces import INTERFACES
from schemas.ownership import owner as owner_of
from schemas.two_way import ALL_INTERFACES
from tests.conftest import BACKEND, copy_world, drop_world, system_digests, type_claim

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 3
CHUNKS = 10
SCHEDULES = int(os.environ.get("CASESYNC_SCHEDULES", "100" if BACKEND == "sqlite" else "25"))
TWO_WAY_CHUNKS = 4
TWO_WAY_SCHEDULES = int(
    os.environ.get("CASESYNC_TWO_WAY_SCHEDULES", "8" if BACKEND == "sqlite" else "4")
)
#: Schedules whose findings are compared too, by a full validation with the SQL engine
#: (the same rules as Great Expectations runs, without building Data Docs): one in this many.
FINDINGS_EVERY = 10


def compares_findings(number: int) -> bool:
    """One schedule in FINDINGS_EVERY, spread over the chunks (0, 11, 22, ...): a chunk that
    held them all would outlast the others."""
    return number % FINDINGS_EVERY == (number // CHUNKS) % FINDINGS_EVERY


#: Tables an interface writes: a clerk's correction there would be overwritten by the feed.
FEED_TABLES = {
    (i.target_system, s.target_table) for i in ALL_INTERFACES.values() for s in i.streams
}
#: Columns that decide whether a record belongs to a stream at all (its WHERE).
SCOPE_COLUMNS = {
    ("case_file", "division"), ("decision", "is_final"), ("irb_decision", "division"),
    ("removal_case", "removal_confirmation"), ("inadmissibility_report", "referral_file_no"),
}  # fmt: skip


@dataclass(frozen=True)
class Carried:
    """A source column a stream carries, on the table (joined or not) that holds it."""

    system: str
    stream: str
    table: str
    column: str


def carried_columns(two_way: bool = False) -> list[Carried]:
    """Every source column the mode's interfaces carry, from the declarations.

    In two_way mode, only the columns whose target field the source owns.
    """
    found: dict[tuple[str, str], Carried] = {}
    for interface in ALL_INTERFACES.values():
        if interface.two_way_only and not two_way:
            continue
        for stream in interface.streams:
            targets = {source: target for target, source in stream.fields.items()}
            targets |= {source: target for target, (source, _) in stream.codes.items()}
            for column in stream.records().selected_columns:
                if column.name == "source_key" or not hasattr(column, "table"):
                    continue
                target = targets.get(column.name)
                if two_way and target and owner_of(stream, target) != stream.source_system:
                    continue
                if column.primary_key:  # a record's identity: a new key is a new record
                    continue
                table = column.table.name
                owner = (interface.source_system, table)
                if owner in FEED_TABLES or (table, column.name) in SCOPE_COLUMNS:
                    continue
                found.setdefault(
                    (table, column.name),
                    Carried(interface.source_system, stream.name, table, column.name),
                )
    return sorted(found.values(), key=lambda c: (c.system, c.table, c.column))


COLUMNS = carried_columns()
TWO_WAY_COLUMNS = carried_columns(two_way=True)


def _typed_in(night: dt.date, hour: int = 14) -> dt.datetime:
    start, _ = night_interval(night)
    return start + dt.timedelta(hours=hour - 2)


@dataclass
class Schedule:
    """One random schedule on a copy of the base world, and what it did."""

    number: int
    base: Settings
    home: Path
    backend: str
    mode: InteropMode = InteropMode.ONE_WAY
    rng: random.Random = field(init=False)
    settings: Settings = field(init=False)
    last: dt.date = field(init=False)
    changes: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    serial: int = 0
    simulated: bool = False

    def __post_init__(self) -> None:
        self.rng = random.Random(1_000_003 * self.number + 17)
        self.settings = _copy(self.base, self.home / "schedule", self.backend, self.mode)
        self.connectors = Connectors.from_settings(self.settings)
        self.last = START + dt.timedelta(days=DAYS - 1)

    # ------------------------------------------------------------ what the sources see

    def change(self, kind: str, *args: Any) -> None:
        """A source change: applied here, and recorded to be applied to the oracle."""
        self.changes.append((kind, args))
        apply_change(self.settings, self.connectors, kind, args)
        self.done.append(f"{kind}{args}")

    def correct(self) -> None:
        columns = TWO_WAY_COLUMNS if self.mode is InteropMode.TWO_WAY else COLUMNS
        carried = columns[(self.number * 7 + self.serial) % len(columns)]
        self.serial += 1
        choice = pick_correction(self.connectors, carried, self.rng)
        if choice is None:
            return
        key_column, key, value = choice
        typed = _typed_in(self.rng_night(past=self.rng.random() < 0.3))
        self.change("update", carried.system, carried.table, key_column, key, carried.column,
                    value, typed)  # fmt: skip

    def late_entry(self) -> None:
        self.serial += 1
        number = 100 * self.number % 9000 + self.serial
        typed = _typed_in(self.rng_night(past=True))
        if self.rng.random() < 0.5:
            self.change("claim", number, typed)
        else:
            table = self.rng.choice(["travel_document", "prra_application", "litigation"])
            self.change("clone", table, 9_000_000 + number, typed)

    def extend(self) -> None:
        if self.simulated:
            return
        self.simulated = True
        self.change("simulate", 1)
        self.last += dt.timedelta(days=1)

    def rng_night(self, *, past: bool = False) -> dt.date:
        """A night of the world: any (when `past`, sometimes one before the first: history)."""
        low = -3 if past else 0
        return START + dt.timedelta(days=self.rng.randint(low, (self.last - START).days))

    # ------------------------------------------------------------ what operators do

    def run(self, night: dt.date | None = None) -> None:
        night = night or START + dt.timedelta(days=self.rng.randint(0, (self.last - START).days))
        self.done.append(f"run {night}")
        run_night(self.settings, night, connectors=self.connectors)

    def replay(self) -> None:
        stored = batched_nights(self.connectors)
        if not stored:
            return
        (interface, night), dry = self.rng.choice(stored), self.rng.random() < 0.5
        self.done.append(f"replay {interface} {night} dry={dry}")
        run_night(
            self.settings, night, interface=interface, replay=True, dry_run=dry,
            connectors=self.connectors,
        )  # fmt: skip

    def kill(self) -> None:
        point = faults.POINTS[(self.number + self.serial) % len(faults.POINTS)]
        self.serial += 1
        night = START + dt.timedelta(days=self.rng.randint(0, (self.last - START).days))
        self.done.append(f"kill {night} at {point}")
        self.connectors.dispose()  # the child opens its own connections
        code = in_child(_run_with_fault, self.settings, night, point)
        assert code in (-9, 0), code

    def blocked(self) -> None:
        night = START + dt.timedelta(days=self.rng.randint(0, (self.last - START).days))
        self.done.append(f"blocked check {night}")
        for interface in active_interfaces(self.settings):
            with pytest.raises(PipelineCheckFailed):
                transfer.run_interface(
                    self.connectors, self.settings.batch_dir, interface, night, check=_fails,
                    two_way=self.mode is InteropMode.TWO_WAY,
                )  # fmt: skip

    def at_once(self) -> None:
        night = START + dt.timedelta(days=self.rng.randint(0, (self.last - START).days))
        self.done.append(f"two runs of {night} at once")
        self.connectors.dispose()
        context = multiprocessing.get_context("fork")
        child = context.Process(target=_run_quietly, args=(self.settings, night))
        child.start()
        with contextlib.suppress(RunInProgress):  # the child may hold the lock
            run_night(self.settings, night, connectors=self.connectors)
        child.join(300)
        assert child.exitcode == 0, child.exitcode

    def play(self) -> None:
        operations: list[Callable[[], None]] = [
            self.run, self.run, self.run, self.replay, self.correct, self.correct,
            self.late_entry, self.kill, self.blocked, self.at_once, self.extend,
        ]  # fmt: skip
        for _ in range(self.rng.randint(4, 8)):
            self.rng.choice(operations)()
        self.correct()
        self.late_entry()
        for offset in range((self.last - START).days + 1):  # the operator catches up
            run_night(self.settings, START + dt.timedelta(days=offset), connectors=self.connectors)
        self.connectors.dispose()


def _copy(base: Settings, home: Path, backend: str, mode: InteropMode) -> Settings:
    return copy_world(base, home, backend).model_copy(update={"interop_mode": mode})


def _fails(result: transfer.RunResult) -> None:
    raise PipelineCheckFailed(f"{result.interface} night {result.night}", {"forced": "1"})


def _run_with_fault(settings: Settings, night: dt.date, point: str) -> None:
    os.environ["CASESYNC_FAULT"] = point
    run_night(settings, night)


def _run_quietly(settings: Settings, night: dt.date) -> None:
    with contextlib.suppress(RunInProgress):
        run_night(settings, night)


def in_child(target: Callable[..., None], *args: Any) -> int | None:
    """Run `target` in a forked process (its own connections) and return its exit code."""
    child = multiprocessing.get_context("fork").Process(target=target, args=args)
    child.start()
    child.join(300)
    return child.exitcode


# ---------------------------------------------------------------- source changes


def apply_change(
    settings: Settings, connectors: Connectors, kind: str, args: tuple[Any, ...]
) -> None:
    """Apply one recorded source change to a world (the schedule's, then the oracle's)."""
    if kind == "simulate":
        simulate(settings, args[0])
        return
    if kind == "update":
        system, table_name, key_column, key, column, value, typed = args
        table = metadata_for(system).tables[table_name]
        with connectors[system].begin() as conn:
            conn.execute(
                update(table)
                .where(table.c[key_column] == key)
                .values({column: value, "updated_at": typed})
            )
    elif kind == "claim":
        type_claim(connectors, *args)
    elif kind == "clone":
        _clone(connectors, *args)


def _clone(connectors: Connectors, table_name: str, key: int, typed: dt.datetime) -> None:
    """A new GCMS row like an existing one (a new key), typed at `typed`."""
    table = metadata_for("gcms").tables[table_name]
    (pk,) = table.primary_key.columns
    with connectors.gcms.begin() as conn:
        row = conn.execute(select(table).order_by(pk).limit(1)).mappings().first()
        if row is None:
            return
        values = {k: v for k, v in row.items() if k != "change_epoch"}
        values.update({pk.name: key, "entered_at": typed, "updated_at": typed})
        conn.execute(insert(table).values(values))


def pick_correction(
    connectors: Connectors, carried: Carried, rng: random.Random
) -> tuple[str, Any, Any] | None:
    """A record in the stream's scope and a new, valid value for one of its columns."""
    stream = next(s for i in ALL_INTERFACES.values() for s in i.streams if s.name == carried.stream)
    table = metadata_for(carried.system).tables[carried.table]
    (pk,) = table.primary_key.columns
    query = stream.records().with_only_columns(pk, table.c[carried.column]).distinct()
    with connectors[carried.system].connect() as conn:
        rows = [tuple(r) for r in conn.execute(query.order_by(pk))]
    if not rows:
        return None
    key, current = rng.choice(rows)
    if isinstance(table.c[carried.column].type, Date):
        base = current or START
        return pk.name, key, base + dt.timedelta(days=rng.choice([-9, -2, 1, 3, 11]))
    others = sorted({value for _, value in rows if value is not None and value != current})
    if not others:
        return None
    return pk.name, key, rng.choice(others)


# ---------------------------------------------------------------- what must hold


def batched_nights(connectors: Connectors) -> list[tuple[str, dt.date]]:
    """(interface, night) of every stored batch."""
    with connectors.control.connect() as conn:
        rows = conn.execute(select(Batch.interface, Batch.night).distinct())
        return sorted((interface, night) for interface, night in rows)


def oracle(schedule: Schedule) -> Settings:
    """The same source changes on a fresh copy, then every night once, in order."""
    clean = _copy(schedule.base, schedule.home / "oracle", schedule.backend, schedule.mode)
    connectors = Connectors.from_settings(clean)
    try:
        for kind, args in schedule.changes:
            apply_change(clean, connectors, kind, args)
        for offset in range((schedule.last - START).days + 1):
            run_night(clean, START + dt.timedelta(days=offset), connectors=connectors)
    finally:
        connectors.dispose()
    return clean


def unaudited(settings: Settings) -> list[str]:
    """Records of applied batches with neither an audit row nor a quarantine row."""
    from connectors.batches import read_manifest

    connectors = Connectors.from_settings(settings)
    missing = []
    try:
        with connectors.control.connect() as conn:
            batches = conn.execute(select(Batch.batch_id, Batch.path, Batch.applied_at)).all()
            kept = set(
                conn.execute(select(AuditLog.batch_id, AuditLog.stream, AuditLog.record_key))
            )
            kept |= set(
                conn.execute(select(Quarantine.batch_id, Quarantine.stream, Quarantine.record_key))
            )
        for identifier, path, applied_at in batches:
            if applied_at is None:
                missing.append(f"{identifier} was never applied")
                continue
            interface = ALL_INTERFACES[identifier.split(":")[0]]
            formats = {s.name: s.key_format for s in interface.streams}
            for stream in read_manifest(Path(path)).streams:
                keys = pq.read_table(Path(path) / stream.file, columns=["source_key"])
                for key in keys.column("source_key").to_pylist():
                    record = formats[stream.name].format(key)
                    if (identifier, stream.name, record) not in kept:
                        missing.append(f"{identifier} {stream.name} {record}")
    finally:
        connectors.dispose()
    return missing


def lag(settings: Settings, night: dt.date) -> dict[str, int]:
    connectors = Connectors.from_settings(settings)
    try:
        _, unread = reconcile.refresh(connectors)
        assert not unread, unread
        return reconcile.lagging(connectors, active_interfaces(settings), night, 0)
    finally:
        connectors.dispose()


def findings(settings: Settings) -> set[tuple[str, str, str, str]]:
    from casesync.validation import validate
    from schemas.control import Finding

    validate(settings, engine="sql")
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            return {
                (r.rule, r.system, r.table_name, r.record_key)
                for r in conn.execute(
                    select(Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
                )
            }
    finally:
        connectors.dispose()


# ---------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def tiny(module_world: Callable[..., Settings]) -> Settings:
    """A tiny clean world: the schedules find the bugs, not the size."""
    settings = module_world()
    seed(
        settings,
        parse_options(
            files=60, days=DAYS, start=START.isoformat(), defect_rate=0.0, seed=3, mode="one_way"
        ),
    )
    return settings


def conflicts(settings: Settings) -> int:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Conflict)).scalar_one())
    finally:
        connectors.dispose()


@pytest.fixture(scope="module")
def tiny_two_way(module_world: Callable[..., Settings]) -> Iterator[Settings]:
    """The tiny world simulated in two_way mode (the officers stop re-keying)."""
    with sync.two_way_trial():
        settings = module_world(interop_mode="two_way")
        seed(
            settings,
            parse_options(
                files=60, days=DAYS, start=START.isoformat(), defect_rate=0.0, seed=3,
                mode="two_way",
            ),
        )  # fmt: skip
        yield settings


def test_the_carried_columns_cover_every_stream() -> None:
    """Corrections reach every stream whose source a clerk types (not the feed-written ones)."""
    covered = {c.stream for c in COLUMNS}
    typed = {
        s.name
        for i in INTERFACES.values()
        for s in i.streams
        if (i.source_system, s.source_table) not in FEED_TABLES
    }
    assert covered == typed
    assert ("party", "uci") in {(c.table, c.column) for c in COLUMNS}  # a joined row
    two_way = {c.stream for c in TWO_WAY_COLUMNS}
    assert {"warrants", "removal_cases"} <= two_way
    # removed_on is carried by removal_cases and r240_departures: a correction reaches both
    assert ("removal_case", "removed_on") in {(c.table, c.column) for c in TWO_WAY_COLUMNS}
    assert ("removal_case", "uci") not in {(c.table, c.column) for c in TWO_WAY_COLUMNS}


@pytest.fixture(scope="module")
def dropper(backend: str) -> Iterator[Callable[[Settings], None]]:
    """Drops finished worlds in a background thread: on PostgreSQL a DROP DATABASE waits
    for a checkpoint, and the next schedule need not wait for it."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        dropping: list[Any] = []
        yield lambda settings: dropping.append(pool.submit(drop_world, settings, backend))
        for future in dropping:
            future.result()  # a drop that failed fails the last test of the module


@pytest.mark.parametrize("chunk", range(CHUNKS), ids=lambda c: f"chunk{c}")
def test_any_schedule_ends_as_one_clean_run(
    tiny: Settings,
    chunk: int,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    dropper: Callable[[Settings], None],
) -> None:
    for number in range(chunk, SCHEDULES, CHUNKS):
        home = tmp_path_factory.mktemp(f"s{number}")
        _play_and_compare(Schedule(number, tiny, home, backend), dropper)


@pytest.mark.parametrize("chunk", range(TWO_WAY_CHUNKS), ids=lambda c: f"two_way{c}")
def test_any_two_way_schedule_ends_as_one_clean_run(
    tiny_two_way: Settings,
    chunk: int,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    dropper: Callable[[Settings], None],
) -> None:
    with sync.two_way_trial():
        for number in range(chunk, TWO_WAY_SCHEDULES, TWO_WAY_CHUNKS):
            home = tmp_path_factory.mktemp(f"t{number}")
            schedule = Schedule(number, tiny_two_way, home, backend, InteropMode.TWO_WAY)
            _play_and_compare(schedule, dropper)


def _play_and_compare(schedule: Schedule, drop: Callable[[Settings], None]) -> None:
    clean = None
    try:
        schedule.play()
        clean = oracle(schedule)
        story = "; ".join(schedule.done)
        assert system_digests(schedule.settings) == system_digests(clean), story
        assert lag(schedule.settings, schedule.last) == {}, story
        assert unaudited(schedule.settings) == [], story
        if schedule.mode is InteropMode.TWO_WAY:
            assert conflicts(schedule.settings) == conflicts(clean) == 0, story
        if compares_findings(schedule.number):
            assert findings(schedule.settings) == findings(clean), story
    finally:
        drop(schedule.settings)
        if clean is not None:
            drop(clean)


def test_a_schedule_that_loses_a_change_is_caught(
    tiny: Settings, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> None:
    """The oracle comparison fails when one correction never reaches the targets."""
    schedule = Schedule(7, tiny, tmp_path_factory.mktemp("lossy"), backend)
    try:
        for offset in range(DAYS):
            run_night(schedule.settings, START + dt.timedelta(days=offset))
        schedule.change(
            "update", "nova", "party", "party_id", _some_party(schedule.settings), "uci",
            "7777-1234", _typed_in(START + dt.timedelta(days=1)),
        )  # fmt: skip
        connectors = Connectors.from_settings(schedule.settings)
        try:  # a broken capture: the marks claim the change was carried
            with connectors.nova.begin() as conn:
                from connectors import dialect

                through = dialect.advance_epoch(conn)
            with connectors.control.begin() as conn:
                conn.execute(update(reconcile.control.CaptureMark).values(through_epoch=through))
        finally:
            connectors.dispose()
        for offset in range(DAYS):
            run_night(schedule.settings, START + dt.timedelta(days=offset))
        clean = oracle(schedule)
        try:
            assert system_digests(schedule.settings) != system_digests(clean)
        finally:
            drop_world(clean, backend)
    finally:
        drop_world(schedule.settings, backend)


def _some_party(settings: Settings) -> int:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.nova.connect() as conn:
            query = (
                select(func.min(nova.Party.party_id))
                .join(nova.CaseFile, nova.CaseFile.party_id == nova.Party.party_id)
                .where(nova.CaseFile.division == "RPD")
            )
            return int(conn.execute(query).scalar_one())
    finally:
        connectors.dispose()
