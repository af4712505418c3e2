"""Two-way: a target's own edit of a field its source owns is never overwritten silently.

Given a warrant NCMS delivered to GCMS, a GCMS clerk edits a field NCMS owns;
expect the feed to hold that field (conflict queued, the rest loads), the
resolution to apply the next night, reruns and backfills to queue nothing
more, and a value both systems agree on to raise nothing.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from casesync import sync
from casesync.conflicts import list_conflicts, resolve_conflict, show_conflict
from casesync.seeding import parse_options, seed
from casesync.sync import run_night
from connectors import Connectors
from schemas import gcms, ncms
from schemas.calendar import night_interval
from schemas.control import AuditLog, DeliveredValue
from tests.conftest import copy_world, drop_world, gcms_warrant, system_digests, update_row

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 4


@pytest.fixture(autouse=True, scope="module")
def two_way_enabled() -> Iterator[None]:
    with sync.two_way_trial():
        yield


@pytest.fixture(scope="module")
def seeded(module_world: Callable[..., Settings]) -> Settings:
    settings = module_world(interop_mode="two_way")
    options = parse_options(
        files=120, days=DAYS, start=START.isoformat(), defect_rate=0.0, seed=5, mode="two_way"
    )
    seed(settings, options)
    return settings


@pytest.fixture
def world(seeded: Settings, tmp_path: Path, backend: str) -> Iterator[Settings]:
    copy = copy_world(seeded, tmp_path / "copy", backend)
    copy = copy.model_copy(update={"interop_mode": seeded.interop_mode})
    yield copy
    drop_world(copy, backend)


def _night(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def _typed_in(offset: int, hours: int = 6) -> dt.datetime:
    return night_interval(_night(offset))[0] + dt.timedelta(hours=hours)


def _run(settings: Settings, *offsets: int) -> None:
    for offset in offsets:
        run_night(settings, _night(offset))


def _delivered_warrant(settings: Settings) -> tuple[str, Any]:
    """A warrant NCMS holds, open, that the feed delivered to GCMS; and its GCMS row."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.ncms.connect() as conn:
            numbers = list(
                conn.execute(
                    select(ncms.Warrant.warrant_no)
                    .where(ncms.Warrant.cancelled_on.is_(None), ncms.Warrant.executed_on.is_(None))
                    .order_by(ncms.Warrant.warrant_no)
                ).scalars()
            )
        with connectors.control.connect() as conn:
            delivered = set(
                conn.execute(
                    select(DeliveredValue.record_key).where(DeliveredValue.stream == "warrants")
                ).scalars()
            )
    finally:
        connectors.dispose()
    warrant_no = next(n for n in numbers if n in delivered)
    return warrant_no, gcms_warrant(settings, warrant_no)


def _queued(settings: Settings, warrant_no: str) -> list[dict[str, Any]]:
    return [
        show_conflict(settings, c["conflict_id"])
        for c in list_conflicts(settings, status="all")
        if c["record_key"] == warrant_no
    ]


def _other_type(*taken: str) -> str:
    return next(t for t in ("REM", "EXA", "HRG", "MDR") if t not in taken)


def _clerk_edits_a_delivered_warrant(world: Settings) -> tuple[str, Any, str]:
    """Nights 0 and 1 run, then a GCMS clerk changes a delivered warrant's type (NCMS's field):
    the warrant number, its GCMS row before, the clerk's type."""
    _run(world, 0, 1)
    warrant_no, before = _delivered_warrant(world)
    clerk = _other_type(before.warrant_type)
    update_row(world, "gcms", gcms.Warrant, warrant_no, {"warrant_type": clerk})
    return warrant_no, before, clerk


