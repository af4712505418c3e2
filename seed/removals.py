"""Removals, warrants and the officers' routine work on the removal inventory.

Removals happen each day at the reference rate; their priorities are drawn by
quota so a year's removals match the fiscal-year table. Warrants are issued
when people fail to appear; wanted people surrender or are arrested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.codes import (
    DepartureMethod,
    Impediment,
    Inventory,
    OrderStatus,
    Priority,
    WarrantCancellation,
    WarrantType,
)
from seed import enforcement, type_gcms, type_ncms
from seed.defects import Candidate, one_of, shifted_date
from seed.defects import DefectClass as D
from seed.intake import poisson
from seed.params import REMOVALS_BY_PRIORITY
from seed.quota import QuotaSampler

if TYPE_CHECKING:
    import random

    from seed.context import Day
    from seed.world import Case

#: Impediments an officer can clear to bring a case to removal now.
_CLEARABLE = {Impediment.NO_TRAVEL_DOCUMENT.value, Impediment.MEDICAL.value}
_PORTS = ["YYZ Pearson", "YUL Trudeau", "YVR Vancouver", "YYC Calgary", "Lacolle", "Fort Erie"]


def daily_removals(day: Day) -> None:
    """Today's removals, priorities drawn by quota from the removal-ready inventory."""
    world = day.world
    rng = day.rng("removals")
    sampler = world.samplers.setdefault(
        "removal_priority", QuotaSampler(dict(REMOVALS_BY_PRIORITY))
    )
    expected = sum(REMOVALS_BY_PRIORITY.values()) * day.scale / 365.0
    for _ in range(poisson(rng, expected)):
        for priority in sampler.ranked():
            case = _candidate(day, priority, rng)
            if case is not None:
                sampler.take(priority)
                remove(day, case, rng)
                break


def _candidate(day: Day, priority: Priority, rng: random.Random) -> Case | None:
    world = day.world
    case_no = world.pool_pick(f"ready:{priority}", rng)
    if case_no is not None:
        return world.cases[case_no]
    # Nobody removal-ready at this priority: clear a travel-document or medical
    # impediment on an impeded case (the document arrives, the person is fit).
    for case_no in list(world.pools.get(f"impeded:{priority}", {}))[:200]:
        case = world.cases[case_no]
        if set(case.impediments) <= _CLEARABLE and not case.stays:
            if case.passport_td is not None and case.passport_td < 0:
                enforcement.td_issued(day, case_no, -case.passport_td)
            for code in list(case.impediments):
                type_ncms.end_impediment(day, case, code, rng)
            enforcement.reassess(day, case, rng)
            if case.inventory == Inventory.READY:
                return case
    return None


def remove(day: Day, case: Case, rng: random.Random) -> None:
    """The person leaves; the departure is confirmed at a port or under R240(3)."""
    world = day.world
    world.count("removals", case.priority)
    type_ncms.simple(
        day,
        "interview",
        {
            "interview_id": world.numbering.next("ncms:interview"), "case_no": case.case_no,
            "officer_id": case.officer, "held_on": day.later(-rng.randint(1, 6)),
            "interview_type": "PRE_REMOVAL", "attended": True,
        },
        rng,
        by=case.officer or "CBSA",
    )  # fmt: skip
    r240 = rng.random() < day.params.r240_share
    method = DepartureMethod.R240_3 if r240 else DepartureMethod.PORT_OF_ENTRY
    if not (r240 and day.two_way):
        _confirm_departure(day, case, method, rng)
    case.order_status = OrderStatus.ENFORCED
    type_gcms.order_update(day, case, {"status": OrderStatus.ENFORCED.value}, rng)
    if case.warrant and case.detention is None:
        leave_warrant_open(day, case, rng)
        cancel_warrant(day, case, WarrantCancellation.DEPARTED, rng)
    if case.detention is not None:
        from seed import detention

        detention_id = case.detention.detention_id
        if _step_skipped(day, case, D.REMOVED_WHILE_DETAINED, "detention", detention_id, rng,
                         "released_at", "release_condition"):  # fmt: skip
            # NCMS still shows the person detained: the case is the record to fix.
            planted = Candidate(D.REMOVED_WHILE_DETAINED, "case_status")
            day.ledger.record(
                "ncms", "removal_case", case.case_no, planted, "REMOVED", "released first",
                day.moment(rng),
            )  # fmt: skip
        detention.release(day, detention_id, removed=True)
    world.pool_remove(f"ready:{case.priority}", case.case_no)
    world.pool_remove("with_order", case.case_no)
    previous = {"case_status": case.status, "inventory": case.inventory, "removed_on": None}
    case.status = "REMOVED"
    case.inventory = Inventory.CLOSED
    if case.officer:
        world.caseload[case.officer] -= 1
    type_ncms.end_case(
        day,
        case,
        {
            "case_status": "REMOVED", "inventory": Inventory.CLOSED.value, "removed_on": day.date,
            "removal_confirmation": method.value, "closed_on": day.date,
        },
        rng,
        previous=previous,
    )  # fmt: skip


