"""Proceedings before the IRB and the courts: claims, appeals, hearings, PRRA, judicial review."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from schemas.calendar import add_business_days, province_of_irb_file
from schemas.codes import (
    FEDERAL_COURT_LEAVE_DAYS,
    ORDER_IN_FORCE_AFTER_RAD_DAYS,
    OUTCOME_BY_NOVA,
    PRRA_APPLICATION_DAYS,
    RAD_DECISION_DAYS,
    RAD_FILING_DAYS,
    RAD_PERFECTING_DAYS,
    REKEY_MAX_BUSINESS_DAYS,
    REKEY_MIN_BUSINESS_DAYS,
    Category,
    Division,
    LeaveDecision,
    LitigationMatter,
    MinisterDelegateDecision,
    NonCompliance,
    OrderStatus,
    Proceeding,
    PrraDecision,
    Status,
    StayType,
)
from seed import enforcement, intake, type_gcms, type_nova
from seed.defects import Candidate, blank, malformed_irb_file, shifted_date
from seed.defects import DefectClass as D

if TYPE_CHECKING:
    import random

    from seed.context import Day
    from seed.world import Case


def new_claim(day: Day, rng: random.Random, *, minors: bool = True) -> Case:
    """A refugee claim: GCMS client, s.44 report and conditional departure order; NOVA file."""
    params = day.params
    office = intake.pick_office(rng)
    irregular = rng.random() < params.irregular_share
    minor = minors and rng.random() < 0.01
    person = intake.new_person(
        day, rng, claimant=True, office=office, irregular=irregular, minor=minor
    )
    kind = rng.choice([NonCompliance.NO_VISA, NonCompliance.NO_VISA, NonCompliance.OVERSTAY]).value
    case = intake.open_case(day, rng, person, "41(a)", kind, office, new_client=True, claimant=True)
    region = intake.irb_region(office)
    case.claim_file = type_nova.case_file(day, person, Proceeding.CLAIM, region, day.date, rng)
    if rng.random() < 0.5:
        passport_on_file(day, case, rng)
    decide_in = max(60, int(rng.gammavariate(3.0, params.rpd_mean_months * 30.4 / 3.0)))
    day.world.agenda.add(day.later(decide_in), "rpd_decision", case.case_no)
    if person.vulnerable:  # unaccompanied minors are always heard by the ID
        day.world.pool_add("md_pending", case.case_no)
        day.world.agenda.add(day.later(1), "md_review", case.case_no, Category.NON_COMPLIANCE.value)
    else:
        type_gcms.md_review(day, case, MinisterDelegateDecision.ORDER_ISSUED, rng)
        enforcement.make_order(day, case, rng, authority="MD")
    return case


def passport_on_file(day: Day, case: Case, rng: random.Random) -> None:
    """The claimant's passport, seized or copied at the claim, goes on the GCMS file."""
    world = day.world
    person = world.person_of(case)
    td_id = world.numbering.next("gcms:td", 7_000_000)
    case.passport_td = td_id
    type_gcms.simple(
        day,
        "travel_document",
        {
            "td_id": td_id, "uci": person.uci, "doc_type": "PASSPORT",
            "issuing_country": person.citizenship, "doc_number": f"P{td_id}",
            "requested_on": None, "issued_on": day.later(-rng.randint(200, 3000)),
            "expires_on": day.later(rng.randint(400, 2500)), "status": "ISSUED",
        },
        rng,
        agency="IRCC",
        candidates=[Candidate(D.MISSING_MANDATORY, "doc_type", blank())],
    )  # fmt: skip
    day.ledger.enter(
        "gcms",
        "scanned_document",
        {
            "document_id": world.numbering.next("gcms:document"), "uci": person.uci,
            "document_kind": "PASSPORT_COPY", "received_on": day.date, "pages": rng.randint(2, 8),
        },
        at=day.moment(rng),
        by="GCMS:SCAN",
    )  # fmt: skip


def _region(case: Case) -> str:
    return intake.irb_region(case.office)


