"""A removal order's life in the true world: made, in force, impeded or ready, wanted, closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.codes import (
    DEPARTURE_ORDER_DAYS,
    GROUND_BY_CODE,
    TSR_COUNTRIES,
    Impediment,
    Inventory,
    OrderStatus,
    OrderType,
    Status,
    StayType,
    TravelDocumentStatus,
    TravelDocumentType,
    WarrantCancellation,
    expected_priority,
    jurisdiction,
)
from seed import type_gcms, type_ncms
from seed.defects import Candidate, blank, one_of, shifted_date
from seed.defects import DefectClass as D

if TYPE_CHECKING:
    import datetime as dt
    import random

    from seed.context import Day
    from seed.world import Case, Person, World

#: Stays that move a case out of the working inventory into "monitoring and stayed".
STAYED_TYPES = {StayType.IAD, StayType.MINISTER, StayType.TSR}
#: The impediment NCMS records for each stay of removal.
STAY_IMPEDIMENT = {
    StayType.SENTENCE: Impediment.SENTENCE,
    StayType.COURT: Impediment.JUDICIAL_REVIEW,
    StayType.PRRA: Impediment.PRRA,
    StayType.IAD: Impediment.STAY,
    StayType.MINISTER: Impediment.STAY,
    StayType.TSR: Impediment.TSR,
}


def assign_officer(world: World, office: str) -> str | None:
    """The least-loaded officer of the office (managers keep within the maximum when they can)."""
    officers = world.officers.get(office)
    if not officers:
        return None
    best = min(
        officers, key=lambda o: (world.caseload[o] >= world.officer_max[o], world.caseload[o])
    )
    world.caseload[best] += 1
    return best


def chart_for(world: World, case: Case, person: Person) -> tuple[str, str]:
    """(authority, order type) the jurisdiction chart gives this case."""
    result = jurisdiction(
        case.ground,
        status=person.status,
        non_compliance=case.non_compliance,
        is_claimant=case.is_claimant,
        is_vulnerable=person.vulnerable,
        family_order_type=case.family_order_type,
    )
    return result.authority.value, result.order_type.value


def make_order(
    day: Day, case: Case, rng: random.Random, *, authority: str, made_on: dt.date | None = None
) -> None:
    """The order is made (today by the MD, or re-keyed now after an ID decision)."""
    world = day.world
    person = world.person_of(case)
    _, order_type = chart_for(world, case, person)
    case.order_id = world.numbering.next("gcms:order", 3_000_000)
    case.order_type = order_type
    case.authority = authority
    case.made_on = made_on or day.date
    category = GROUND_BY_CODE[case.ground].category.value
    world.count("orders", category)
    pr_appeal = person.status == Status.PERMANENT_RESIDENT and rng.random() < (
        day.params.iad_appeal_share_of_pr_orders
    )
    case.order_status = (
        OrderStatus.ISSUED if (case.is_claimant or pr_appeal) else OrderStatus.IN_FORCE
    )
    principal = world.principal_orders.get(case.case_no)
    type_gcms.order(day, case, person, rng, principal_order_id=principal)
    world.pool_add("with_order", case.case_no)
    type_ncms.order_typed(day, case, order_type, rng)
    if case.serious and person.status != Status.PERMANENT_RESIDENT and rng.random() < 0.4:
        add_stay(day, case, StayType.SENTENCE, rng)
        world.agenda.add(
            day.later(rng.randint(60, 700)), "stay_end", case.case_no, StayType.SENTENCE.value
        )
    if pr_appeal:
        from seed import irb

        irb.iad_appeal(day, case, rng)
    elif case.order_status == OrderStatus.IN_FORCE:
        in_force(day, case, rng)
    else:
        reassess(day, case, rng)


def in_force(day: Day, case: Case, rng: random.Random) -> None:
    """The order becomes enforceable: what stands in the way of removal is recorded."""
    if case.status != "OPEN":
        return
    world = day.world
    person = world.person_of(case)
    case.order_status = OrderStatus.IN_FORCE
    case.in_force_on = day.date
    early = None
    refusal_clean = case.refused_decision is not None and not day.ledger.planted_on(
        "nova", "decision", case.refused_decision
    )
    if case.is_claimant and case.refused_on is not None and refusal_clean:
        # In force within the 15 days after a negative RPD or RAD decision.
        too_early = shifted_date(case.refused_on, 1, 10)
        early = [Candidate(D.IN_FORCE_TOO_EARLY, "in_force_on", too_early)]
    type_gcms.order_update(
        day, case, {"status": case.order_status, "in_force_on": day.date}, rng, candidates=early
    )
    if person.citizenship in TSR_COUNTRIES and not case.serious:
        add_stay(day, case, StayType.TSR, rng)
    if case.passport_td is None:
        request_travel_document(day, case, person, rng)
    if rng.random() < 0.02:
        type_ncms.impediment(day, case, Impediment.MEDICAL, rng)
        world.agenda.add(
            day.later(rng.randint(20, 120)),
            "impediment_end",
            case.case_no,
            Impediment.MEDICAL.value,
        )
    prra_share = 0.8 if case.serious else (0.3 if case.failed_claimant else 0.1)
    if rng.random() < prra_share:
        from seed import irb

        irb.offer_prra(day, case, rng)
    if case.order_type == OrderType.DEPARTURE:
        case.departure_deadline = day.later(DEPARTURE_ORDER_DAYS)
        world.agenda.add(case.departure_deadline, "departure_deadline", case.case_no)
    reassess(day, case, rng)


def request_travel_document(day: Day, case: Case, person: Person, rng: random.Random) -> None:
    """No valid passport on file: ask the country's mission for an emergency travel document."""
    world = day.world
    td_id = world.numbering.next("gcms:td", 7_000_000)
    case.passport_td = -td_id  # requested, not yet issued
    type_gcms.simple(
        day,
        "travel_document",
        {
            "td_id": td_id, "uci": person.uci, "doc_type": TravelDocumentType.EMERGENCY.value,
            "issuing_country": person.citizenship, "doc_number": None, "requested_on": day.date,
            "issued_on": None, "expires_on": None, "status": TravelDocumentStatus.REQUESTED.value,
        },
        rng,
        agency="CBSA",
        candidates=[Candidate(D.MISSING_MANDATORY, "issuing_country", blank())],
    )  # fmt: skip
    request_id = world.numbering.next("ncms:td_request")
    world.td_requests[case.case_no] = request_id
    type_ncms.simple(
        day,
        "td_request",
        {
            "td_request_id": request_id, "case_no": case.case_no, "country": person.citizenship,
            "requested_on": day.date, "status": "REQUESTED", "obtained_on": None,
        },
        rng,
        by=case.officer or "CBSA",
        candidates=[Candidate(D.MISSING_MANDATORY, "country", blank())],
    )  # fmt: skip
    type_ncms.impediment(day, case, Impediment.NO_TRAVEL_DOCUMENT, rng)
    world.agenda.add(day.later(rng.randint(25, 200)), "td_issued", case.case_no, td_id)


