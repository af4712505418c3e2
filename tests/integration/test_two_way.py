"""Two-way interoperability: NCMS -> GCMS and GCMS -> NOVA, field ownership, conflicts, no echo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from casesync import sync
from casesync.conflicts import list_conflicts, resolve_conflict, show_conflict
from casesync.seeding import parse_options, seed
from casesync.settings import InteropMode
from casesync.sync import run_night
from connectors import Connectors
from schemas import gcms, ncms
from schemas.calendar import night_interval
from schemas.control import AuditLog, Conflict
from schemas.ownership import OWNERSHIP, carried_fields, render_markdown, target_owned
from schemas.two_way import ALL_INTERFACES, TWO_WAY_INTERFACES
from tests.conftest import copy_world, drop_world, gcms_warrant, system_digests, update_row

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 4
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ownership.md"


@pytest.fixture(autouse=True, scope="module")
def two_way_enabled() -> Iterator[None]:
    """The mode on, whatever casesync.sync.TWO_WAY_READY says (it is on for operators too)."""
    before = sync.TWO_WAY_READY
    sync.TWO_WAY_READY = True
    yield
    sync.TWO_WAY_READY = before


def _seeded(factory: Callable[..., Settings], mode: str) -> Settings:
    settings = factory(interop_mode=mode)
    options = parse_options(
        files=120, days=DAYS, start=START.isoformat(), defect_rate=0.0, seed=5, mode=mode
    )
    seed(settings, options)
    return settings


@pytest.fixture(scope="module")
def two_way(module_world: Callable[..., Settings]) -> Settings:
    return _seeded(module_world, "two_way")


@pytest.fixture(scope="module")
def one_way(module_world: Callable[..., Settings]) -> Settings:
    return _seeded(module_world, "one_way")


@pytest.fixture
def world(two_way: Settings, tmp_path: Path, backend: str) -> Iterator[Settings]:
    """A fresh copy of the two-way world for one test."""
    copy = _copy(two_way, tmp_path / "copy", backend)
    yield copy
    drop_world(copy, backend)


def _copy(base: Settings, home: Path, backend: str) -> Settings:
    copied = copy_world(base, home, backend)
    return copied.model_copy(update={"interop_mode": base.interop_mode})


def _night(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def _typed_in(offset: int) -> dt.datetime:
    return night_interval(_night(offset))[0] + dt.timedelta(hours=6)


def _run(settings: Settings, *offsets: int) -> None:
    for offset in offsets:
        run_night(settings, _night(offset))


def _open_warrant(settings: Settings) -> tuple[str, str, str]:
    """(warrant number, its case, the case's UCI) of a warrant NCMS holds."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.ncms.connect() as conn:
            row = conn.execute(
                select(ncms.Warrant.warrant_no, ncms.Warrant.case_no, ncms.RemovalCase.uci)
                .join(ncms.RemovalCase, ncms.RemovalCase.case_no == ncms.Warrant.case_no)
                .where(ncms.Warrant.cancelled_on.is_(None), ncms.RemovalCase.uci.is_not(None))
                .order_by(ncms.Warrant.warrant_no)
            ).first()
    finally:
        connectors.dispose()
    assert row is not None and row[2] is not None
    return row[0], row[1], row[2]


def _conflicts(settings: Settings) -> set[tuple[Any, ...]]:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            rows = conn.execute(
                select(
                    Conflict.interface, Conflict.night, Conflict.target_table,
                    Conflict.record_key, Conflict.field, Conflict.incoming_value, Conflict.status,
                )
            )  # fmt: skip
            return {tuple(r) for r in rows}
    finally:
        connectors.dispose()


def _report_queue(settings: Settings, offset: int) -> set[str]:
    from casesync.report.night import conflicts

    connectors = Connectors.from_settings(settings)
    try:
        return {row["record_key"] for row in conflicts(connectors, _night(offset))}
    finally:
        connectors.dispose()


# ---------------------------------------------------------------- declarations


def test_the_ownership_matrix_covers_every_carried_field_and_its_doc_is_current() -> None:
    for interface in ALL_INTERFACES.values():
        for stream in interface.streams:
            table = OWNERSHIP[(stream.target_system, stream.target_table)]
            assert set(table.exceptions) <= set(carried_fields(stream)), stream.name
            assert table.owner in (stream.source_system, stream.target_system)
    assert DOCS.read_text() == render_markdown(list(ALL_INTERFACES.values())), (
        "docs/ownership.md is stale: python -m schemas.ownership > docs/ownership.md"
    )


def test_no_stream_reads_back_what_its_reverse_feed_wrote() -> None:
    """No echo: a stream reading a table its target's feed writes skips the feed's rows."""
    written = {
        (i.target_system, s.target_table): i.feed_user
        for i in ALL_INTERFACES.values()
        for s in i.streams
    }
    for interface in ALL_INTERFACES.values():
        for stream in interface.streams:
            for model in stream.joined:
                feed = written.get((stream.source_system, model.__tablename__))
                reverse = {
                    i.feed_user
                    for i in ALL_INTERFACES.values()
                    if i.source_system == interface.target_system
                    and i.target_system == interface.source_system
                }
                if feed is not None and feed in reverse and model is stream.joined[0]:
                    assert feed in stream.not_from, (stream.name, model.__tablename__)
    assert all(i.two_way_only for i in TWO_WAY_INTERFACES.values())


# ---------------------------------------------------------------- behaviour


def test_an_ncms_warrant_change_reaches_gcms_next_night_in_two_way_only(
    world: Settings, one_way: Settings, tmp_path: Path, backend: str
) -> None:
    legacy = _copy(one_way, tmp_path / "one_way", backend)
    try:
        for settings in (world, legacy):
            _run(settings, 0, 1)
            warrant_no, _, _ = _open_warrant(settings)
            update_row(settings, "ncms", ncms.Warrant, warrant_no,
                {"warrant_type": "EXA", "cancelled_on": _night(2), "cancellation_reason": "ERR",
                 "updated_at": _typed_in(2)},
            )  # fmt: skip
            before = gcms_warrant(settings, warrant_no)
            _run(settings, 2)
            after = gcms_warrant(settings, warrant_no)
            if settings is world:
                assert (after.warrant_type, after.cancellation_reason) == ("EXA", "ERR")
                assert after.cancelled_on == _night(2)
                assert after.updated_at == night_interval(_night(2), dt.time(2, 15))[1]
            else:
                _run(settings, 3)
                after = gcms_warrant(settings, warrant_no)
                assert before is not None and after is not None
                assert (after.warrant_type, after.cancellation_reason) == (
                    before.warrant_type, before.cancellation_reason,
                )  # fmt: skip
                assert after.cancellation_reason != "ERR"
    finally:
        drop_world(legacy, backend)


def test_an_ownership_violation_is_queued_not_applied_and_its_resolution_applies_next_night(
    world: Settings,
) -> None:
    _run(world, 0, 1)
    warrant_no, case_no, uci = _open_warrant(world)
    wrong = "9999-0001"
    update_row(world, "ncms", ncms.RemovalCase, case_no, {"uci": wrong, "updated_at": _typed_in(2)})
    update_row(
        world, "ncms", ncms.Warrant, warrant_no, {"warrant_type": "HRG", "updated_at": _typed_in(2)}
    )
    _run(world, 2)
    warrant = gcms_warrant(world, warrant_no)
    assert warrant.uci == uci  # GCMS owns the UCI: NCMS's change is held
    assert warrant.warrant_type == "HRG"  # NCMS owns the type: applied
    queued = [c for c in list_conflicts(world) if c["record_key"] == warrant_no]
    assert [(c["field"], c["kind"], c["owner_system"], c["changed_by_system"]) for c in queued] == [
        ("uci", "non_owner_change", "gcms", "ncms")
    ]
    detail = show_conflict(world, queued[0]["conflict_id"])
    assert (detail["old_value"], detail["owner_value"], detail["incoming_value"]) == (
        uci, uci, wrong,
    )  # fmt: skip
    assert detail["incoming_run_id"] is not None and detail["incoming_batch_id"]
    assert detail["incoming_written_by"] == "ncms:FEED:NCMS"
    assert warrant_no in _report_queue(world, 2)  # the analysts' report shows it
    _run(world, 2)  # a rerun queues nothing new and still holds the field
    assert gcms_warrant(world, warrant_no).uci == uci
    assert len([c for c in list_conflicts(world) if c["record_key"] == warrant_no]) == 1

    resolved = resolve_conflict(
        world, detail["conflict_id"], "incoming", note="UCI corrected at IRCC", by="analyst-7"
    )
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "analyst-7")
    assert gcms_warrant(world, warrant_no).uci == uci  # applied by the next night, not now
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).uci == wrong
    applied = show_conflict(world, detail["conflict_id"])
    assert applied["status"] == "applied" and applied["applied_run_id"] is not None
    assert warrant_no not in _report_queue(world, 3)
    connectors = Connectors.from_settings(world)
    try:
        with connectors.control.connect() as conn:
            audited = conn.execute(
                select(func.count()).where(
                    AuditLog.record_key == warrant_no, AuditLog.action == "resolved"
                )
            ).scalar()
        assert audited == 1
    finally:
        connectors.dispose()
    digests = system_digests(world)
    _run(world, 3)  # applied once
    assert system_digests(world) == digests