def rpd_decision(day: Day, case_no: str) -> None:
    """The RPD decides the claim; NOVA records it (the feed will carry it to GCMS)."""
    world = day.world
    case = world.cases[case_no]
    if case.status != "OPEN" or case.claim_file is None:
        return
    rng = day.rng("rpd")
    outcome = intake.weighted(rng, day.params.rpd_outcomes)
    type_nova.hearing(day, case.claim_file, day.date, rng)
    # The RAD's 15 days run from the reasons NOVA records: one date for both.
    reasons_on = type_nova.reasons_date(day.date, rng)
    decision_id = type_nova.decision(
        day, case.claim_file, Division.RPD, outcome, day.date, rng, _region(case),
        reasons_on=reasons_on,
    )  # fmt: skip
    world.count("rpd_decisions", outcome)
    if not OUTCOME_BY_NOVA[outcome].negative:
        grant_protection(day, case, rng)
        return
    enforcement.set_failed_claimant(day, case, rng)
    case.refused_on, case.refused_decision = day.date, decision_id
    if outcome != "REJ":
        # An abandoned or withdrawn claim cannot be appealed to the RAD: no appeal
        # window to wait for; the order comes into force 15 days after the decision.
        world.agenda.add(day.later(ORDER_IN_FORCE_AFTER_RAD_DAYS), "order_in_force", case_no)
        return
    if rng.random() < day.params.rad_appeal_share:
        world.agenda.add(
            reasons_on + dt.timedelta(days=rng.randint(3, RAD_FILING_DAYS)), "rad_filing", case_no
        )
    else:
        world.agenda.add(
            reasons_on + dt.timedelta(days=RAD_FILING_DAYS + 1), "order_in_force", case_no
        )


def grant_protection(day: Day, case: Case, rng: random.Random) -> None:
    """Protection granted: the person becomes a protected person; the order falls away."""
    person = day.world.person_of(case)
    person.status = Status.PROTECTED_PERSON
    day.ledger.amend(
        "gcms", "client", person.uci, {"immigration_status": Status.PROTECTED_PERSON.value},
        at=day.moment(rng, late=True),
    )  # fmt: skip
    enforcement.close_case(day, case, rng, reason="refugee protection conferred")


def rad_filing(day: Day, case_no: str) -> None:
    """The failed claimant appeals to the RAD; the appeal is perfected within 30 days."""
    world = day.world
    case = world.cases[case_no]
    if case.status != "OPEN":
        return
    rng = day.rng("rad")
    person = world.person_of(case)
    before_reasons = Candidate(  # dated before the RPD's reasons went out (15 days at most)
        D.RAD_FILING_WINDOW, "referred_on",
        shifted_date(day.date, -(RAD_FILING_DAYS + 10), -(RAD_FILING_DAYS + 1)),
    )  # fmt: skip
    refusal = case.refused_decision
    clean = refusal is not None and not day.ledger.planted_on("nova", "decision", refusal)
    case.rad_file = type_nova.case_file(
        day, person, Proceeding.APPEAL, _region(case), day.date, rng, parent=case.claim_file,
        candidates=[before_reasons] if clean else [],
    )  # fmt: skip
    world.agenda.add(day.later(rng.randint(10, RAD_PERFECTING_DAYS)), "rad_perfected", case_no)
    decide_in = max(45, int(rng.gammavariate(4.0, day.params.rad_mean_days / 4.0)))
    world.agenda.add(day.later(decide_in), "rad_decision", case_no)


def rad_perfected(day: Day, case_no: str) -> None:
    case = day.world.cases[case_no]
    if case.rad_file and case.status == "OPEN":
        rng = day.rng("rad")
        noticed = day.world.file_referred.get(case.rad_file, day.date)
        late = Candidate(  # perfected more than 30 days after the notice of appeal
            D.RAD_PERFECTING_LATE, "filed_on",
            shifted_date(noticed, RAD_PERFECTING_DAYS + 1, RAD_PERFECTING_DAYS + 20),
        )  # fmt: skip
        notice = day.world.notices.get(case.rad_file)
        clean = notice is not None and not (
            day.ledger.planted_on("nova", "filing", notice)
            or day.ledger.planted_on("nova", "case_file", case.rad_file)
        )
        type_nova.filing(
            day, case.rad_file, "APR", day.date, rng, _region(case),
            candidates=[late] if clean else [],
        )  # fmt: skip
        day.world.perfected[case.rad_file] = day.date


