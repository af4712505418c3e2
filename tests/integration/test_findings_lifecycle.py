"""Finding life cycle: identity across nights, resolution by correction, reruns and backfills.

Also the regressions of issue 11 that live in the findings: a rule that errors
kept deleting that rule's earlier findings, and re-validating an old night
read later data (a record corrected on a later night lost the old night's
finding).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import delete, select, text, update

from casesync.validation import ValidationFailed, validate
from connectors import Connectors
from expectations.finding_cycle import Observation, derive
from schemas import metadata_for
from schemas.control import Finding, ValidationRun
from tests.integration.test_report_world import START, night, planted_world, typed_in

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

DAYS = 6
LIFECYCLE = ("rule", "system", "table_name", "record_key", "first_seen_on", "state", "resolved_on")


def _rows(settings: Settings, *where: Any) -> list[Any]:
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            return list(
                conn.execute(
                    select(Finding.__table__)
                    .where(*where)
                    .order_by(Finding.scope, Finding.finding_id)
                )
            )
    finally:
        connectors.dispose()


def _lifecycle(settings: Settings) -> set[tuple[Any, ...]]:
    """Every nightly observation with its life-cycle columns."""
    return {
        (row.scope, *(getattr(row, name) for name in LIFECYCLE))
        for row in _rows(settings, Finding.scope.like("night:%"))
    }


_night = night


@pytest.fixture(scope="module")
def world(module_world: Callable[..., Settings]) -> Settings:
    """A small world with blanks typed each night, synced through its last night."""
    settings = module_world()
    planted_world(settings, days=DAYS)
    return settings


def _fix(settings: Settings, finding: Any, when: dt.datetime) -> None:
    """Correct a column rule's record as an analyst would: a valid value, stamped `when`."""
    table = metadata_for(finding.system).tables[finding.table_name]
    (key,) = table.primary_key.columns
    record = key.type.python_type(finding.record_key)
    connectors = Connectors.from_settings(settings)
    try:
        with connectors[finding.system].begin() as conn:
            good = conn.execute(
                select(table.c[finding.field])
                .where(table.c[finding.field].is_not(None), key != record)
                .limit(1)
            ).scalar()
            conn.execute(
                update(table).where(key == record).values({finding.field: good, "updated_at": when})
            )
    finally:
        connectors.dispose()


def _correctable(settings: Settings, night: dt.date) -> Any:
    """A finding of a not-null rule on a single-key table, from `night`."""
    for row in _rows(settings, Finding.scope == f"night:{night.isoformat()}"):
        if not row.rule.endswith(".mandatory") or row.field is None:
            continue
        table = metadata_for(row.system).tables[row.table_name]
        if len(table.primary_key.columns) == 1 and "updated_at" in table.c:
            return row
    raise AssertionError(f"no correctable finding on {night}")


def test_identities_carry_across_nights_and_a_correction_resolves(world: Settings) -> None:
    for offset in range(DAYS - 1):
        validate(world, night=_night(offset), engine="sql")
    rows = _rows(world, Finding.scope.like("night:%"))
    assert rows, "the defective world has findings"
    assert {row.state for row in rows} <= {"new", "persisting", "reopened"}
    for row in rows:
        assert row.last_seen_on == row.night and row.first_seen_on <= row.night
        assert row.state != "new" or row.first_seen_on == row.night

    target = _correctable(world, _night(DAYS - 3))
    last = _night(DAYS - 1)
    _fix(world, target, typed_in(DAYS - 1, minutes=30))
    validate(world, night=last, engine="sql")
    (after,) = _rows(world, Finding.finding_id == target.finding_id)
    assert after.resolved_on == last
    assert not _rows(
        world,
        Finding.scope == f"night:{last.isoformat()}",
        Finding.rule == target.rule,
        Finding.record_key == target.record_key,
    )
    # A record that did not change is not examined by the night: its finding stays open.
    untouched = [
        r
        for r in _rows(world, Finding.scope == f"night:{_night(DAYS - 3).isoformat()}")
        if r.finding_id != target.finding_id
    ]
    assert untouched and all(r.resolved_on is None for r in untouched)


def _same(row: Any) -> list[Any]:
    return [
        Finding.rule == row.rule,
        Finding.table_name == row.table_name,
        Finding.record_key == row.record_key,
    ]


def _blank(settings: Settings, finding: Any, when: dt.datetime) -> None:
    table = metadata_for(finding.system).tables[finding.table_name]
    (key,) = table.primary_key.columns
    connectors = Connectors.from_settings(settings)
    try:
        with connectors[finding.system].begin() as conn:
            conn.execute(
                update(table)
                .where(key == key.type.python_type(finding.record_key))
                .values({finding.field: None, "updated_at": when})
            )
    finally:
        connectors.dispose()


def test_a_rerun_gives_the_same_life_cycle(world: Settings) -> None:
    before = _lifecycle(world)
    validate(world, night=_night(DAYS - 1), engine="sql")
    validate(world, night=_night(DAYS - 3), engine="sql")
    assert _lifecycle(world) == before