def test_a_conflict_resolution_with_a_bad_value_is_refused(world: Settings) -> None:
    from casesync.errors import BadInput

    _run(world, 0, 1)
    warrant_no, case_no, _ = _open_warrant(world)
    update_row(
        world, "ncms", ncms.RemovalCase, case_no, {"uci": "9999-0002", "updated_at": _typed_in(2)}
    )
    _run(world, 2)
    queued = [c for c in list_conflicts(world) if c["record_key"] == warrant_no]
    with pytest.raises(BadInput, match="longer than"):
        resolve_conflict(world, queued[0]["conflict_id"], "x" * 40)
    resolve_conflict(world, queued[0]["conflict_id"], "owner")
    with pytest.raises(BadInput, match="is resolved"):
        resolve_conflict(world, queued[0]["conflict_id"], "incoming")
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).uci != "9999-0002"


def test_a_change_never_echoes(world: Settings) -> None:
    """NCMS -> GCMS leaves NCMS as it was; the GCMS feed rows are never carried back."""
    _run(world, 0, 1)
    warrant_no, _, _ = _open_warrant(world)
    update_row(
        world, "ncms", ncms.Warrant, warrant_no, {"warrant_type": "MDR", "updated_at": _typed_in(2)}
    )
    ncms_before = system_digests(world)["ncms"]
    results = run_night(world, _night(2))
    assert gcms_warrant(world, warrant_no).warrant_type == "MDR"
    back = [r for r in results if r.interface in ("gcms_to_ncms", "gcms_to_nova")]
    assert all(r.total("inserted") + r.total("updated") == 0 for r in back), [
        r.as_dict() for r in back
    ]
    after = system_digests(world)["ncms"]
    assert {t for t in after if after[t] != ncms_before[t]} == set()
    # The next night carries what GCMS itself changed (travel documents...), never the
    # warrant back; rerunning the two nights changes nothing more.
    later = run_night(world, _night(3))
    carried = {
        key
        for r in later
        if r.interface in ("gcms_to_ncms", "gcms_to_nova")
        for stream in r.streams
        for key in stream.actions
    }
    assert warrant_no not in carried
    settled = system_digests(world)["ncms"]
    _run(world, 2, 3)
    assert system_digests(world)["ncms"] == settled
    assert _conflicts(world) == set()


