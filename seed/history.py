"""The standing inventory at the start: each file with a consistent, clean back-filled history.

History is typed through the same clerks as the simulated days (with no
errors) and dated before the first simulated day. The feeds' copies of it are
written afterwards by the interfaces themselves (connectors.transfer.load_history).
Every file leaves the follow-up it is waiting for on the agenda.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from schemas.calendar import local_to_utc
from schemas.codes import (
    GROUND_BY_CODE,
    OFFICES,
    RAD_PERFECTING_DAYS,
    TSR_COUNTRIES,
    Category,
    Division,
    Impediment,
    Inventory,
    MinisterDelegateDecision,
    OrderStatus,
    Priority,
    Proceeding,
    StayType,
    WarrantType,
)
from seed import enforcement, intake, irb, removals, type_gcms, type_ncms, type_nova
from seed.params import GROUNDS_BY_CATEGORY, REPORTS_BY_CATEGORY
from seed.world import CaptureAgenda

if TYPE_CHECKING:
    from seed.context import Day
    from seed.ledger import Sink
    from seed.world import Case

#: What the standing inventory is made of (shares of `--files`).
STATES = {
    "claim_pending": 0.631, "rad_pending": 0.05, "litigation": 0.02, "id_pending": 0.0022,
    "wanted": 0.15, "ready": 0.021, "impeded": 0.042, "stayed": 0.07, "iad_pending": 0.01,
}  # fmt: skip
_ID_GROUNDS = {
    code: REPORTS_BY_CATEGORY[GROUND_BY_CODE[code].category] * weight
    for category, grounds in GROUNDS_BY_CATEGORY.items()
    for code, weight in grounds.items()
    if code
    in (
        "34",
        "35(1)(a)",
        "35(1)(b)",
        "36(1)(b)",
        "36(2)(b)",
        "36(2)(d)",
        "37",
        "40(1)(a)",
        "multiple",
    )
}


def build(day: Day, start: dt.date, sink: Sink) -> None:
    """Back-fill offices, officers, known clients and `files` files, all before `start`."""
    world = day.world
    rng = random.Random(f"{world.options.seed}:history")
    case_reasons.clear()
    real_agenda = world.agenda
    world.agenda = CaptureAgenda()
    _offices(day, rng, start)
    for _ in range(max(1, world.options.files // 10)):
        day.date = start - dt.timedelta(days=rng.randint(60, 3000))
        person = intake.new_person(day, rng, claimant=False, office=intake.pick_office(rng))
        type_gcms.client(day, person, rng)
        world.known_clients.append(person.person_id)
    states = list(STATES)
    weights = [STATES[s] for s in states]
    for index in range(world.options.files):
        state = rng.choices(states, weights=weights)[0]
        BUILDERS[state](day, rng, start)
        if index % 5_000 == 4_999:
            day.ledger.flush(sink, force=False)
    captured = world.agenda
    assert isinstance(captured, CaptureAgenda)
    # A PRRA application due before the start was made on its day, not at the start.
    for when, args in captured.take_everywhere("prra_applied"):
        if when < start:
            day.date = when
            irb.prra_applied(day, *args)
        else:
            captured.add(when, "prra_applied", *args)
    captured.release_into(real_agenda, start, rng)
    world.agenda = real_agenda
    day.ledger.flush(sink)


def _capture(day: Day) -> CaptureAgenda:
    agenda = day.world.agenda
    assert isinstance(agenda, CaptureAgenda)
    return agenda


def _offices(day: Day, rng: random.Random, start: dt.date) -> None:
    world = day.world
    at = local_to_utc(dt.datetime.combine(start - dt.timedelta(days=4000), dt.time(9)))
    total = max(
        len(OFFICES), round(world.options.files / 1000 * day.params.officers_per_thousand_files)
    )
    for office in OFFICES:
        day.ledger.enter(
            "ncms", "office",
            {"office_code": office.code, "region_code": office.region, "office_name": office.name},
            at=at, by="NCMS:ADMIN",
        )  # fmt: skip
        count = max(1, round(total * office.weight))
        world.officers[office.code] = []
        for _ in range(count):
            officer_id = f"O{world.numbering.next('ncms:officer', 10_000):05d}"
            surname, given = day.people.name(rng, "CAN", rng.choice("FM"))
            maximum = day.params.max_caseload + rng.randint(-20, 20)
            world.officers[office.code].append(officer_id)
            world.officer_max[officer_id] = maximum
            day.ledger.enter(
                "ncms", "officer",
                {"officer_id": officer_id, "office_code": office.code, "family_name": surname,
                 "given_name": given, "max_caseload": maximum},
                at=at, by="NCMS:ADMIN",
            )  # fmt: skip


def _when(rng: random.Random, start: dt.date, low: int, high: int) -> dt.date:
    return start - dt.timedelta(days=rng.randint(low, high))


def _claim(day: Day, rng: random.Random, start: dt.date, opened: dt.date) -> Case:
    """A claim made on `opened` with its report, conditional order and NOVA file."""
    day.date = opened
    case = irb.new_claim(day, rng, minors=False)  # a minor's ID referral would still be open
    _capture(day).discard_kind(case.case_no, "rpd_decision")
    return case


def _decide(
    day: Day,
    case: Case,
    division: Division,
    file_number: str,
    outcome: str,
    on: dt.date,
    rng: random.Random,
    reasons_on: dt.date | None = None,
) -> None:
    """A past final decision, typed in NOVA (its reasons recorded on the day they went out)."""
    day.date = on
    type_nova.decision(
        day, file_number, division, outcome, on, rng, intake.irb_region(case.office),
        reasons_on=reasons_on, reasons_now=True,
    )  # fmt: skip


def claim_pending(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _claim(day, rng, start, _when(rng, start, 2, 900))
    horizon = int(365 * 3.0)
    day.world.agenda.add(
        start + dt.timedelta(days=rng.randint(0, horizon)), "rpd_decision", case.case_no
    )


def _failed(day: Day, rng: random.Random, start: dt.date, low: int, high: int) -> Case:
    """A claimant whose claim the RPD rejected some time ago."""
    opened = _when(rng, start, low + 400, high + 800)
    case = _claim(day, rng, start, opened)
    decided = opened + dt.timedelta(days=rng.randint(300, 700))
    decided = min(decided, start - dt.timedelta(days=low))
    assert case.claim_file is not None
    reasons_on = type_nova.reasons_date(decided, rng)
    _decide(day, case, Division.RPD, case.claim_file, "REJ", decided, rng, reasons_on)
    enforcement.set_failed_claimant(day, case, rng)
    day.date = decided
    case_reasons[case.case_no] = reasons_on
    return case


#: The RPD reasons date of each back-filled failed claim (the RAD's 15 days run from it).
case_reasons: dict[str, dt.date] = {}


def rad_pending(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _failed(day, rng, start, 30, 300)
    filed = case_reasons.pop(case.case_no) + dt.timedelta(days=rng.randint(1, 15))
    day.date = filed
    person = day.world.person_of(case)
    case.rad_file = type_nova.case_file(
        day,
        person,
        Proceeding.APPEAL,
        intake.irb_region(case.office),
        filed,
        rng,
        parent=case.claim_file,
    )
    perfected = filed + dt.timedelta(days=rng.randint(10, RAD_PERFECTING_DAYS))
    if perfected < start:  # the appeal record, filed within 30 days of the notice
        day.date = perfected
        type_nova.filing(day, case.rad_file, "APR", perfected, rng, intake.irb_region(case.office))
        day.world.perfected[case.rad_file] = perfected
    else:
        day.world.agenda.add(perfected, "rad_perfected", case.case_no)
    day.world.agenda.add(
        start + dt.timedelta(days=rng.randint(0, 400)), "rad_decision", case.case_no
    )


def _enforceable(day: Day, rng: random.Random, start: dt.date, case: Case, on: dt.date) -> None:
    """The order came into force on `on` (no follow-ups scheduled from the past)."""
    day.date = on
    case.order_status = OrderStatus.IN_FORCE
    case.in_force_on = on
    type_gcms.order_update(
        day, case, {"status": OrderStatus.IN_FORCE.value, "in_force_on": on}, rng
    )
    if case.order_type == "departure":
        day.date = on + dt.timedelta(days=30)
        if day.date < start - dt.timedelta(days=1):
            type_gcms.order_update(day, case, {"deemed_deportation_on": day.date}, rng)


def _other_case(day: Day, rng: random.Random, start: dt.date, serious: bool) -> Case:
    """A non-claimant case with an MD order (non-compliance) or a serious ground."""
    opened = _when(rng, start, 120, 1500)
    day.date = opened
    category = Category.CRIMINALITY if serious else Category.NON_COMPLIANCE
    ground = "36(2)(a)" if serious else "41(a)"
    case = intake.report_on_person(day, rng, category, ground)
    _capture(day).discard_kind(case.case_no, "md_review")
    day.world.pool_remove("md_pending", case.case_no)
    type_gcms.md_review(day, case, MinisterDelegateDecision.ORDER_ISSUED, rng)
    enforcement.make_order(day, case, rng, authority="MD")
    return case


def _removable(day: Day, rng: random.Random, start: dt.date, kind: str) -> Case:
    """A case with an order in force, of a kind matching a removal priority."""
    if kind in (Priority.FAILED_CLAIMANT, Priority.IRREGULAR_FAILED_CLAIMANT):
        case = _failed(day, rng, start, 60, 500)
        on = day.date + dt.timedelta(days=16)
    else:
        case = _other_case(day, rng, start, serious=kind == Priority.SERIOUS_INADMISSIBILITY)
        on = case.made_on or day.date
    if case.order_status != OrderStatus.IN_FORCE:
        _enforceable(day, rng, start, case, on)
    return case


def _kind(rng: random.Random) -> str:
    return rng.choices(list(Priority), weights=[0.05, 0.09, 0.55, 0.31])[0]


def wanted(day: Day, rng: random.Random, start: dt.date) -> None:
    kind = rng.choices(list(Priority), weights=[0.05, 0.06, 0.6, 0.29])[0]
    case = _removable(day, rng, start, kind)
    day.date = min(
        start - dt.timedelta(days=2),
        (case.in_force_on or day.date) + dt.timedelta(days=rng.randint(20, 400)),
    )
    removals.issue_warrant(day, case, WarrantType.REMOVAL, rng)
    _capture(day).discard_kind(case.case_no, "activity")


def ready(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _removable(day, rng, start, _kind(rng))
    _settle(day, rng, start, case)


def impeded(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _removable(day, rng, start, _kind(rng))
    day.date = start - dt.timedelta(days=rng.randint(2, 40))
    roll = rng.random()
    if roll < 0.6 and case.passport_td is not None and case.passport_td > 0:
        case.passport_td = None
    if case.passport_td is None:
        enforcement.request_travel_document(day, case, day.world.person_of(case), rng)
        for args in _capture(day).take(case.case_no, "td_issued"):
            day.world.agenda.add(start + dt.timedelta(days=rng.randint(0, 200)), "td_issued", *args)
    elif roll < 0.8:
        irb.offer_prra(day, case, rng)
        for args in _capture(day).take(case.case_no, "prra_decision"):
            day.world.agenda.add(
                start + dt.timedelta(days=rng.randint(0, 240)), "prra_decision", *args
            )
    elif roll < 0.9 and case.serious:
        enforcement.add_stay(day, case, StayType.SENTENCE, rng)
        day.world.agenda.add(
            start + dt.timedelta(days=rng.randint(0, 500)),
            "stay_end",
            case.case_no,
            StayType.SENTENCE.value,
        )
    else:
        type_ncms.impediment(day, case, Impediment.MEDICAL, rng)
        day.world.agenda.add(
            start + dt.timedelta(days=rng.randint(0, 120)),
            "impediment_end",
            case.case_no,
            Impediment.MEDICAL.value,
        )
    _settle(day, rng, start, case)


def _settle(day: Day, rng: random.Random, start: dt.date, case: Case) -> None:
    """Put the case in its inventory as of the day before the start, with its review cycle."""
    day.date = start - dt.timedelta(days=2)
    enforcement.reassess(day, case, rng)
    world = day.world
    _capture(day).discard_kind(case.case_no, "activity")
    if case.inventory in (Inventory.READY, Inventory.IMPEDED) and not case.dormant:
        world.agenda.add(start + dt.timedelta(days=rng.randint(0, 40)), "activity", case.case_no)
    if case.serious:
        world.agenda.add(start + dt.timedelta(days=rng.randint(0, 364)), "review", case.case_no)


def stayed(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _removable(day, rng, start, rng.choice([Priority.FAILED_CLAIMANT, Priority.OTHER]))
    day.date = (case.in_force_on or day.date) + dt.timedelta(days=1)
    stay = (
        StayType.TSR
        if day.world.person_of(case).citizenship in TSR_COUNTRIES
        else StayType.MINISTER
    )
    enforcement.add_stay(day, case, stay, rng)
    _settle(day, rng, start, case)


def id_pending(day: Day, rng: random.Random, start: dt.date) -> None:
    ground = rng.choices(list(_ID_GROUNDS), weights=list(_ID_GROUNDS.values()))[0]
    day.date = _when(rng, start, 3, 150)
    category = GROUND_BY_CODE[ground].category
    case = intake.report_on_person(day, rng, category, ground)
    _capture(day).discard_kind(case.case_no, "md_review")
    intake.md_review(day, case.case_no, category.value)
    for args in _capture(day).take(case.case_no, "id_hearing"):
        day.world.agenda.add(start + dt.timedelta(days=rng.randint(0, 150)), "id_hearing", *args)


def iad_pending(day: Day, rng: random.Random, start: dt.date) -> None:
    day.date = _when(rng, start, 30, 300)
    # A permanent resident convicted in Canada of serious criminality (36(1)(a): the
    # ID makes the order, which the resident appeals to the IAD); s.36(2) never
    # reaches a permanent resident.
    case = intake.report_on_person(day, rng, Category.CRIMINALITY, "36(1)(a)", resident=True)
    world = day.world
    world.pool_remove("md_pending", case.case_no)
    _capture(day).discard_kind(case.case_no, "md_review")
    authority, _ = enforcement.chart_for(world, case, world.person_of(case))
    referred = authority == "ID"
    decision = (
        MinisterDelegateDecision.REFERRED_TO_ID
        if referred
        else (MinisterDelegateDecision.ORDER_ISSUED)
    )
    type_gcms.md_review(day, case, decision, rng)
    saved = day.params
    day.params = _always_appeal(saved)
    enforcement.make_order(day, case, rng, authority=authority)
    day.params = saved
    for args in _capture(day).take(case.case_no, "iad_decision"):
        world.agenda.add(start + dt.timedelta(days=rng.randint(0, 400)), "iad_decision", *args)


def litigation(day: Day, rng: random.Random, start: dt.date) -> None:
    case = _failed(day, rng, start, 100, 500)
    person = day.world.person_of(case)
    filed = case_reasons.pop(case.case_no) + dt.timedelta(days=rng.randint(1, 15))
    day.date = filed
    case.rad_file = type_nova.case_file(
        day,
        person,
        Proceeding.APPEAL,
        intake.irb_region(case.office),
        filed,
        rng,
        parent=case.claim_file,
    )
    decided = filed + dt.timedelta(days=rng.randint(60, 75))
    _decide(day, case, Division.RAD, case.rad_file, "CNF", decided, rng)
    _enforceable(day, rng, start, case, decided + dt.timedelta(days=15))
    day.date = decided + dt.timedelta(days=10)
    irb.litigation_filed(day, case.case_no, case.rad_file)
    world = day.world
    _capture(day).discard_kind(case.case_no, "leave_decision")
    for args in _capture(day).take(case.case_no, "litigation_entry"):
        day.date = decided + dt.timedelta(days=12)
        irb.litigation_entry(day, *args)
        litigation_id = args[1]
        world.agenda.add(
            start + dt.timedelta(days=rng.randint(0, 150)),
            "leave_decision",
            case.case_no,
            litigation_id,
        )
    _settle(day, rng, start, case)


def _always_appeal(params: Any) -> Any:
    from dataclasses import replace

    return replace(params, iad_appeal_share_of_pr_orders=1.0)


BUILDERS = {
    "claim_pending": claim_pending, "rad_pending": rad_pending, "litigation": litigation,
    "id_pending": id_pending, "wanted": wanted, "ready": ready, "impeded": impeded,
    "stayed": stayed, "iad_pending": iad_pending,
}  # fmt: skip