def td_issued(day: Day, case_no: str, td_id: int) -> None:
    """The emergency travel document arrives."""
    world = day.world
    case = world.cases[case_no]
    if case.status != "OPEN" or case.passport_td != -td_id:
        return
    rng = day.rng("travel_documents")
    case.passport_td = td_id
    type_gcms_fields = {
        "status": TravelDocumentStatus.ISSUED.value,
        "issued_on": day.date,
        "expires_on": day.later(180),
        "doc_number": f"ETD{td_id}",
    }
    day.ledger.amend("gcms", "travel_document", td_id, type_gcms_fields, at=day.moment(rng))
    request_id = world.td_requests.pop(case_no, None)
    if request_id is not None:
        day.ledger.amend(
            "ncms", "td_request", request_id, {"status": "OBTAINED", "obtained_on": day.date},
            at=day.moment(rng),
        )  # fmt: skip
    type_ncms.end_impediment(day, case, Impediment.NO_TRAVEL_DOCUMENT, rng)
    reassess(day, case, rng)


def add_stay(day: Day, case: Case, stay_type: StayType, rng: random.Random) -> None:
    """A stay of removal starts (GCMS) and NCMS records the impediment."""
    if stay_type.value in case.stays:
        return
    world = day.world
    person = world.person_of(case)
    stay_id = world.numbering.next("gcms:stay", 8_000_000)
    case.stays[stay_type.value] = stay_id
    candidates = []
    order_clean = not day.ledger.planted_on("gcms", "removal_order", case.order_id)
    if case.serious and stay_type != StayType.TSR and order_clean:  # a TSR does not reach s.34-37
        candidates.append(Candidate(D.TSR_STAY_SERIOUS_GROUND, "stay_type", one_of(["TSR"])))
    type_gcms.simple(
        day,
        "stay_of_removal",
        {
            "stay_id": stay_id, "uci": person.uci, "order_id": case.order_id,
            "stay_type": stay_type.value, "starts_on": day.date, "ends_on": None,
        },
        rng,
        agency="CBSA",
        candidates=candidates,
    )  # fmt: skip
    type_ncms.impediment(day, case, STAY_IMPEDIMENT[stay_type], rng)
    reassess(day, case, rng)