def test_rerunning_or_backfilling_two_way_nights_changes_nothing(
    world: Settings, two_way: Settings, tmp_path: Path, backend: str
) -> None:
    clean = _copy(two_way, tmp_path / "clean", backend)
    try:
        for settings in (world, clean):
            warrant_no, case_no, _ = _open_warrant(settings)
            update_row(settings, "ncms", ncms.Warrant, warrant_no,
                {"warrant_type": "EXA", "updated_at": _typed_in(1)},
            )  # fmt: skip
            update_row(settings, "ncms", ncms.RemovalCase, case_no,
                {"uci": "9999-0003", "updated_at": _typed_in(1)},
            )  # fmt: skip
        _run(clean, 0, 1, 2, 3)
        _run(world, 0, 2, 3, 1, 1, 3, 2)  # out of order, backfilled, rerun
        assert system_digests(world) == system_digests(clean)
        assert {c[:6] for c in _conflicts(world)} == {c[:6] for c in _conflicts(clean)}
        assert world.interop_mode is InteropMode.TWO_WAY
    finally:
        drop_world(clean, backend)


def test_two_way_seeding_leaves_nothing_typed_behind(two_way: Settings, tmp_path: Path,
                                                     backend: str) -> None:  # fmt: skip
    """Every NCMS warrant and R240(3) departure reaches GCMS through the feed."""
    copy = _copy(two_way, tmp_path / "all", backend)
    try:
        _run(copy, *range(DAYS))
        connectors = Connectors.from_settings(copy)
        try:
            with connectors.ncms.connect() as conn:
                warrants = set(conn.execute(select(ncms.Warrant.warrant_no)).scalars())
                r240 = set(
                    conn.execute(
                        select(ncms.RemovalCase.case_no).where(
                            ncms.RemovalCase.removal_confirmation == "R240(3)"
                        )
                    ).scalars()
                )
            with connectors.gcms.connect() as conn:
                in_gcms = set(conn.execute(select(gcms.Warrant.warrant_no)).scalars())
                confirmed = set(
                    conn.execute(select(gcms.DepartureConfirmation.ncms_case_no)).scalars()
                )
        finally:
            connectors.dispose()
        assert warrants and warrants <= in_gcms
        assert r240 <= confirmed
        assert all(target_owned(s) for s in TWO_WAY_INTERFACES["ncms_to_gcms"].streams)
    finally:
        drop_world(copy, backend)


