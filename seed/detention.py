"""Arrests, detentions and their reviews (s.55-57).

Arrests happen at the reference's 2020 rate; reasons are drawn by quota so a
year's arrests match Table 3. A detention ends within 48 hours for about half
of the people; the rest are reviewed by the ID at 48 hours, 7 days, then every
30 days, until release or removal.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from schemas.calendar import utc_to_local
from schemas.codes import (
    DETENTION_FIRST_REVIEW_HOURS,
    DETENTION_LATER_REVIEW_DAYS,
    DETENTION_SECOND_REVIEW_DAYS,
    ArrestReason,
    DetentionReviewOutcome,
    Division,
    Proceeding,
    WarrantType,
)
from seed import enforcement, intake, removals, type_gcms, type_ncms, type_nova
from seed.params import ARRESTS_BY_REASON
from seed.quota import QuotaSampler
from seed.world import Case, Detention

if TYPE_CHECKING:
    import random

    from seed.context import Day

_POOL_FOR_REASON = {
    ArrestReason.REMOVAL: "wanted",
    ArrestReason.MD_REVIEW: "md_pending",
    ArrestReason.ADMISSIBILITY_HEARING: "id_pending",
}


def daily_arrests(day: Day) -> None:
    """Today's arrests under IRPA, reasons drawn by quota."""
    world = day.world
    rng = day.rng("arrests")
    sampler = world.samplers.setdefault("arrest_reason", QuotaSampler(dict(ARRESTS_BY_REASON)))
    expected = sum(ARRESTS_BY_REASON.values()) * day.scale / 365.0
    for _ in range(intake.poisson(rng, expected)):
        for reason in sampler.ranked():
            if arrest(day, reason, rng):
                sampler.take(reason)
                break


def arrest(day: Day, reason: ArrestReason, rng: random.Random) -> bool:
    """Arrest someone for `reason`; False when nobody fits it today."""
    world = day.world
    case: Case | None = None
    pool = _POOL_FOR_REASON.get(reason)
    if pool is not None:
        case_no = world.pool_pick(pool, rng)
        if case_no is None and reason is ArrestReason.REMOVAL:
            case_no = world.pool_pick(f"ready:{rng.choice(['P2', 'P3', 'P1-SI'])}", rng)
        if case_no is None:
            return False
        case = world.cases[case_no]
        if case.detention is not None or case.status != "OPEN":
            return False
        person = world.person_of(case)
    else:  # identity or examination: someone at a port or inland, not yet reported
        person = intake.new_person(
            day, rng, claimant=rng.random() < 0.5, office=intake.pick_office(rng)
        )
        type_gcms.client(day, person, rng)
    world.count("arrests", reason.value)
    arrested_at = day.moment(rng)
    detention = Detention(
        detention_id=world.numbering.next("ncms:detention"),
        reason=reason.value,
        arrested_at=arrested_at,
        facility=intake.weighted(rng, day.params.facilities),
    )
    hours = _detention_hours(rng, day.params.released_within_48h)
    detention.release_at = arrested_at + dt.timedelta(hours=hours)
    detention.next_review_due = arrested_at + dt.timedelta(hours=DETENTION_FIRST_REVIEW_HOURS)
    type_ncms.detention(day, case, person, detention, rng)
    if case is not None:
        case.detention = detention
        if reason is ArrestReason.REMOVAL:
            if case.warrant is None:
                removals.issue_warrant(day, case, WarrantType.REMOVAL, rng)
            removals.execute_warrant(day, case, rng)
            enforcement.reassess(day, case, rng)
    world.open_detentions[detention.detention_id] = (
        case.case_no if case else None,
        person.person_id,
    )
    if case is None:
        world.loose_detentions[detention.detention_id] = detention
    if hours < DETENTION_FIRST_REVIEW_HOURS:
        world.agenda.add(_local_day(detention.release_at), "release", detention.detention_id)
    else:
        world.agenda.add(
            _review_day(detention.next_review_due), "detention_review", detention.detention_id
        )
    return True


def _detention_hours(rng: random.Random, within_48h: float) -> float:
    """Half leave within 48 hours; the rest: median about 8 days, a long tail past 99 days."""
    if rng.random() < within_48h:
        return rng.uniform(3.0, 46.0)
    days = math.exp(rng.gauss(math.log(8.0), 1.5))
    return 48.0 + min(days, 400.0) * 24.0