def end_stay(day: Day, case: Case, stay_type: str, rng: random.Random) -> None:
    stay_id = case.stays.pop(stay_type, None)
    if stay_id is None:
        return
    case.ended_stays.append(stay_id)
    day.ledger.amend("gcms", "stay_of_removal", stay_id, {"ends_on": day.date}, at=day.moment(rng))
    type_ncms.end_impediment(day, case, STAY_IMPEDIMENT[StayType(stay_type)], rng)
    reassess(day, case, rng)


def inventory_for(case: Case) -> Inventory:
    """Where an open case belongs, from its order, warrant, stays and impediments."""
    if case.status != "OPEN":
        return Inventory.CLOSED
    if case.order_status != OrderStatus.IN_FORCE:
        return Inventory.MONITORING_STAYED if case.stays else Inventory.MONITORING
    if case.warrant and case.detention is None:
        return Inventory.WANTED
    if any(stay in STAYED_TYPES for stay in case.stays):
        return Inventory.MONITORING_STAYED
    if case.impediments:
        return Inventory.IMPEDED
    return Inventory.READY


def _pool_name(inventory: str, priority: str) -> str | None:
    if inventory == Inventory.READY:
        return f"ready:{priority}"
    if inventory == Inventory.IMPEDED:
        return f"impeded:{priority}"
    if inventory == Inventory.WANTED:
        return "wanted"
    return None


def reassess(day: Day, case: Case, rng: random.Random) -> None:
    """Move the case to the inventory its facts call for, and tell NCMS."""
    new = inventory_for(case)
    if new == case.inventory:
        return
    world = day.world
    old_pool = _pool_name(case.inventory, case.priority)
    if old_pool:
        world.pool_remove(old_pool, case.case_no)
    new_pool = _pool_name(new, case.priority)
    if new_pool:
        world.pool_add(new_pool, case.case_no)
    was_working = case.inventory in (Inventory.READY, Inventory.IMPEDED)
    case.inventory = new
    fields: dict[str, object] = {"inventory": new.value}
    if new in (Inventory.READY, Inventory.IMPEDED) and case.officer is None:
        case.officer = assign_officer(world, case.office)
        fields["officer_id"] = case.officer
    type_ncms.update_case(day, case, fields, rng)
    if new == Inventory.READY:
        type_ncms.ready_over_open_impediment(day, case, rng)
    if new in (Inventory.READY, Inventory.IMPEDED) and not was_working and not case.dormant:
        world.agenda.add(day.later(rng.randint(5, 40)), "activity", case.case_no)


def set_failed_claimant(day: Day, case: Case, rng: random.Random) -> None:
    """A final negative decision: the claimant's priority changes."""
    person = day.world.person_of(case)
    case.failed_claimant = True
    priority = expected_priority(
        case.ground, failed_claimant=True, irregular_migrant=person.irregular
    )
    pool = _pool_name(case.inventory, case.priority)
    if pool:
        day.world.pool_remove(pool, case.case_no)
    case.priority = priority
    pool = _pool_name(case.inventory, case.priority)
    if pool:
        day.world.pool_add(pool, case.case_no)
    type_ncms.update_case(day, case, {"is_failed_claimant": True, "priority": priority.value}, rng)
    if case.ground == "41(a)":
        day.world.agenda.add(day.later(3 * 365), "review", case.case_no)


def close_case(day: Day, case: Case, rng: random.Random, *, reason: str) -> None:
    """The file leaves the inventory without a removal (status granted, no order...)."""
    if case.status != "OPEN":
        return
    world = day.world
    pool = _pool_name(case.inventory, case.priority)
    if pool:
        world.pool_remove(pool, case.case_no)
    for name in ("with_order", "md_pending", "id_pending"):
        world.pool_remove(name, case.case_no)
    if case.warrant is not None:  # nobody is wanted on a file that ends
        from seed import removals

        reason = WarrantCancellation.STATUS
        removals.leave_warrant_open(day, case, rng)
        removals.cancel_warrant(day, case, reason, rng, reassess_case=False)
    previous = {"case_status": case.status, "inventory": case.inventory}
    case.status = "CLOSED"
    case.inventory = Inventory.CLOSED
    if case.officer:
        world.caseload[case.officer] -= 1
    if case.order_id is not None and case.order_status != OrderStatus.ENFORCED:
        case.order_status = OrderStatus.CANCELLED
        type_gcms.order_update(day, case, {"status": OrderStatus.CANCELLED.value}, rng)
    type_ncms.end_case(
        day,
        case,
        {"case_status": "CLOSED", "inventory": Inventory.CLOSED.value, "closed_on": day.date},
        rng,
        previous=previous,
    )
    type_ncms.activity(day, case, "CLOSED", reason, rng)