def rad_decision(day: Day, case_no: str) -> None:
    """The RAD decides; a negative decision may go to the Federal Court within 15 days."""
    world = day.world
    case = world.cases[case_no]
    if case.status != "OPEN" or case.rad_file is None:
        return
    rng = day.rng("rad")
    outcome = intake.weighted(rng, day.params.rad_outcomes)
    filed_on = world.file_referred.get(case.rad_file, day.date)
    unheard = None
    if (day.date - filed_on).days > RAD_DECISION_DAYS:  # past 90 days: the RAD held a hearing
        perfected = world.perfected.get(case.rad_file)
        if perfected is not None and (day.date - perfected).days > RAD_DECISION_DAYS:
            # The hearing may never be recorded: the decision looks 90 days late.
            unheard = day.ledger.injector.choose(rng, [Candidate(D.RAD_DECISION_LATE, None)])
        if unheard is None:
            type_nova.hearing(day, case.rad_file, day.date, rng)
    decision_id = type_nova.decision(
        day, case.rad_file, Division.RAD, outcome, day.date, rng, _region(case),
        plain=unheard is not None,
    )  # fmt: skip
    if unheard is not None:
        day.ledger.record(
            "nova", "decision", str(decision_id), unheard, day.date, "hearing recorded",
            day.moment(rng), field="decided_on",
        )  # fmt: skip
    world.count("rad_decisions", outcome)
    if outcome == "ASU":
        grant_protection(day, case, rng)
        return
    if outcome == "ARB":  # referred back: the RPD decides again
        world.agenda.add(day.later(rng.randint(90, 240)), "rpd_decision", case_no)
        return
    case.refused_on, case.refused_decision = day.date, decision_id
    world.agenda.add(day.later(ORDER_IN_FORCE_AFTER_RAD_DAYS), "order_in_force", case_no)
    if rng.random() < day.params.federal_court_share:
        filed = day.later(rng.randint(3, FEDERAL_COURT_LEAVE_DAYS))
        world.agenda.add(filed, "litigation_filed", case_no, case.rad_file)


def litigation_filed(day: Day, case_no: str, irb_file: str) -> None:
    """Leave is sought at the Federal Court; removal is stayed; GCMS hears of it later."""
    world = day.world
    case = world.cases[case_no]
    if case.status != "OPEN":
        return
    rng = day.rng("litigation")
    enforcement.add_stay(day, case, StayType.COURT, rng)
    late = day.ledger.injector.choose(rng, [Candidate(D.LITIGATION_LATE, None)])
    entry_in = rng.randint(16, 45) if late else rng.randint(1, 10)
    litigation_id = world.numbering.next("gcms:litigation", 6_000_000)
    court_file = world.numbering.court_file(day.date.year)
    world.agenda.add(
        day.later(entry_in),
        "litigation_entry",
        case_no,
        litigation_id,
        court_file,
        day.date,
        irb_file,
        bool(late),
    )
    world.agenda.add(day.later(rng.randint(60, 150)), "leave_decision", case_no, litigation_id)


def litigation_entry(
    day: Day,
    case_no: str,
    litigation_id: int,
    court_file: str,
    filed_on: dt.date,
    irb_file: str,
    late: bool,
) -> None:
    """An IRCC litigation clerk types the court file into GCMS (on time, or not)."""
    world = day.world
    case = world.cases[case_no]
    person = world.person_of(case)
    rng = day.rng("litigation")
    at = day.moment(rng)
    refusal = case.refused_decision  # the RAD decision leave is sought from
    candidates = [
        Candidate(D.MALFORMED_IRB_FILE, "irb_file_no", malformed_irb_file(irb_file)),
        Candidate(D.MISSING_MANDATORY, "court_file_no", blank()),
    ]
    if refusal is not None and not day.ledger.planted_on("nova", "decision", refusal):
        candidates.append(
            Candidate(  # leave sought more than 15 days after the RAD's decision
                D.LEAVE_SOUGHT_LATE, "filed_on",
                shifted_date(filed_on, FEDERAL_COURT_LEAVE_DAYS + 1, FEDERAL_COURT_LEAVE_DAYS + 10),
            )
        )  # fmt: skip
    day.ledger.enter(
        "gcms",
        "litigation",
        {
            "litigation_id": litigation_id, "uci": person.uci, "court_file_no": court_file,
            "matter": LitigationMatter.JR_RAD.value, "irb_file_no": irb_file, "filed_on": filed_on,
            "leave_decision": None, "leave_decided_on": None, "outcome": None, "decided_on": None,
        },
        at=at,
        by=day.clerk(rng, "IRCC-LIT"),
        rng=None if late else rng,
        candidates=None if late else candidates,
    )  # fmt: skip
    if late:
        planted = Candidate(D.LITIGATION_LATE, "entered_at")
        day.ledger.record("gcms", "litigation", str(litigation_id), planted, at, filed_on, at)
    world.litigation_typed.add(litigation_id)