def test_a_gcms_edit_met_by_an_ncms_change_the_same_night_is_queued_and_resolved_next_night(
    world: Settings,
) -> None:
    _run(world, 0, 1)
    warrant_no, before = _delivered_warrant(world)
    clerk = _other_type(before.warrant_type)
    officer = _other_type(before.warrant_type, clerk)
    update_row(world, "gcms", gcms.Warrant, warrant_no, {"warrant_type": clerk})
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"warrant_type": officer, "executed_on": _night(2), "updated_at": _typed_in(2)},
    )  # fmt: skip
    _run(world, 2)
    after = gcms_warrant(world, warrant_no)
    assert after.warrant_type == clerk  # held: not overwritten by NCMS's change
    assert after.executed_on == _night(2)  # the rest of the record loads
    (conflict,) = _queued(world, warrant_no)
    assert (conflict["kind"], conflict["field"], conflict["status"]) == (
        "both_changed", "warrant_type", "open",
    )  # fmt: skip
    assert (conflict["owner_system"], conflict["changed_by_system"]) == ("ncms", "gcms")
    assert (conflict["old_value"], conflict["owner_value"], conflict["target_value"]) == (
        before.warrant_type, officer, clerk,
    )  # fmt: skip
    assert conflict["incoming_value"] == officer
    assert conflict["incoming_written_by"] == "ncms:FEED:NCMS"
    assert conflict["target_written_by"].startswith("gcms:")
    assert conflict["incoming_run_id"] is not None and conflict["incoming_batch_id"]

    _run(world, 2, 1, 2)  # a rerun and a backfill queue nothing more and still hold it
    assert gcms_warrant(world, warrant_no).warrant_type == clerk
    assert len(_queued(world, warrant_no)) == 1

    resolve_conflict(world, conflict["conflict_id"], "owner", note="NCMS is right", by="a-3")
    assert gcms_warrant(world, warrant_no).warrant_type == clerk  # not before the next night
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == officer
    applied = show_conflict(world, conflict["conflict_id"])
    assert applied["status"] == "applied" and applied["applied_run_id"] is not None
    connectors = Connectors.from_settings(world)
    try:
        with connectors.control.connect() as conn:
            audited = conn.execute(
                select(func.count()).where(
                    AuditLog.record_key == warrant_no, AuditLog.action == "resolved"
                )
            ).scalar_one()
    finally:
        connectors.dispose()
    assert audited == 1

    # NCMS's next change of the field applies: the resolved value counts as delivered
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"warrant_type": clerk, "updated_at": _typed_in(3, hours=9)},
    )  # fmt: skip
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == clerk
    assert len(_queued(world, warrant_no)) == 1
    digests = system_digests(world)
    _run(world, 3, 2, 1)
    assert system_digests(world) == digests


def test_a_gcms_edit_is_held_when_ncms_resends_the_record_for_another_field(
    world: Settings,
) -> None:
    warrant_no, before, clerk = _clerk_edits_a_delivered_warrant(world)
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"executed_on": _night(2), "updated_at": _typed_in(2)},
    )  # fmt: skip
    _run(world, 2)
    after = gcms_warrant(world, warrant_no)
    assert (after.warrant_type, after.executed_on) == (clerk, _night(2))
    (conflict,) = _queued(world, warrant_no)
    assert (conflict["kind"], conflict["old_value"], conflict["incoming_value"]) == (
        "non_owner_edit", before.warrant_type, before.warrant_type,
    )  # fmt: skip
    assert conflict["target_value"] == clerk
    resolve_conflict(world, conflict["conflict_id"], "target", note="typed from the paper file")
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == clerk
    # NCMS re-sends the record again, the field unchanged: the kept value stays, nothing queued
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"cancellation_reason": None, "updated_at": _typed_in(3, hours=9)},
    )  # fmt: skip
    _run(world, 3, 2, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == clerk
    assert [c["status"] for c in _queued(world, warrant_no)] == ["applied"]


def test_a_value_both_systems_agree_on_raises_nothing(world: Settings) -> None:
    """No echo: GCMS already holding the value NCMS sends is not a conflict."""
    _run(world, 0, 1)
    warrant_no, before = _delivered_warrant(world)
    agreed = _other_type(before.warrant_type)
    update_row(world, "gcms", gcms.Warrant, warrant_no, {"warrant_type": agreed})
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"warrant_type": agreed, "updated_at": _typed_in(2)},
    )  # fmt: skip
    _run(world, 2, 3, 2)
    assert gcms_warrant(world, warrant_no).warrant_type == agreed
    # GCMS edits back to what NCMS delivered, then NCMS changes it: applied, nothing queued
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"warrant_type": before.warrant_type, "updated_at": _typed_in(3)},
    )  # fmt: skip
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == before.warrant_type
    assert _queued(world, warrant_no) == []