def leave_warrant_open(day: Day, case: Case, rng: random.Random) -> None:
    """The case ends; NCMS may keep its warrant open (the cancellation never typed)."""
    if case.warrant is not None and _step_skipped(
        day, case, D.ENDED_CASE_OPEN_WARRANT, "warrant", case.warrant, rng,
        "cancelled_on", "cancellation_reason", "executed_on",
    ):  # fmt: skip
        day.ledger.touch("ncms", "removal_case", case.case_no)  # it must end as typed


def _step_skipped(
    day: Day, case: Case, defect: D, table: str, key: object, rng: random.Random, *fields: str,
    shown: object = None,
) -> bool:  # fmt: skip
    """An NCMS update the officer may never type (the fields keep what NCMS shows now).

    `shown` is what the first field holds meanwhile (empty unless said).
    """
    clean = not day.ledger.planted_on("ncms", table, key)
    planted = day.ledger.injector.choose(rng, [Candidate(defect, fields[0])] if clean else [])
    if planted is None:
        return False
    day.ledger.hold("ncms", table, key, *fields)
    day.ledger.record("ncms", table, str(key), planted, shown, "typed", day.moment(rng))
    return True


def _confirm_departure(day: Day, case: Case, method: DepartureMethod, rng: random.Random) -> None:
    """GCMS records the confirmation of departure (re-keyed by CBSA for R240(3) one-way)."""
    world = day.world
    person = world.person_of(case)
    confirmation_id = world.numbering.next("gcms:departure", 9_000_000)
    candidates = [
        Candidate(D.DATE_OUT_OF_ORDER, "departed_on", shifted_date(case.made_on, -40, -2))
    ]
    if case.ended_stays:
        candidates.append(Candidate(D.REMOVAL_DURING_STAY, None))
    if case.order_id is not None:  # the order's status never set to ENFORCED
        candidates.append(Candidate(D.DEPARTURE_CONFIRMED_ORDER_NOT_ENFORCED, None))
    at = day.moment(rng, late=True)
    planted = day.ledger.enter(
        "gcms",
        "departure_confirmation",
        {
            "confirmation_id": confirmation_id, "order_id": case.order_id, "uci": person.uci,
            "departed_on": day.date, "method": method.value,
            "location": None if method == DepartureMethod.R240_3 else rng.choice(_PORTS),
            "ncms_case_no": case.case_no if method == DepartureMethod.R240_3 else None,
        },
        at=at,
        by=day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=candidates,
    )  # fmt: skip
    if planted is not None and planted.defect_class == D.REMOVAL_DURING_STAY:
        # The end of the last stay was never recorded: GCMS shows it still running.
        stay_id = case.ended_stays[-1]
        day.ledger.corrupt_later(
            "gcms", "stay_of_removal", stay_id, "ends_on", None, "recorded end", planted, at
        )
    elif planted is not None and planted.defect_class == D.DEPARTURE_CONFIRMED_ORDER_NOT_ENFORCED:
        day.ledger.hold("gcms", "removal_order", case.order_id, "status")
        day.ledger.record(
            "gcms", "departure_confirmation", str(confirmation_id), planted,
            None, "order ENFORCED", at,
        )  # fmt: skip


def daily_warrants(day: Day) -> None:
    """People who fail to appear become wanted; some wanted people surrender."""
    world = day.world
    rng = day.rng("warrants")
    for _ in range(poisson(rng, day.params.warrants_per_year * day.scale / 365.0)):
        priority = rng.choice(list(Priority))
        case_no = world.pool_pick(f"ready:{priority}", rng) or world.pool_pick(
            f"impeded:{priority}", rng
        )
        if case_no is not None:
            issue_warrant(day, world.cases[case_no], WarrantType.REMOVAL, rng)
    for _ in range(poisson(rng, day.params.warrants_per_year * 0.2 * day.scale / 365.0)):
        case_no = world.pool_pick("wanted", rng)
        if case_no is not None:
            cancel_warrant(day, world.cases[case_no], WarrantCancellation.SURRENDERED, rng)


def issue_warrant(
    day: Day, case: Case, warrant_type: WarrantType, rng: random.Random
) -> str | None:
    """A warrant for arrest (s.55), typed in NCMS and, one-way, re-keyed into GCMS.

    Not on a case NCMS still shows wanted on a warrant no longer open (a planted
    error): an open warrant would make that entry right again.
    """
    world = day.world
    if case.case_no in world.held_wanted:
        return None
    warrant_no = world.numbering.warrant()
    case.warrant = warrant_no
    type_ncms.warrant(day, case, warrant_no, warrant_type.value, rng)
    if not day.two_way:
        person = world.person_of(case)
        type_gcms.simple(
            day,
            "warrant",
            {
                "warrant_no": warrant_no, "uci": person.uci, "warrant_type": warrant_type.value,
                "issued_on": day.date, "executed_on": None, "cancelled_on": None,
                "cancellation_reason": None, "source_updated_at": None,
            },
            rng,
            agency="CBSA",
            candidates=[type_gcms.bad_warrant_type()],
        )  # fmt: skip
    enforcement.reassess(day, case, rng)
    return warrant_no


