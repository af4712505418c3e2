"""IRCC and CBSA staff typing into GCMS: clients, reports, orders, decisions, litigation..."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemas.codes import (
    FOREIGN_NATIONAL_ONLY_GROUNDS,
    GROUND_CODES,
    NOVA_TO_GCMS_OUTCOME,
    PERMANENT_RESIDENT_ONLY_GROUNDS,
    Authority,
    Division,
    OrderType,
    Status,
    outcomes,
)
from seed.defects import (
    Candidate,
    Elsewhere,
    blank,
    malformed_irb_file,
    malformed_uci,
    one_of,
    shifted_date,
)
from seed.defects import DefectClass as D

if TYPE_CHECKING:
    import datetime as dt
    import random

    from seed.context import Day
    from seed.world import Case, Person

_BAD_GROUNDS = ["36(3)(a)", "41(c)", "A36", "63", "34(2)", "40(2)"]
_BAD_WARRANT_TYPES = ["RMV", "ARR", "WAR", "R"]


def client(day: Day, person: Person, rng: random.Random, *, at: dt.datetime | None = None) -> None:
    """Create the GCMS client record of a person IRCC has not seen before."""
    missing = rng.choice(["surname", "date_of_birth", "citizenship"])
    day.ledger.enter(
        "gcms",
        "client",
        client_row(person, person.uci),
        at=at or day.moment(rng),
        by=day.clerk(rng, "IRCC"),
        rng=rng,
        candidates=[Candidate(D.MISSING_MANDATORY, missing, blank())],
    )
    day.world.known_ucis.add(person.uci)


def client_row(person: Person, uci: str) -> dict[str, Any]:
    return {
        "uci": uci,
        "surname": person.surname,
        "given_name": person.given_name,
        "date_of_birth": person.birth_on,
        "country_of_birth": person.citizenship,
        "citizenship": person.citizenship,
        "sex": person.sex,
        "preferred_language": "F" if person.province == "QC" else "E",
        "immigration_status": person.status,
        "address_line": person.address[0],
        "city": person.address[1],
        "province": person.address[2],
        "postal_code": person.address[3],
    }


def duplicate_client(day: Day, person: Person, at: dt.datetime) -> Candidate:
    """The clerk does not find the existing client and creates a second one (a new UCI)."""

    def create(_rng: random.Random) -> Elsewhere:
        uci = day.world.numbering.uci(day.date.year)
        day.ledger.enter("gcms", "client", client_row(person, uci), at=at, by="IRCC-DUP")
        day.world.known_ucis.add(uci)
        return Elsewhere(uci, "client", uci)

    return Candidate(D.DUPLICATE_CLIENT, "uci", create)


def ground_for_another_status(person: Person, *, order: bool) -> Candidate:
    """A ground typed that cannot concern the person's status in GCMS.

    A permanent resident reported or ordered removed on a ground that reaches
    foreign nationals only (36(2), 41(a)...), or a foreign national or
    protected person on 41(b), the permanent residents' residency obligation.
    """
    if person.status == Status.PERMANENT_RESIDENT:
        klass = (
            D.ORDER_GROUND_NOT_FOR_PERMANENT_RESIDENTS
            if order
            else D.REPORT_GROUND_NOT_FOR_PERMANENT_RESIDENTS
        )
        return Candidate(klass, "irpa_ground", one_of(sorted(FOREIGN_NATIONAL_ONLY_GROUNDS)))
    klass = (
        D.ORDER_GROUND_FOR_PERMANENT_RESIDENTS_ONLY
        if order
        else D.REPORT_GROUND_FOR_PERMANENT_RESIDENTS_ONLY
    )
    return Candidate(klass, "irpa_ground", one_of(sorted(PERMANENT_RESIDENT_ONLY_GROUNDS)))


def report(day: Day, case: Case, person: Person, rng: random.Random, *, new_client: bool) -> None:
    """A s.44(1) inadmissibility report."""
    at = day.moment(rng)
    candidates = [
        Candidate(D.MALFORMED_UCI, "uci", malformed_uci(person.uci)),
        Candidate(D.UNKNOWN_CODE, "irpa_ground", one_of(_BAD_GROUNDS)),
        Candidate(D.MISSING_MANDATORY, "written_on", blank()),
        ground_for_another_status(person, order=False),
    ]
    if not new_client:
        candidates.append(duplicate_client(day, person, at))
    day.ledger.enter(
        "gcms",
        "inadmissibility_report",
        {
            "report_id": case.report_id,
            "uci": person.uci,
            "irpa_ground": case.ground,
            "non_compliance": case.non_compliance,
            "written_on": day.date,
            "office_code": case.office,
            "md_reviewed_on": None,
            "md_decision": None,
            "referral_file_no": None,
        },
        at=at,
        by=day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=candidates,
    )


def md_review(
    day: Day, case: Case, decision: str, rng: random.Random, *, referral: str | None = None
) -> None:
    """The Minister's Delegate's review of the report, typed onto it."""
    fields = {"md_reviewed_on": day.date, "md_decision": decision, "referral_file_no": referral}
    at = day.moment(rng, late=True)
    planted = None
    if referral:
        planted = day.ledger.injector.choose(
            rng, [Candidate(D.MALFORMED_IRB_FILE, "referral_file_no", malformed_irb_file(referral))]
        )
    day.ledger.amend("gcms", "inadmissibility_report", case.report_id, fields, at=at)
    if planted is not None and planted.value is not None and referral:
        value = planted.value(rng)
        day.ledger.corrupt_later(
            "gcms", "inadmissibility_report", case.report_id, "referral_file_no",
            value, referral, planted, at,
        )  # fmt: skip


def order(
    day: Day,
    case: Case,
    person: Person,
    rng: random.Random,
    *,
    principal_order_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """A removal order, as made by the MD or (re-keyed) by the ID."""
    at = at or day.moment(rng, late=True)
    wrong_authority = Authority.ID if case.authority == Authority.MD else Authority.MD
    wrong_types = [t.value for t in OrderType if t.value != case.order_type]
    other_status = [s.value for s in Status if s.value != person.status]
    candidates = [
        Candidate(D.WRONG_AUTHORITY, "issuing_authority", one_of([wrong_authority.value])),
        Candidate(D.WRONG_ORDER_TYPE, "order_type", one_of(wrong_types)),
        Candidate(D.FUTURE_DATE, "made_on", shifted_date(at.date(), 30, 300)),
        Candidate(D.UNKNOWN_CODE, "irpa_ground", one_of(_BAD_GROUNDS)),
        Candidate(D.STATUS_MISMATCH, "subject_status", one_of(other_status)),
        ground_for_another_status(person, order=True),
    ]
    if case.order_type != OrderType.DEPARTURE and case.made_on is not None:
        # The deemed-deportation date filled in on an exclusion or deportation order.
        candidates.append(
            Candidate(
                D.DEEMED_DEPORTATION_NOT_DEPARTURE_ORDER,
                "deemed_deportation_on",
                shifted_date(case.made_on, 30, 45),
            )
        )
    day.ledger.enter(
        "gcms",
        "removal_order",
        {
            "order_id": case.order_id,
            "uci": person.uci,
            "report_id": case.report_id,
            "irpa_ground": case.ground,
            "non_compliance": case.non_compliance,
            "issuing_authority": case.authority,
            "order_type": case.order_type,
            "subject_status": person.status,
            "is_refugee_claimant": case.is_claimant,
            "is_vulnerable": person.vulnerable,
            "principal_order_id": principal_order_id,
            "made_on": case.made_on,
            "in_force_on": case.in_force_on,
            "status": case.order_status,
            "deemed_deportation_on": None,
            "id_file_no": case.id_file,
        },
        at=at,
        by=day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=candidates,
    )


def order_update(
    day: Day,
    case: Case,
    fields: dict[str, Any],
    rng: random.Random,
    *,
    candidates: list[Candidate] | None = None,
) -> Candidate | None:
    """A change to an order: in force, stayed, enforced, deemed a deportation order."""
    return day.ledger.amend(
        "gcms", "removal_order", case.order_id, fields, at=day.moment(rng, late=True),
        rng=rng if candidates else None, candidates=candidates,
    )  # fmt: skip


def manual_decision(
    day: Day,
    person: Person,
    division: Division,
    file_number: str,
    nova_outcome: str,
    decided_on: dt.date,
    rng: random.Random,
    *,
    plain: bool = False,
) -> None:
    """Re-key an ID or IAD decision received by fax or mail (there is no interface).

    `plain`: typed without an error (its lateness is the error already made).
    """
    outcome = NOVA_TO_GCMS_OUTCOME[nova_outcome]
    others = [o.gcms for o in outcomes(division) if o.gcms != outcome]
    at = day.moment(rng)
    rekeyed_date = Candidate(D.REKEY_MISMATCH, "decided_on", shifted_date(decided_on, -25, -2))
    candidates = [
        rng.choice([Candidate(D.REKEY_MISMATCH, "outcome", one_of(others)), rekeyed_date]),
        Candidate(D.MALFORMED_IRB_FILE, "irb_file_no", malformed_irb_file(file_number)),
    ]
    day.ledger.enter(
        "gcms",
        "irb_decision",
        {
            "decision_ref": f"G{day.world.numbering.next('gcms:decision', 1_000_000)}",
            "uci": person.uci,
            "irb_file_no": file_number,
            "division": division.value,
            "outcome": outcome,
            "decided_on": decided_on,
            "received_via": "MANUAL",
            "source_updated_at": None,
        },
        at=at,
        by=day.clerk(rng, "CBSA"),
        rng=rng,
        candidates=[] if plain else candidates,
    )


def simple(
    day: Day,
    table: str,
    row: dict[str, Any],
    rng: random.Random,
    *,
    agency: str,
    candidates: list[Candidate] | None = None,
) -> None:
    """Type a row into one of GCMS's simpler tables (travel documents, PRRA, stays...)."""
    day.ledger.enter(
        "gcms", table, row, at=day.moment(rng), by=day.clerk(rng, agency), rng=rng,
        candidates=candidates if candidates is not None else [],
    )  # fmt: skip


def bad_warrant_type() -> Candidate:
    return Candidate(D.UNKNOWN_CODE, "warrant_type", one_of(_BAD_WARRANT_TYPES))


def valid_ground(code: str) -> bool:
    return code in GROUND_CODES