def leave_decision(day: Day, case_no: str, litigation_id: int) -> None:
    world = day.world
    case = world.cases[case_no]
    rng = day.rng("litigation")
    granted = rng.random() < day.params.leave_granted_share
    decision = LeaveDecision.GRANTED if granted else LeaveDecision.DISMISSED
    _court_update(
        day, litigation_id, {"leave_decision": decision.value, "leave_decided_on": day.date}, rng
    )
    if granted:
        world.agenda.add(day.later(rng.randint(90, 200)), "judicial_review", case_no, litigation_id)
    elif case.status == "OPEN":
        enforcement.end_stay(day, case, StayType.COURT.value, rng)


def judicial_review(day: Day, case_no: str, litigation_id: int) -> None:
    world = day.world
    case = world.cases[case_no]
    rng = day.rng("litigation")
    allowed = rng.random() < day.params.judicial_review_success_share
    outcome = "ALLOWED" if allowed else "DISMISSED"
    _court_update(day, litigation_id, {"outcome": outcome, "decided_on": day.date}, rng)
    if case.status != "OPEN":
        return
    if allowed:  # sent back for redetermination, which protects the person here
        grant_protection(day, case, rng)
    else:
        enforcement.end_stay(day, case, StayType.COURT.value, rng)


def _court_update(
    day: Day, litigation_id: int, fields: dict[str, object], rng: random.Random
) -> None:
    """Court outcomes are typed onto the litigation record (once it exists in GCMS)."""
    if litigation_id in day.world.litigation_typed:
        day.ledger.amend("gcms", "litigation", litigation_id, fields, at=day.moment(rng, late=True))


def order_in_force(day: Day, case_no: str) -> None:
    case = day.world.cases[case_no]
    if case.status == "OPEN" and case.order_status == OrderStatus.ISSUED:
        enforcement.in_force(day, case, day.rng("orders"))


def offer_prra(day: Day, case: Case, rng: random.Random) -> None:
    """PRRA notification: removal is stayed until the decision."""
    world = day.world
    person = world.person_of(case)
    prra_id = world.numbering.next("gcms:prra", 4_000_000)
    type_gcms.simple(
        day,
        "prra_application",
        {
            "prra_id": prra_id, "uci": person.uci, "order_id": case.order_id,
            "notified_on": day.date, "applied_on": None, "decision": None, "decided_on": None,
        },
        rng,
        agency="IRCC",
        candidates=[Candidate(D.MISSING_MANDATORY, "notified_on", blank())],
    )  # fmt: skip
    enforcement.add_stay(day, case, StayType.PRRA, rng)
    world.agenda.add(
        day.later(rng.randint(5, PRRA_APPLICATION_DAYS)), "prra_applied", case.case_no, prra_id
    )
    world.agenda.add(day.later(rng.randint(90, 240)), "prra_decision", case.case_no, prra_id)


def prra_applied(day: Day, case_no: str, prra_id: int) -> None:
    """The application arrives within 15 days of the notification (typed with its date)."""
    rng = day.rng("prra")
    window = PRRA_APPLICATION_DAYS
    day.ledger.amend(
        "gcms", "prra_application", prra_id, {"applied_on": day.date}, at=day.moment(rng),
        rng=rng,
        candidates=[
            Candidate(D.PRRA_APPLIED_BEFORE_NOTICE, "applied_on",
                      shifted_date(day.date, -(window + 10), -(window + 1))),
            Candidate(D.PRRA_APPLIED_LATE, "applied_on",
                      shifted_date(day.date, window + 1, window + 20)),
        ],
    )  # fmt: skip


def prra_decision(day: Day, case_no: str, prra_id: int) -> None:
    world = day.world
    case = world.cases[case_no]
    rng = day.rng("prra")
    accepted = rng.random() < day.params.prra_accepted_share
    decision = PrraDecision.ACCEPTED if accepted else PrraDecision.REJECTED
    day.ledger.amend(
        "gcms", "prra_application", prra_id, {"decision": decision.value, "decided_on": day.date},
        at=day.moment(rng, late=True),
    )  # fmt: skip
    if case.status != "OPEN":
        return
    if accepted:
        grant_protection(day, case, rng)
    else:
        enforcement.end_stay(day, case, StayType.PRRA.value, rng)


