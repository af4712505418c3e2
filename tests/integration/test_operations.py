"""Everyday operations: backfills, corrections, late entries, extended worlds, blocked checks.

Each test starts from a copy of one small seeded world and does what an
operator, an engineer or a clerk does, then checks the rows in the systems
and the control database. Each was a bug of the one-way pipeline before
change capture (docs/reliability.md).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import delete, func, select, update

from casesync.seeding import parse_options, seed, simulate
from casesync.sync import run_night
from connectors import Connectors, arrow_io, transfer
from expectations import reconcile
from schemas import gcms, ncms, nova
from schemas.calendar import night_interval
from schemas.control import AuditLog, Batch, Quarantine, SyncRun
from schemas.errors import PipelineCheckFailed
from schemas.interfaces import NOVA_TO_GCMS
from tests.conftest import copy_world, drop_world, invoke, system_digests, type_claim

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 6


def _night(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def _typed_in(night: dt.date, hour: int = 14) -> dt.datetime:
    """A moment inside a night's interval: the afternoon of its day, Toronto (naive UTC)."""
    start, _ = night_interval(night, NOVA_TO_GCMS.cutoff)
    return start + dt.timedelta(hours=hour - 2)


def _seed(settings: Settings, days: int = DAYS) -> None:
    seed(
        settings,
        parse_options(
            files=200, days=days, start=START.isoformat(), defect_rate=0.0, seed=5, mode="one_way"
        ),
    )


@pytest.fixture(scope="module")
def base(module_world: Callable[..., Settings]) -> Settings:
    """A small clean world, seeded once; tests work on copies of it."""
    settings = module_world()
    _seed(settings)
    return settings


@pytest.fixture
def world(
    base: Settings, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[Settings]:
    copy = copy_world(base, tmp_path_factory.mktemp("copy"), backend)
    yield copy
    drop_world(copy, backend)


@pytest.fixture
def connectors(world: Settings) -> Iterator[Connectors]:
    made = Connectors.from_settings(world)
    yield made
    made.dispose()


def _run(settings: Settings, *offsets: int) -> None:
    for offset in offsets:
        run_night(settings, _night(offset))


def _gcms_row(connectors: Connectors, model: Any, key: str) -> Any:
    column = next(iter(model.__table__.primary_key.columns))
    with connectors.gcms.connect() as conn:
        return conn.execute(select(model).where(column == key)).mappings().first()


def _lag(connectors: Connectors, night: dt.date) -> dict[str, int]:
    _, unread = reconcile.refresh(connectors)
    assert not unread, unread
    return reconcile.lagging(connectors, [NOVA_TO_GCMS], night, 1)


def test_a_backfilled_night_is_seen_by_the_reconciliation(
    world: Settings, connectors: Connectors
) -> None:
    file_number, decision_id = type_claim(connectors, 1, _typed_in(_night(2)))
    type_claim(connectors, 11, _typed_in(_night(3)))  # the later night loads rows of its own
    _run(world, 0, 1, 3)  # night 2 skipped
    assert _lag(connectors, _night(3)).get("nova_to_gcms", 0) >= 1
    _run(world, 2)  # the backfill
    assert _lag(connectors, _night(3)) == {}
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}")["irb_file_no"] == file_number
    with connectors.control.connect() as conn:
        delivered = conn.execute(
            select(func.count()).where(
                reconcile.control.ReconFeedItem.interface == "nova_to_gcms",
                reconcile.control.ReconFeedItem.side == "target",
                reconcile.control.ReconFeedItem.feed_key == f"N{decision_id}",
            )
        ).scalar()
    assert delivered == 1


def test_a_corrected_party_uci_reaches_gcms_and_ncms(
    world: Settings, connectors: Connectors
) -> None:
    file_number, decision_id = type_claim(connectors, 2, _typed_in(_night(1)))
    _run(world, 0, 1)
    assert _gcms_row(connectors, gcms.IrbProceeding, file_number)["uci"] != "4444-5555"
    with connectors.nova.begin() as conn:  # a clerk corrects the UCI on the party only
        conn.execute(
            update(nova.Party)
            .where(nova.Party.party_id == 9_000_002)
            .values(uci="4444-5555", updated_at=_typed_in(_night(2)))
        )
    _run(world, 2)
    assert _gcms_row(connectors, gcms.IrbProceeding, file_number)["uci"] == "4444-5555"
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}")["uci"] == "4444-5555"
    with connectors.ncms.connect() as conn:
        carried = conn.execute(
            select(ncms.IrbOutcome.uci).where(ncms.IrbOutcome.source_ref == f"N{decision_id}")
        ).scalar()
    assert carried == "4444-5555"