def _warrant_change(day: Day, case: Case, fields: dict[str, object], rng: random.Random) -> None:
    """A warrant executed or cancelled, in NCMS and (one-way, re-keyed) in GCMS.

    An execution may be typed with a cancellation date too; a wanted case may
    be left in the wanted inventory once its warrant is no longer open.
    """
    at = day.moment(rng, late=True)
    executed = "executed_on" in fields
    # (_step_skipped itself keeps off a case that is already wrong.)
    clean = not day.ledger.planted_on("ncms", "warrant", case.warrant)
    if case.inventory == Inventory.WANTED and clean and _step_skipped(
        day, case, D.WANTED_WITHOUT_OPEN_WARRANT, "removal_case", case.case_no, rng,
        "inventory", shown=Inventory.WANTED.value,
    ):  # fmt: skip
        day.world.held_wanted.add(case.case_no)
    cancelled_too = one_of([day.date])
    day.ledger.amend(
        "ncms", "warrant", case.warrant, dict(fields), at=at, rng=rng,
        candidates=[Candidate(D.NCMS_WARRANT_EXECUTED_AND_CANCELLED, "cancelled_on", cancelled_too)]
        if executed
        else [],
    )  # fmt: skip
    if not day.two_way:
        day.ledger.amend(
            "gcms", "warrant", case.warrant, dict(fields), at=at, rng=rng,
            candidates=[
                Candidate(D.GCMS_WARRANT_EXECUTED_AND_CANCELLED, "cancelled_on", cancelled_too)
            ]
            if executed
            else [],
        )  # fmt: skip


def cancel_warrant(
    day: Day, case: Case, reason: WarrantCancellation, rng: random.Random,
    *, reassess_case: bool = True,
) -> None:  # fmt: skip
    if case.warrant is None:
        return
    _warrant_change(day, case, {"cancelled_on": day.date, "cancellation_reason": reason.value}, rng)
    case.warrant = None
    if reassess_case:
        enforcement.reassess(day, case, rng)


def execute_warrant(day: Day, case: Case, rng: random.Random) -> None:
    if case.warrant is None:
        return
    _warrant_change(day, case, {"executed_on": day.date}, rng)
    case.warrant = None


def activity(day: Day, case_no: str) -> None:
    """An officer works the file and notes it; the next note follows in a few weeks."""
    case = day.world.cases[case_no]
    if case.status != "OPEN" or case.inventory not in (Inventory.READY, Inventory.IMPEDED):
        return
    rng = day.rng("activity")
    kind = rng.choice(["CALL", "FOLLOW_UP", "TD_FOLLOW_UP", "FILE_REVIEW", "CONTACT"])
    type_ncms.activity(day, case, kind, "file worked", rng)
    day.world.agenda.add(day.later(rng.randint(15, 60)), "activity", case_no)


def review(day: Day, case_no: str) -> None:
    """The periodic file review (yearly for criminal cases, every 3 years for failed claimants)."""
    case = day.world.cases[case_no]
    if case.status != "OPEN":
        return
    rng = day.rng("review")
    if rng.random() < day.params.review_compliance:
        type_ncms.update_case(day, case, {"last_review_on": day.date}, rng)
        type_ncms.activity(day, case, "REVIEW", "periodic file review", rng)
    years = 1 if case.serious else 3
    day.world.agenda.add(day.later(365 * years), "review", case_no)


def departure_deadline(day: Day, case_no: str) -> None:
    """A departure order unconfirmed after 30 days becomes a deportation order."""
    case = day.world.cases[case_no]
    if case.status != "OPEN" or case.order_status != OrderStatus.IN_FORCE:
        return
    rng = day.rng("departure_deadline")
    if case.stays or case.detention is not None:
        day.world.agenda.add(day.later(7), "departure_deadline", case_no)  # the clock pauses
        return
    early = None
    if case.in_force_on is not None:  # deemed a deportation order before its 30 days ran
        early = [
            Candidate(D.CONVERTED_EARLY, "deemed_deportation_on",
                      shifted_date(case.in_force_on, 5, 25))
        ]  # fmt: skip
    type_gcms.order_update(day, case, {"deemed_deportation_on": day.date}, rng, candidates=early)


def impediment_end(day: Day, case_no: str, code: str) -> None:
    case = day.world.cases[case_no]
    if case.status != "OPEN":
        return
    rng = day.rng("impediments")
    type_ncms.end_impediment(day, case, code, rng)
    enforcement.reassess(day, case, rng)


def stay_end(day: Day, case_no: str, stay_type: str) -> None:
    case = day.world.cases[case_no]
    if case.status != "OPEN":
        return
    enforcement.end_stay(day, case, stay_type, day.rng("stays"))