@pytest.mark.parametrize("mode", ["one_way", "two_way"])
def test_the_nightly_dag_runs_the_two_way_syncs_only_in_two_way(mode: str) -> None:
    """Parsed in a clean subprocess: the mode is read from the environment, nothing else."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, importlib.util as u;"
        "s = u.spec_from_file_location('d', 'dags/nightly_interfaces.py');"
        "m = u.module_from_spec(s); s.loader.exec_module(m);"
        "dag = m.nightly_interfaces();"
        "print(json.dumps({t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}))"
    )
    env = {**os.environ, "CASESYNC_INTEROP_MODE": mode}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    tasks = json.loads(done.stdout.strip().splitlines()[-1])
    if mode == "one_way":
        assert "sync_ncms_to_gcms" not in tasks and "sync_gcms_to_nova" not in tasks
        assert tasks["sync_gcms_to_ncms"] == ["reconcile_systems"]
    else:
        assert tasks["sync_nova_to_gcms"] == ["sync_ncms_to_gcms"]
        assert tasks["sync_ncms_to_gcms"] == ["sync_gcms_to_ncms"]
        assert tasks["sync_gcms_to_ncms"] == ["sync_gcms_to_nova"]
        assert tasks["sync_gcms_to_nova"] == ["reconcile_systems"]


def test_an_r240_departure_without_its_date_is_quarantined_not_dropped(world: Settings) -> None:
    """A case removed under R240(3) with no removal date reaches the quarantine, named."""
    from schemas.control import Quarantine

    _run(world, 0, 1)
    connectors = Connectors.from_settings(world)
    try:
        with connectors.ncms.connect() as conn:
            case_no = conn.execute(
                select(ncms.RemovalCase.case_no)
                .where(ncms.RemovalCase.case_status == "OPEN")
                .order_by(ncms.RemovalCase.case_no)
                .limit(1)
            ).scalar_one()
    finally:
        connectors.dispose()
    update_row(world, "ncms", ncms.RemovalCase, case_no,
        {"case_status": "REMOVED", "inventory": "CLOSED", "removal_confirmation": "R240(3)",
         "removed_on": None, "closed_on": _night(2), "updated_at": _typed_in(2)},
    )  # fmt: skip
    run_night(world, _night(2))
    connectors = Connectors.from_settings(world)
    try:
        with connectors.control.connect() as conn:
            held = conn.execute(
                select(Quarantine.stream, Quarantine.rule, Quarantine.payload).where(
                    Quarantine.interface == "ncms_to_gcms", Quarantine.night == _night(2)
                )
            ).all()
        with connectors.gcms.connect() as conn:
            confirmed = conn.execute(
                select(func.count()).where(gcms.DepartureConfirmation.ncms_case_no == case_no)
            ).scalar_one()
    finally:
        connectors.dispose()
    departures = [(s, r) for s, r, payload in held if case_no in payload and s == "r240_departures"]
    assert departures == [("r240_departures", "missing_mandatory:departed_on")], held
    assert confirmed == 0