def test_a_late_entry_is_carried_by_the_next_run_whichever_night(
    world: Settings, connectors: Connectors
) -> None:
    _run(world, 0, 1, 2)
    _, late = type_claim(connectors, 3, _typed_in(_night(1)))  # typed into a batched night
    _run(world, 1)  # a rerun of that night carries it in the night's second batch
    row = _gcms_row(connectors, gcms.IrbDecision, f"N{late}")
    assert row is not None
    assert row["updated_at"] == night_interval(_night(1), NOVA_TO_GCMS.cutoff)[1]
    _, later = type_claim(connectors, 4, _typed_in(_night(0)))
    _run(world, 3)  # a later night carries one typed into night 0
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{later}") is not None
    with connectors.control.connect() as conn:
        batches = conn.execute(
            select(Batch.batch_id).where(Batch.interface == "nova_to_gcms").order_by(Batch.night)
        ).scalars()
        assert "nova_to_gcms:2020-01-07:2" in list(batches)
        audited = conn.execute(
            select(AuditLog.batch_id).where(
                AuditLog.record_key == f"N{later}", AuditLog.stream == "final_decisions"
            )
        ).scalars()
        assert list(audited) == ["nova_to_gcms:2020-01-09"]


def test_a_correction_typed_with_an_older_time_still_wins(
    world: Settings, connectors: Connectors
) -> None:
    """The load compares commit order (epochs), not the time a clerk typed."""
    _, decision_id = type_claim(connectors, 5, _typed_in(_night(2)))
    _run(world, 0, 1, 2)
    with connectors.nova.begin() as conn:
        conn.execute(
            update(nova.Decision)
            .where(nova.Decision.decision_id == decision_id)
            .values(outcome_code="ACC", updated_at=_typed_in(_night(1)))
        )
    _run(world, 3)
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}")["outcome"] == "RPD-POS"


def test_a_batch_recorded_by_a_killed_run_is_applied_by_the_next_run(
    world: Settings, connectors: Connectors
) -> None:
    _, decision_id = type_claim(connectors, 6, _typed_in(_night(1)))
    _run(world, 0)
    connectors.dispose()
    child = multiprocessing.get_context("fork").Process(
        target=_run_with_fault, args=(world, _night(1), "before_commit")
    )
    child.start()
    child.join(120)
    assert child.exitcode == -9  # SIGKILL at the fault point
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}") is None
    _run(world, 2)  # another night's run finds night 1's batch unapplied, and applies it
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}") is not None
    with connectors.control.connect() as conn:
        statuses = {
            night: status
            for night, status in conn.execute(
                select(SyncRun.night, SyncRun.status).where(SyncRun.interface == "nova_to_gcms")
            )
        }
    assert statuses[_night(1)] == "abandoned"


def _run_with_fault(settings: Settings, night: dt.date, point: str) -> None:
    os.environ["CASESYNC_FAULT"] = point
    run_night(settings, night, interface="nova_to_gcms")


def test_a_world_extended_by_simulate_equals_one_seeded_at_once(
    module_world: Callable[..., Settings],
) -> None:
    """Seed 4 days and run them, simulate 2 more and run them: the same as seeding 6."""
    stepped, whole = module_world(), module_world()
    _seed(stepped, days=4)
    _run(stepped, 0, 1, 2, 3)
    simulate(stepped, 2)
    _run(stepped, 4, 5)
    _seed(whole, days=6)
    _run(whole, 0, 1, 2, 3, 4, 5)
    connectors = Connectors.from_settings(stepped)
    try:
        assert _lag(connectors, _night(5)) == {}
    finally:
        connectors.dispose()
    assert system_digests(stepped) == system_digests(whole)