def test_revalidating_an_old_night_keeps_what_the_night_saw(world: Settings) -> None:
    """Regression (issue 11): the old night dropped findings of records corrected later."""
    old = _night(DAYS - 3)
    corrected = [
        r for r in _rows(world, Finding.scope == f"night:{old.isoformat()}") if r.resolved_on
    ]
    assert corrected, "the first test corrected a record of this night"
    validate(world, night=old, engine="sql")
    again = {r.finding_id: r for r in _rows(world, Finding.scope == f"night:{old.isoformat()}")}
    for row in corrected:
        assert row.finding_id in again, "the old night's finding of a corrected record is kept"
        assert again[row.finding_id].resolved_on == row.resolved_on


def test_a_record_typed_wrong_again_reopens(world: Settings) -> None:
    """Typed blank again: the full validation finds it reopened, first seen when it first failed."""
    target = next(
        r for r in _rows(world, Finding.scope.like("night:%")) if r.resolved_on is not None
    )
    _blank(world, target, typed_in(DAYS - 1, minutes=40))
    validate(world, engine="sql")
    (full,) = _rows(world, Finding.scope == "full", *_same(target))
    assert (full.state, full.first_seen_on) == ("reopened", target.first_seen_on)
    # A record of an earlier night still blank: persisting in the full validation.
    other = next(
        r
        for r in _rows(world, Finding.scope == target.scope, Finding.rule == target.rule)
        if r.resolved_on is None
    )
    (again,) = _rows(world, Finding.scope == "full", *_same(other))
    assert (again.state, again.first_seen_on) == ("persisting", other.night)


def _validate_in(settings: Settings, order: list[int]) -> set[tuple[Any, ...]]:
    """Forget every finding, validate the nights in this order: the life cycle left."""
    connectors = Connectors.from_settings(settings)
    with connectors.control.begin() as conn:
        conn.execute(delete(Finding))
        conn.execute(delete(ValidationRun))
    connectors.dispose()
    for offset in order:
        validate(settings, night=_night(offset), engine="sql")
    return _lifecycle(settings)


def test_backfilled_nights_give_the_in_order_life_cycle(world: Settings) -> None:
    """Nights validated out of order (backfills) end as one in-order run over the same data."""
    in_order = _validate_in(world, list(range(DAYS)))
    assert {row[6] for row in in_order} == {"new"}  # a record fails on the night it changed
    assert _validate_in(world, list(reversed(range(DAYS)))) == in_order
    assert _validate_in(world, [2, 0, 5, 1, 4, 3]) == in_order


def test_a_rule_that_errors_keeps_its_earlier_findings(world: Settings) -> None:
    """Regression (issue 11): a rule that could not run deleted its findings of the scope."""
    scope = f"night:{_night(0).isoformat()}"
    validate(world, night=_night(0), engine="sql")
    before = _rows(world, Finding.scope == scope)
    clients = [r for r in before if r.table_name == "client"]
    cases = [r for r in before if r.table_name == "removal_case"]
    assert clients and cases
    connectors = Connectors.from_settings(world)
    with connectors.gcms.begin() as conn:
        conn.execute(text("ALTER TABLE client RENAME TO client_gone"))
    try:
        with pytest.raises(ValidationFailed, match=r"gcms\.client\.given_name\.mandatory"):
            validate(world, night=_night(0), engine="sql")
        after = {(r.rule, r.record_key): r for r in _rows(world, Finding.scope == scope)}
        for row in clients:  # the errored rules' rows, unchanged
            kept = after.get((row.rule, row.record_key))
            assert kept is not None, f"{row.rule} {row.record_key}: deleted by an errored rule"
            assert (kept.state, kept.resolved_on) == (row.state, row.resolved_on)
        assert {r.record_key for r in cases} == {
            key for (_, key), r in after.items() if r.table_name == "removal_case"
        }
    finally:
        with connectors.gcms.begin() as conn:
            conn.execute(text("ALTER TABLE client_gone RENAME TO client"))
        connectors.dispose()


def _obs(fid: int, night: int, resolved: int | None = None) -> Observation:
    return Observation(
        fid, _night(night), None, None if resolved is None else _night(resolved), "new"
    )


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ([_obs(1, 0), _obs(2, 1)], [("new", None), ("persisting", None)]),
        ([_obs(1, 0, 2), _obs(2, 3)], [("new", 2), ("reopened", None)]),
        # A backfilled observation between a row and its resolution takes the resolution.
        ([_obs(1, 0, 4), _obs(2, 2)], [("new", None), ("persisting", 4)]),
    ],
)
def test_derive_given_expect(chain: list[Observation], expected: list[tuple[str, Any]]) -> None:
    derive(chain)
    got = [
        (o.state, None if o.resolved_on is None else (o.resolved_on - START).days) for o in chain
    ]
    assert got == expected
    assert all(o.first_seen_on == chain[0].night for o in chain)