def _local_day(moment: dt.datetime) -> dt.date:
    return utc_to_local(moment).date()


def _review_day(due: dt.datetime) -> dt.date:
    """Reviews are held on the last business-hours day before they fall due."""
    local = utc_to_local(due)
    return local.date() if local.hour >= 9 else local.date() - dt.timedelta(days=1)


def review(day: Day, detention_id: int) -> None:
    """The ID reviews the detention: release (with or without conditions) or continue."""
    world = day.world
    found = world.open_detentions.get(detention_id)
    if found is None:
        return
    case_no, person_id = found
    case = world.cases[case_no] if case_no else None
    detention = case.detention if case else world.loose_detentions.get(detention_id)
    if detention is None or detention.next_review_due is None:
        return
    rng = day.rng("detention_review")
    due = detention.next_review_due
    held = min(due - dt.timedelta(minutes=30), day.moment(rng))
    held = max(held, detention.arrested_at + dt.timedelta(hours=1))
    detention.review_seq += 1
    release = detention.release_at is not None and detention.release_at <= _next_due(
        detention, held
    )
    if release:
        outcome = rng.choice(
            [DetentionReviewOutcome.RELEASED_CONDITIONS] * 4
            + [DetentionReviewOutcome.RELEASED_NO_CONDITIONS]
        )
    else:
        outcome = DetentionReviewOutcome.CONTINUED
    type_ncms.detention_review(day, detention, due, held, outcome.value, rng)
    person = world.persons[person_id]
    region = intake.irb_region(case.office) if case else "T"
    if detention.id_file is None:
        detention.id_file = type_nova.case_file(
            day, person, Proceeding.DETENTION_REVIEW, region, day.date, rng
        )
    type_nova.decision(
        day, detention.id_file, Division.ID, outcome.value, day.date, rng, region, final=False
    )
    if release:
        conditions = outcome != DetentionReviewOutcome.RELEASED_NO_CONDITIONS
        release_now(day, detention_id, rng, at=held + dt.timedelta(hours=1), conditions=conditions)
        return
    detention.next_review_due = _next_due(detention, held)
    world.agenda.add(_review_day(detention.next_review_due), "detention_review", detention_id)


def _next_due(detention: Detention, held: dt.datetime) -> dt.datetime:
    days = (
        DETENTION_SECOND_REVIEW_DAYS if detention.review_seq == 1 else DETENTION_LATER_REVIEW_DAYS
    )
    return held + dt.timedelta(days=days)


def release(day: Day, detention_id: int, *, removed: bool = False) -> None:
    """The detention ends: CBSA releases the person within 48 hours, or removes them."""
    world = day.world
    rng = day.rng("release")
    found = world.open_detentions.get(detention_id)
    if found is None:
        return
    case_no, _ = found
    detention = (
        world.cases[case_no].detention if case_no else world.loose_detentions.get(detention_id)
    )
    at = day.moment(rng, late=True)
    if not removed and detention is not None and detention.release_at is not None:
        at = max(detention.arrested_at + dt.timedelta(hours=1), detention.release_at)
    release_now(day, detention_id, rng, at=at, conditions=not removed, removed=removed)


def release_now(
    day: Day, detention_id: int, rng: random.Random, *, at: dt.datetime, conditions: bool,
    removed: bool = False,
) -> None:  # fmt: skip
    """Record the end of a detention at `at` (with an alternative to detention, if any)."""
    world = day.world
    found = world.open_detentions.pop(detention_id, None)
    if found is None:
        return
    case_no, _ = found
    case = world.cases[case_no] if case_no else None
    world.loose_detentions.pop(detention_id, None)
    alternative = (
        rng.choice(["COND", "DEPOSIT", "VRP", "IPR", "CCMS", "EM"]) if conditions else None
    )
    day.ledger.amend(
        "ncms", "detention", detention_id,
        {"released_at": at, "release_condition": alternative},
        at=max(at, day.moment(rng, late=True)),
    )  # fmt: skip
    if case is not None:
        case.detention = None
        if not removed:
            enforcement.reassess(day, case, rng)