def id_hearing(day: Day, case_no: str, category: str) -> None:
    """The ID holds the admissibility hearing and decides; GCMS re-keys it days later."""
    world = day.world
    case = world.cases[case_no]
    world.pool_remove("id_pending", case_no)
    if case.status != "OPEN" or case.id_file is None:
        return
    rng = day.rng("id")
    made = intake.conversion(day, Category(category), claimant=case.is_claimant)
    outcome = "RMO" if made else rng.choice(["ENT", "AFE"])
    type_nova.hearing(day, case.id_file, day.date, rng)
    decision_id = type_nova.decision(
        day, case.id_file, Division.ID, outcome, day.date, rng, _region(case)
    )
    _schedule_rekey(day, case, Division.ID, case.id_file, outcome, decision_id, rng)


def _schedule_rekey(
    day: Day, case: Case, division: Division, file_number: str, outcome: str,
    decision_id: int, rng: random.Random,
) -> None:  # fmt: skip
    """The faxed ID or IAD decision waits 2-5 business days to be keyed into GCMS.

    Or it waits longer, or it is never keyed (the case is then never acted on).
    """
    province = province_of_irb_file(file_number)
    late_on = add_business_days(day.date, REKEY_MAX_BUSINESS_DAYS + rng.randint(3, 8), province)
    # Both show once the 5 business days have run out, within the simulated days.
    candidates = []
    if day.world.until is None or late_on <= day.world.until:
        candidates = [Candidate(D.NOT_REKEYED, None), Candidate(D.REKEYED_LATE, None)]
    if day.ledger.planted_on("nova", "decision", decision_id):
        candidates = []  # a decision typed wrong is not also keyed late
    planted = day.ledger.injector.choose(rng, candidates)
    rekey_on = add_business_days(
        day.date, rng.randint(REKEY_MIN_BUSINESS_DAYS, REKEY_MAX_BUSINESS_DAYS), province
    )
    if planted is not None:
        day.ledger.record(
            "nova", "decision", str(decision_id), planted, None, "keyed within 5 business days",
            day.moment(rng),
        )  # fmt: skip
        if planted.defect_class == D.NOT_REKEYED:
            return
        rekey_on = late_on
    day.world.agenda.add(
        rekey_on, "rekey", case.case_no, division.value, file_number, outcome, day.date,
        planted is not None,
    )  # fmt: skip


def rekey(
    day: Day, case_no: str, division: str, file_number: str, outcome: str, decided_on: dt.date,
    late: bool = False,
) -> None:  # fmt: skip
    """A CBSA clerk keys the faxed ID or IAD decision into GCMS, and acts on it.

    A decision keyed late is keyed without another error (which could hide it).
    """
    world = day.world
    case = world.cases[case_no]
    person = world.person_of(case)
    rng = day.rng("rekey")
    type_gcms.manual_decision(
        day, person, Division(division), file_number, outcome, decided_on, rng, plain=late
    )
    if case.status != "OPEN":
        return
    if division == Division.ID.value:
        if outcome == "RMO":
            enforcement.make_order(day, case, rng, authority="ID", made_on=decided_on)
        else:
            enforcement.close_case(day, case, rng, reason="ID decision: no removal order")
        return
    if outcome == "ALW":
        enforcement.close_case(day, case, rng, reason="IAD allowed the appeal")
    elif outcome == "STY":
        enforcement.add_stay(day, case, StayType.IAD, rng)
        enforcement.in_force(day, case, rng)
    else:
        enforcement.in_force(day, case, rng)


def iad_appeal(day: Day, case: Case, rng: random.Random) -> None:
    """A permanent resident appeals the removal order to the IAD."""
    person = day.world.person_of(case)
    file_number = type_nova.case_file(
        day, person, Proceeding.REMOVAL_APPEAL, _region(case), day.date, rng
    )
    day.world.iad_files[case.case_no] = file_number
    day.world.agenda.add(day.later(rng.randint(150, 400)), "iad_decision", case.case_no)
    enforcement.reassess(day, case, rng)


def iad_decision(day: Day, case_no: str) -> None:
    world = day.world
    case = world.cases[case_no]
    file_number = world.iad_files.get(case_no)
    if case.status != "OPEN" or file_number is None:
        return
    rng = day.rng("iad")
    outcome = intake.weighted(rng, day.params.iad_outcomes)
    type_nova.hearing(day, file_number, day.date, rng)
    decision_id = type_nova.decision(
        day, file_number, Division.IAD, outcome, day.date, rng, _region(case)
    )
    _schedule_rekey(day, case, Division.IAD, file_number, outcome, decision_id, rng)