def test_a_failed_check_blocks_the_run_and_is_not_retried(
    world: Settings, connectors: Connectors
) -> None:
    from casesync.dag_support import DEFAULT_ARGS
    from schemas.errors import RunInProgress

    _run(world, 0)
    for number in range(30):  # a clerk's batch of decisions with an outcome NOVA never uses
        _, decision_id = type_claim(connectors, 100 + number, _typed_in(_night(1)))
        with connectors.nova.begin() as conn:
            conn.execute(
                update(nova.Decision)
                .where(nova.Decision.decision_id == decision_id)
                .values(outcome_code="ZZZ")
            )
    with pytest.raises(PipelineCheckFailed, match="quarantine_share"):
        run_night(world, _night(1), interface="nova_to_gcms", check=True)
    with connectors.control.connect() as conn:
        status = conn.execute(
            select(SyncRun.status).where(SyncRun.night == _night(1)).order_by(SyncRun.run_id)
        ).scalars()
        assert list(status) == ["blocked"]
        kept = conn.execute(select(func.count()).select_from(Quarantine)).scalar()
    assert kept == 30
    policy = DEFAULT_ARGS["retry_policy"]
    failed = PipelineCheckFailed("nova_to_gcms night 2020-01-07", {"quarantine_share": "30"})
    assert policy.evaluate(failed, 1, 3).action.value == "fail"
    assert policy.evaluate(RunInProgress("busy"), 1, 3).action.value != "fail"


def test_the_history_load_quarantines_what_it_rejects(
    world: Settings, connectors: Connectors
) -> None:
    type_claim(connectors, 7, _typed_in(_night(0)) - dt.timedelta(days=400))
    with connectors.nova.begin() as conn:
        conn.execute(
            update(nova.Decision)
            .where(nova.Decision.decision_id == 9_000_007)
            .values(outcome_code="ZZZ")
        )
    with connectors.control.begin() as conn:  # load the history again, as a fresh world would
        conn.execute(delete(reconcile.control.CaptureMark))
    transfer.load_history(connectors, NOVA_TO_GCMS, night_interval(START, NOVA_TO_GCMS.cutoff)[0])
    with connectors.control.connect() as conn:
        kept = conn.execute(
            select(Quarantine.batch_id, Quarantine.record_key, Quarantine.rule)
        ).all()
    assert ("nova_to_gcms:history", "N9000007", "unknown_code:outcome_code") in kept
    assert _gcms_row(connectors, gcms.IrbProceeding, "TB9-90007") is not None


def test_a_replay_that_restores_a_record_is_audited(
    world: Settings, connectors: Connectors
) -> None:
    _, decision_id = type_claim(connectors, 8, _typed_in(_night(1)))
    _run(world, 0, 1)
    with connectors.gcms.begin() as conn:  # someone edits the feed's row by hand
        conn.execute(
            update(gcms.IrbDecision)
            .where(gcms.IrbDecision.decision_ref == f"N{decision_id}")
            .values(outcome="RPD-POS")
        )
    (result,) = run_night(world, _night(1), interface="nova_to_gcms", replay=True)
    assert result.total("updated") == 1
    assert _gcms_row(connectors, gcms.IrbDecision, f"N{decision_id}")["outcome"] == "RPD-NEG"
    with connectors.control.connect() as conn:
        rows = conn.execute(
            select(AuditLog.action, SyncRun.kind)
            .join(SyncRun, SyncRun.run_id == AuditLog.run_id)
            .where(AuditLog.record_key == f"N{decision_id}", AuditLog.stream == "final_decisions")
            .order_by(AuditLog.audit_id)
        ).all()
    assert [tuple(r) for r in rows] == [("inserted", "run"), ("updated", "replay")]


def test_a_literal_percent_reaches_the_database_once(connectors: Connectors) -> None:
    from sqlalchemy import literal

    with connectors.nova.connect() as conn:
        _, rows = arrow_io.fetch_raw(conn, select(literal("5%").label("share")))
        _, like = arrow_io.fetch_raw(
            conn, select(nova.CaseFile.file_number).where(nova.CaseFile.file_number.like("T%"))
        )
        expected = conn.execute(
            select(func.count()).where(nova.CaseFile.file_number.like("T%"))
        ).scalar_one()
    assert rows == [("5%",)]
    assert len(like) == expected > 0


def test_a_read_does_not_wait_for_a_writer(connectors: Connectors) -> None:
    """A read sees its snapshot at once while another transaction holds the write lock."""
    writer = connectors.nova.engine.connect()
    writer = writer.execution_options(casesync_writes=True)
    transaction = writer.begin()
    writer.execute(update(nova.Party).where(nova.Party.party_id < 5).values(family_name="Roy"))
    took: list[float] = []

    def read() -> None:
        started = time.perf_counter()
        with connectors.nova.connect() as conn:
            conn.execute(select(func.count()).select_from(nova.Party)).scalar()
        took.append(time.perf_counter() - started)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(20)
    transaction.rollback()
    writer.close()
    assert took and took[0] < 5


