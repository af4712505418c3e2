"""CBSA officers typing into NCMS: cases, impediments, warrants, detentions, reviews, notes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from schemas.codes import (
    GROUND_BY_CODE,
    Impediment,
    Inventory,
    OrderType,
    Priority,
    possible_order_types,
)
from seed.defects import Candidate, blank, malformed_uci, one_of, transposed_uci
from seed.defects import DefectClass as D

if TYPE_CHECKING:
    import random

    from seed.context import Day
    from seed.world import Case, Detention, Person

_BAD_WARRANT_TYPES = ["RMV", "ARR", "WAR", "R"]


def removal_case(day: Day, case: Case, person: Person, rng: random.Random) -> None:
    """Open the NCMS case for a person reported under s.44."""
    wrong_priority = (
        Priority.OTHER if GROUND_BY_CODE[case.ground].serious else Priority.SERIOUS_INADMISSIBILITY
    )
    day.ledger.enter(
        "ncms",
        "removal_case",
        case_row(case, person),
        at=day.moment(rng, late=True),
        by=case.officer or day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=[
            Candidate(D.MALFORMED_UCI, "uci", malformed_uci(person.uci)),
            Candidate(D.ORPHAN_REFERENCE, "uci", transposed_uci(person.uci, day.world.known_ucis)),
            Candidate(D.PRIORITY_INCONSISTENT, "priority", one_of([wrong_priority.value])),
            Candidate(D.MISSING_MANDATORY, rng.choice(["subject_surname", "office_code"]), blank()),
        ],
    )


def case_row(case: Case, person: Person) -> dict[str, Any]:
    return {
        "case_no": case.case_no,
        "uci": person.uci,
        "subject_surname": person.surname,
        "subject_given_name": person.given_name,
        "birth_on": person.birth_on,
        "citizenship": person.citizenship,
        "gcms_order_id": case.order_id,
        "irpa_ground": case.ground,
        "order_type": case.order_type,
        "order_made_on": case.made_on,
        "is_failed_claimant": case.failed_claimant,
        "is_irregular_migrant": person.irregular,
        "inventory": case.inventory,
        "priority": case.priority,
        "office_code": case.office,
        "officer_id": case.officer,
        "case_status": case.status,
        "opened_on": case.opened_on,
        "last_review_on": None,
        "removed_on": None,
        "removal_confirmation": None,
        "closed_on": None,
    }


def update_case(
    day: Day,
    case: Case,
    fields: dict[str, Any],
    rng: random.Random,
    *,
    candidates: list[Candidate] | None = None,
) -> None:
    """An officer updates the case (inventory, priority, order, status)."""
    day.ledger.amend(
        "ncms", "removal_case", case.case_no, fields, at=day.moment(rng, late=True),
        rng=rng if candidates else None, candidates=candidates,
    )  # fmt: skip


def order_typed(day: Day, case: Case, order_type: str, rng: random.Random) -> None:
    """The officer copies the GCMS order onto the case (its number, type and date)."""
    outside_chart = sorted(t.value for t in OrderType if t not in possible_order_types(case.ground))
    update_case(
        day, case,
        {"gcms_order_id": case.order_id, "order_type": order_type, "order_made_on": case.made_on},
        rng,
        candidates=[Candidate(D.NCMS_ORDER_TYPE, "order_type", one_of(outside_chart))]
        if outside_chart
        else [],
    )  # fmt: skip


#: What an officer leaves untyped when a case ends, by the error it makes.
_LEFT_AS_IS = {
    D.OPEN_CASE_CLOSED_INVENTORY: ("case_status",),
    D.OPEN_CASE_WITH_CLOSING_DATE: ("case_status", "inventory"),
    D.ENDED_CASE_OPEN_INVENTORY: ("inventory",),
    D.REMOVED_CASE_WITHOUT_REMOVAL_DATE: ("removed_on",),
}


def end_case(
    day: Day, case: Case, fields: dict[str, Any], rng: random.Random, *, previous: dict[str, Any]
) -> None:
    """The case ends (removed or closed): status, inventory and dates typed together.

    The officer may leave part of it untyped: the status still OPEN, the case
    still in its working inventory, no removal date. `previous` holds what
    NCMS showed before (the values a field left untyped keeps).
    """
    classes = [D.OPEN_CASE_CLOSED_INVENTORY, D.OPEN_CASE_WITH_CLOSING_DATE]
    if previous.get("inventory") not in (None, Inventory.CLOSED.value):
        classes.append(D.ENDED_CASE_OPEN_INVENTORY)
    if fields.get("removed_on") is not None:
        classes.append(D.REMOVED_CASE_WITHOUT_REMOVAL_DATE)
    if day.ledger.planted_on("ncms", "removal_case", case.case_no):
        classes = []  # one error at a time on a case: another would hide it
    planted = day.ledger.injector.choose(rng, [Candidate(c, _LEFT_AS_IS[c][0]) for c in classes])
    left = _LEFT_AS_IS.get(planted.defect_class, ()) if planted is not None else ()
    at = day.moment(rng, late=True)
    typed = {name: value for name, value in fields.items() if name not in left}
    day.ledger.amend("ncms", "removal_case", case.case_no, typed, at=at)
    if planted is not None and planted.field is not None:
        day.ledger.hold("ncms", "removal_case", case.case_no, *left)
        day.ledger.record(
            "ncms", "removal_case", case.case_no, planted,
            previous.get(planted.field), fields.get(planted.field), at,
        )  # fmt: skip


def impediment(day: Day, case: Case, code: str, rng: random.Random) -> None:
    """Record an impediment to removal on a case.

    Errors it may carry: a TSR typed on a case inadmissible on s.34-37 (whom a
    TSR does not protect), or the case left removal-ready while the
    impediment is never worked off (its end never typed).
    """
    if code in case.impediments:
        return
    impediment_id = day.world.numbering.next("ncms:impediment")
    case.impediments[code] = impediment_id
    candidates = [Candidate(D.MISSING_MANDATORY, "started_on", blank())]
    if case.serious and code != Impediment.TSR.value:
        candidates.append(
            Candidate(D.TSR_IMPEDIMENT_SERIOUS_GROUND, "impediment_code", one_of(["TSR"]))
        )
    if case.inventory == Inventory.READY and case.status == "OPEN":
        candidates.append(Candidate(D.READY_WITH_OPEN_IMPEDIMENT, None))
    at = day.moment(rng)
    planted = day.ledger.enter(
        "ncms",
        "case_impediment",
        {
            "impediment_id": impediment_id,
            "case_no": case.case_no,
            "impediment_code": code,
            "started_on": day.date,
            "ended_on": None,
        },
        at=at,
        by=case.officer or day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=candidates,
    )
    if planted is not None and planted.defect_class == D.READY_WITH_OPEN_IMPEDIMENT:
        day.ledger.hold("ncms", "removal_case", case.case_no, "inventory")
        day.ledger.hold("ncms", "case_impediment", impediment_id, "ended_on")
        day.ledger.record(
            "ncms", "removal_case", case.case_no, planted, Inventory.READY.value, None, at,
            field="inventory",
        )  # fmt: skip


def end_impediment(day: Day, case: Case, code: str, rng: random.Random) -> None:
    """The impediment ends. Its end may never be typed when it was the case's last one:
    the case then goes removal-ready in NCMS with the impediment still open."""
    impediment_id = case.impediments.pop(code, None)
    if impediment_id is None:
        return
    candidates = []
    if not case.impediments and not day.ledger.planted_on("ncms", "removal_case", case.case_no):
        candidates.append(Candidate(D.READY_WITH_OPEN_IMPEDIMENT, None))
    planted = day.ledger.injector.choose(rng, candidates) if candidates else None
    if planted is not None:
        day.ledger.hold("ncms", "case_impediment", impediment_id, "ended_on")
        day.world.unended[case.case_no] = impediment_id  # shows once the case is ready
        return
    day.ledger.amend(
        "ncms", "case_impediment", impediment_id, {"ended_on": day.date}, at=day.moment(rng)
    )


def ready_over_open_impediment(day: Day, case: Case, rng: random.Random) -> None:
    """The case was moved to removal-ready: an impediment whose end was never typed shows now."""
    if day.world.unended.pop(case.case_no, None) is None:
        return
    at = day.moment(rng)
    day.ledger.hold("ncms", "removal_case", case.case_no, "inventory")
    planted = Candidate(D.READY_WITH_OPEN_IMPEDIMENT, "inventory")
    day.ledger.record(
        "ncms", "removal_case", case.case_no, planted, Inventory.READY.value, "impediment ended", at
    )


def warrant(day: Day, case: Case, warrant_no: str, warrant_type: str, rng: random.Random) -> None:
    day.ledger.enter(
        "ncms",
        "warrant",
        {
            "warrant_no": warrant_no,
            "case_no": case.case_no,
            "warrant_type": warrant_type,
            "issued_on": day.date,
            "executed_on": None,
            "cancelled_on": None,
            "cancellation_reason": None,
        },
        at=day.moment(rng),
        by=case.officer or day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=[
            Candidate(D.UNKNOWN_CODE, "warrant_type", one_of(_BAD_WARRANT_TYPES)),
            Candidate(D.MISSING_MANDATORY, "issued_on", blank()),
        ],
    )


def detention(
    day: Day, case: Case | None, person: Person, det: Detention, rng: random.Random
) -> None:
    day.ledger.enter(
        "ncms",
        "detention",
        {
            "detention_id": det.detention_id,
            "case_no": case.case_no if case else None,
            "uci": person.uci,
            "arrest_reason": det.reason,
            "arrested_at": det.arrested_at,
            "facility_type": det.facility,
            "released_at": None,
            "release_condition": None,
        },
        at=max(det.arrested_at, day.moment(rng)),
        by=(case.officer if case else None) or day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=[
            Candidate(D.MISSING_MANDATORY, rng.choice(["facility_type", "arrest_reason"]), blank())
        ],
    )


def detention_review(
    day: Day,
    det: Detention,
    due_at: dt.datetime,
    held_at: dt.datetime,
    outcome: str,
    rng: random.Random,
) -> None:
    """An ID detention review, as the hearings officer records it."""
    review_id = day.world.numbering.next("ncms:review")

    def overdue(r: random.Random) -> dt.datetime:
        return due_at + dt.timedelta(hours=r.randint(6, 96))

    def due_late(r: random.Random) -> dt.datetime:  # later than s.57 allows
        return due_at + dt.timedelta(days=r.randint(9, 20))

    def before_arrest(r: random.Random) -> dt.datetime:
        return det.arrested_at - dt.timedelta(hours=r.randint(2, 72))

    day.ledger.enter(
        "ncms",
        "detention_review",
        {
            "review_id": review_id,
            "detention_id": det.detention_id,
            "review_seq": det.review_seq,
            "due_at": due_at,
            "held_at": held_at,
            "outcome": outcome,
        },
        at=max(held_at, day.moment(rng, late=True)),
        by=day.clerk(rng, "CBSA-HO"),
        rng=rng,
        candidates=[
            Candidate(D.DETENTION_REVIEW_OVERDUE, "held_at", overdue),
            Candidate(D.DATE_OUT_OF_ORDER, "held_at", before_arrest),
            Candidate(D.REVIEW_DUE_LATE, "due_at", due_late),
        ],
    )


def simple(
    day: Day,
    table: str,
    row: dict[str, Any],
    rng: random.Random,
    *,
    by: str,
    candidates: list[Candidate] | None = None,
) -> None:
    """Type a row into one of NCMS's simpler tables (interviews, travel-document requests)."""
    day.ledger.enter(
        "ncms", table, row, at=day.moment(rng), by=by, rng=rng,
        candidates=candidates if candidates is not None else [],
    )  # fmt: skip


def activity(day: Day, case: Case, activity_type: str, note: str, rng: random.Random) -> None:
    """A note on the file (system-assisted; not a defect opportunity)."""
    day.ledger.enter(
        "ncms",
        "case_activity",
        {
            "activity_id": day.world.numbering.next("ncms:activity"),
            "case_no": case.case_no,
            "activity_on": day.date,
            "activity_type": activity_type,
            "officer_id": case.officer,
            "note": note,
        },
        at=day.moment(rng),
        by=case.officer or "NCMS",
    )
