"""IRB staff typing into NOVA: parties, case files, filings, hearings, decisions."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from schemas.calendar import at_local
from schemas.codes import PROCEEDING_DIVISION, Division, Proceeding, outcomes
from seed.defects import Candidate, Elsewhere, blank, malformed_uci, one_of, shifted_date
from seed.defects import DefectClass as D

if TYPE_CHECKING:
    import random

    from seed.context import Day
    from seed.world import Person

#: Outcome codes a clerk might type that NOVA does not have.
_BAD_OUTCOMES = ["RJ", "ACP", "XXX", "NEG", "POS", "RE"]


def party(day: Day, person: Person, region: str, rng: random.Random) -> int:
    """Register a person as a party to IRB proceedings (once per person)."""
    if person.party_id is not None:
        return person.party_id
    person.party_id = day.world.numbering.next("nova:party")
    row = {
        "party_id": person.party_id,
        "uci": person.uci,
        "family_name": person.surname,
        "given_names": person.given_name,
        "birth_on": person.birth_on,
        "citizenship": person.citizenship,
        "hearing_language": "FR" if person.province == "QC" else "EN",
        "interpreter_language": None
        if person.language in ("English", "French")
        else person.language,
    }
    missing = rng.choice(["family_name", "birth_on", "citizenship"])
    day.ledger.enter(
        "nova",
        "party",
        row,
        at=day.moment(rng),
        by=day.clerk(rng, "IRB", region),
        rng=rng,
        candidates=[
            Candidate(D.MALFORMED_UCI, "uci", malformed_uci(person.uci)),
            Candidate(D.MISSING_MANDATORY, missing, blank()),
        ],
    )
    return person.party_id


def case_file(
    day: Day,
    person: Person,
    proceeding: Proceeding,
    region: str,
    referred_on: dt.date,
    rng: random.Random,
    *,
    parent: str | None = None,
    candidates: list[Candidate] | None = None,
) -> str:
    """Open an IRB case file; NOVA numbers it. Also types its opening filing."""
    division = PROCEEDING_DIVISION[proceeding]
    party_id = party(day, person, region, rng)
    file_number = day.world.numbering.irb_file(division, region, referred_on.year)
    day.world.file_referred[file_number] = referred_on
    at = day.moment(rng)
    clerk = day.clerk(rng, "IRB", region)
    day.ledger.enter(
        "nova",
        "case_file",
        {
            "file_number": file_number,
            "division": division.value,
            "proceeding": proceeding.value,
            "party_id": party_id,
            "region": region,
            "referred_on": referred_on,
            "parent_file_number": parent,
            "status": "OP",
            "is_irregular_arrival": person.irregular and division is Division.RPD,
        },
        at=at,
        by=clerk,
        rng=rng,
        candidates=[Candidate(D.MISSING_MANDATORY, "referred_on", blank()), *(candidates or [])],
    )
    filing_type = {
        Proceeding.CLAIM: "RFR",
        Proceeding.APPEAL: "NOA",
        Proceeding.ADMISSIBILITY: "A44",
        Proceeding.DETENTION_REVIEW: "D57",
        Proceeding.REMOVAL_APPEAL: "NOA",
    }[proceeding]
    notice = filing(day, file_number, filing_type, referred_on, rng, region)
    if proceeding is Proceeding.APPEAL:
        day.world.notices[file_number] = notice
    return file_number


def filing(
    day: Day, file_number: str, filing_type: str, filed_on: dt.date, rng: random.Random,
    region: str, *, candidates: list[Candidate] | None = None,
) -> int:  # fmt: skip
    """Record a document filed on a case; its filing id."""
    filing_id = day.world.numbering.next("nova:filing")
    day.ledger.enter(
        "nova",
        "filing",
        {
            "filing_id": filing_id,
            "file_number": file_number,
            "filing_type": filing_type,
            "filed_on": filed_on,
        },
        at=day.moment(rng),
        by=day.clerk(rng, "IRB", region),
        rng=rng,
        candidates=[Candidate(D.MISSING_MANDATORY, "filed_on", blank()), *(candidates or [])],
    )
    return filing_id


def hearing(day: Day, file_number: str, held_on: dt.date, rng: random.Random) -> None:
    """A sitting of the division (scheduled by NOVA, not typed by hand)."""
    day.ledger.enter(
        "nova",
        "hearing",
        {
            "hearing_id": day.world.numbering.next("nova:hearing"),
            "file_number": file_number,
            "scheduled_on": held_on,
            "held_on": held_on,
            "member_id": f"M{rng.randrange(100, 999)}",
        },
        at=day.moment(rng),
        by="NOVA:SCHEDULER",
    )


def decision(
    day: Day,
    file_number: str,
    division: Division,
    outcome: str,
    decided_on: dt.date,
    rng: random.Random,
    region: str,
    *,
    final: bool = True,
    reasons_on: dt.date | None = None,
    reasons_now: bool = False,
    plain: bool = False,
) -> int:
    """Type a decision. Final decisions carry the division's outcome code.

    The written reasons go out `reasons_on` (drawn when not given); NOVA
    records the date when they go out, never ahead of it. `reasons_now` (the
    back-filled history) types that later entry at once, dated on its day.
    """
    decision_id = day.world.numbering.next("nova:decision", 5_000_000)
    referred_on = day.world.file_referred.get(file_number, decided_on)
    if final and reasons_on is None:
        reasons_on = reasons_date(decided_on, rng)
    sent_later = reasons_on is not None and reasons_on > day.date
    row = {
        "decision_id": decision_id,
        "file_number": file_number,
        "is_final": final,
        "outcome_code": outcome,
        "decided_on": decided_on,
        "reasons_on": None if sent_later else reasons_on,
        "member_id": f"M{rng.randrange(100, 999)}",
    }
    candidates = None
    at = day.moment(rng, late=True)
    if final:
        valid = {o.nova for o in outcomes(division)}
        missing = rng.choice(["outcome_code", "decided_on"])
        candidates = [
            Candidate(
                D.UNKNOWN_CODE, "outcome_code", one_of([c for c in _BAD_OUTCOMES if c not in valid])
            ),
            Candidate(D.DATE_OUT_OF_ORDER, "decided_on", shifted_date(referred_on, -90, -3)),
            Candidate(D.FUTURE_DATE, "decided_on", shifted_date(at.date(), 20, 400)),
            Candidate(D.MISSING_MANDATORY, missing, blank()),
        ]
        # A decision the RAD cannot hear (any but a rejected claim): its reasons date and
        # its finality are nobody's clock but its own.
        if not (division is Division.RPD and outcome == "REJ"):
            if row["reasons_on"] is not None:
                candidates += [
                    Candidate(D.REASONS_FUTURE, "reasons_on", shifted_date(at.date(), 3, 30)),
                    Candidate(D.REASONS_BEFORE_DECISION, "reasons_on",
                              shifted_date(decided_on, -20, -1)),
                ]  # fmt: skip
            if division in (Division.RPD, Division.RAD):
                candidates.append(
                    Candidate(D.FINALIZED_FILE_WITHOUT_DECISION, "is_final",
                              one_of([Elsewhere(False, "case_file", file_number, "status", "FN")]))
                )  # fmt: skip
    day.ledger.enter(
        "nova",
        "decision",
        row,
        at=at,
        by=day.clerk(rng, "IRB", region),
        rng=rng if candidates else None,
        candidates=[] if plain and candidates else candidates,
    )
    if final:
        day.ledger.amend("nova", "case_file", file_number, {"status": "FN"}, at=at)
    if sent_later and reasons_on is not None:
        if reasons_now:
            reasons_sent(day, decision_id, reasons_on, at=at_local(reasons_on, 60))
        else:
            day.world.agenda.add(reasons_on, "reasons_sent", decision_id, reasons_on)
    return decision_id


def reasons_date(decided_on: dt.date, rng: random.Random) -> dt.date:
    """When the written reasons of a final decision go out (the same day, or up to 10 days on)."""
    return decided_on + dt.timedelta(days=rng.randint(0, 10))


def reasons_sent(
    day: Day, decision_id: int, reasons_on: dt.date, *, at: dt.datetime | None = None
) -> None:
    """The clerk records the day the written reasons went out."""
    moment = at or day.moment(day.rng("reasons"))
    day.ledger.amend("nova", "decision", decision_id, {"reasons_on": reasons_on}, at=moment)