def _run_with_fault(settings: Settings, night: dt.date, point: str) -> None:
    os.environ["CASESYNC_FAULT"] = point
    run_night(settings, night, interface="ncms_to_gcms")


def test_a_run_killed_after_its_audit_raises_no_conflict_when_run_again(
    world: Settings,
) -> None:
    """The delivered values are written before the target commits: the rerun still matches."""
    _run(world, 0, 1)
    warrant_no, before = _delivered_warrant(world)
    changed = _other_type(before.warrant_type)
    update_row(
        world, "ncms", ncms.Warrant, warrant_no,
        {"warrant_type": changed, "updated_at": _typed_in(2)},
    )  # fmt: skip
    child = multiprocessing.get_context("fork").Process(
        target=_run_with_fault, args=(world, _night(2), "before_commit")
    )
    child.start()
    child.join(120)
    assert child.exitcode == -9
    assert gcms_warrant(world, warrant_no).warrant_type == before.warrant_type
    _run(world, 2)
    assert gcms_warrant(world, warrant_no).warrant_type == changed
    assert _queued(world, warrant_no) == []


def test_a_gcms_edit_of_a_record_ncms_never_resends_is_queued_by_the_next_run(
    world: Settings,
) -> None:
    """The loads meet an edit only on a record re-sent: the run's sweep finds the others."""
    warrant_no, before, clerk = _clerk_edits_a_delivered_warrant(world)
    _run(world, 2)  # NCMS changes nothing of this warrant: the feed does not re-send it
    (conflict,) = _queued(world, warrant_no)
    assert (conflict["kind"], conflict["field"], conflict["status"]) == (
        "non_owner_edit", "warrant_type", "open",
    )  # fmt: skip
    assert (conflict["owner_system"], conflict["changed_by_system"]) == ("ncms", "gcms")
    assert (conflict["old_value"], conflict["owner_value"], conflict["target_value"]) == (
        before.warrant_type, before.warrant_type, clerk,
    )  # fmt: skip
    assert conflict["target_written_by"].startswith("gcms:")
    assert conflict["incoming_batch_id"]  # the batch that delivered NCMS's value
    assert gcms_warrant(world, warrant_no).warrant_type == clerk  # never overwritten silently

    _run(world, 2, 1, 3)  # reruns and a backfill queue nothing more while it is open
    assert len(_queued(world, warrant_no)) == 1
    resolve_conflict(world, conflict["conflict_id"], "owner", note="NCMS holds the warrant")
    _run(world, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == before.warrant_type
    _run(world, 3, 2)
    assert [c["status"] for c in _queued(world, warrant_no)] == ["applied"]


def test_a_kept_gcms_edit_of_a_record_never_resent_is_not_queued_again(world: Settings) -> None:
    warrant_no, before, clerk = _clerk_edits_a_delivered_warrant(world)
    _run(world, 2)
    (conflict,) = _queued(world, warrant_no)
    resolve_conflict(world, conflict["conflict_id"], "target", note="typed from the warrant")
    _run(world, 3, 2, 3)
    assert gcms_warrant(world, warrant_no).warrant_type == clerk
    assert [c["status"] for c in _queued(world, warrant_no)] == ["applied"]
    # the clerk edits it again: a new edit, a new conflict
    again = _other_type(before.warrant_type, clerk)
    update_row(world, "gcms", gcms.Warrant, warrant_no, {"warrant_type": again})
    _run(world, 3)
    queued = _queued(world, warrant_no)
    assert [(c["status"], c["target_value"]) for c in queued] == [
        ("applied", clerk), ("open", again),
    ]  # fmt: skip