def test_an_airflow_connection_error_is_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an undefined connection falls back to the settings; any other error propagates."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from casesync import jobs

    monkeypatch.setenv("AIRFLOW_HOME", "/nonexistent")

    def missing(conn_id: str) -> Any:
        raise AirflowNotFoundException(conn_id)

    def down(conn_id: str) -> Any:
        raise ConnectionError("the API server did not answer")

    monkeypatch.setattr(Connection, "get", missing)
    assert jobs._connection_url("gcms_db") is None
    monkeypatch.setattr(Connection, "get", down)
    with pytest.raises(ConnectionError):
        jobs._connection_url("gcms_db")


def test_two_way_mode_runs_a_night_of_all_four_interfaces(
    module_world: Callable[..., Settings],
) -> None:
    """Two_way runs NOVA->GCMS, NCMS->GCMS, GCMS->NCMS, GCMS->NOVA; another mode is refused."""
    world = module_world(interop_mode="two_way")
    options = parse_options(
        files=60, days=2, start=START.isoformat(), defect_rate=0.0, seed=5, mode="two_way"
    )
    seed(world, options)
    done = invoke(world, "sync", "--night", _night(0).isoformat())
    assert done.exit_code == 0, done.output
    connectors = Connectors.from_settings(world)
    try:
        with connectors.control.connect() as conn:
            runs = conn.execute(select(SyncRun.interface, SyncRun.status).order_by(SyncRun.run_id))
            assert list(runs) == [
                ("nova_to_gcms", "succeeded"),
                ("ncms_to_gcms", "succeeded"),
                ("gcms_to_ncms", "succeeded"),
                ("gcms_to_nova", "succeeded"),
            ]
        with connectors.gcms.connect() as conn:
            assert conn.execute(select(func.count()).select_from(gcms.Warrant)).scalar_one() > 0
    finally:
        connectors.dispose()
    from pydantic import ValidationError

    from casesync.settings import Settings as Configured

    with pytest.raises(ValidationError, match="'one_way' or 'two_way'"):
        Configured(home=world.home, interop_mode="three_way")  # type: ignore[arg-type]


def test_a_night_after_the_world_is_refused(world: Settings) -> None:
    from casesync.errors import BadInput

    with pytest.raises(BadInput, match="after the world's last simulated day"):
        run_night(world, _night(DAYS))


def test_a_rule_query_with_a_literal_percent_matches_it_once(connectors: Connectors) -> None:
    """GX runs a rule's SQL through sa.text(): the % of a literal must reach the driver once."""
    from sqlalchemy import literal, text

    from expectations.gx import _render

    engine = connectors.nova.engine
    query = select(literal("5%").label("share")).where(literal("5%") == "5%")
    with engine.connect() as conn:
        rows = conn.execute(text(_render(engine.dialect, query))).all()
    assert rows == [("5%",)]


def test_every_stream_of_a_night_is_read_from_one_snapshot(
    world: Settings, connectors: Connectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change committed between two streams' reads is in neither (the next run carries it)."""
    from sqlalchemy import event

    engine = connectors.nova.engine
    parties = select(nova.Party.party_id)
    commits: list[int] = []

    def commit_elsewhere() -> None:
        if commits:
            return
        commits.append(1)
        other = Connectors.from_settings(world)
        try:
            type_claim(other, 77, _typed_in(_night(1)))
        finally:
            other.dispose()

    if engine.dialect.name == "sqlite":
        real = engine.raw_connection

        class Driver:
            def __init__(self) -> None:
                self._connection = real()

            def execute(self, sql: str, *args: Any) -> Any:
                result = self._connection.execute(sql, *args)
                if sql.startswith("CREATE TABLE"):
                    commit_elsewhere()
                return result

            def __getattr__(self, name: str) -> Any:
                return getattr(self._connection, name)

        monkeypatch.setattr(engine, "raw_connection", Driver)
    else:
        event.listen(engine, "after_cursor_execute", lambda *_: commit_elsewhere())
    first, second = arrow_io.read_snapshot(engine, [(parties, {}), (parties, {})])
    assert commits == [1]
    assert first.counted == second.counted
    with connectors.nova.connect() as conn:
        assert len(conn.execute(parties).all()) == first.counted + 1
