"""NOVA (IRB) suite: parties, case files, filings, decisions."""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from expectations import lifecycle, time_limits
from expectations.common import mandatory
from expectations.rules import InSet, Matches, Query, Rule, Scope
from schemas import nova
from schemas.codes import (
    COUNTRIES,
    IRB_FILE_PATTERN,
    OUTCOMES,
    PROCEEDING_DIVISION,
    UCI_PATTERN,
    DetentionReviewOutcome,
    Division,
    FilingType,
    all_codes,
)


def _unknown_outcome(scope: Scope) -> Select:
    """Final decisions whose (known) outcome code belongs to another division."""
    decision, case_file = nova.Decision, nova.CaseFile
    known = [
        and_(
            case_file.division == division.value,
            decision.outcome_code.in_([o.nova for o in OUTCOMES if o.division is division]),
        )
        for division in Division
    ]
    every = [o.nova for o in OUTCOMES]
    return (
        select(decision.decision_id.label("key"), decision.outcome_code.label("value"))
        .join(case_file, case_file.file_number == decision.file_number)
        .where(
            decision.is_final.is_(True),
            decision.outcome_code.in_(every),
            ~or_(*known),
            scope.changed(decision.updated_at),
        )
    )


def _decided_before_referral(scope: Scope) -> Select:
    decision, case_file = nova.Decision, nova.CaseFile
    return (
        select(
            decision.decision_id.label("key"),
            decision.decided_on.label("value"),
            case_file.file_number.label("related_key"),
        )
        .join(case_file, case_file.file_number == decision.file_number)
        .where(decision.decided_on < case_file.referred_on, scope.changed(decision.updated_at))
    )


def _decided_in_future(scope: Scope) -> Select:
    decision = nova.Decision
    return select(decision.decision_id.label("key"), decision.decided_on.label("value")).where(
        decision.decided_on > decision.entered_at, scope.changed(decision.updated_at)
    )


def suite() -> list[Rule]:
    """Every rule on NOVA's tables."""
    outcome_codes = tuple(o.nova for o in OUTCOMES) + tuple(d.value for d in DetentionReviewOutcome)
    return [
        *mandatory("nova", "party", "party_id"),
        Rule(
            "nova.party.uci.format",
            "party: UCI must read 0000-0000 or 00-0000-0000",
            "nova",
            "party",
            "party_id",
            "uci",
            Matches("uci", UCI_PATTERN),
            defect_class="malformed_uci",
            correct_entry="a UCI of 8 digits as 0000-0000 or 10 digits as 00-0000-0000",
        ),
        Rule(
            "nova.party.citizenship.code",
            "party: citizenship must be a known country code",
            "nova",
            "party",
            "party_id",
            "citizenship",
            InSet("citizenship", tuple(sorted(COUNTRIES))),
            defect_class="unknown_code",
            correct_entry="a three-letter ISO country code, for example IND",
        ),
        *mandatory("nova", "case_file", "file_number"),
        Rule(
            "nova.case_file.file_number.format",
            "case file: IRB file number must read like TB1-12345 (or 0003-1234567 at the ID)",
            "nova",
            "case_file",
            "file_number",
            "file_number",
            Matches("file_number", IRB_FILE_PATTERN),
            defect_class="malformed_irb_file",
            correct_entry=(
                "two letters, a digit, a hyphen, five digits (TB1-12345), or 0001-/0003-/0018- "
                "and digits"
            ),
        ),
        Rule(
            "nova.case_file.proceeding.code",
            "case file: proceeding must be a NOVA proceeding code",
            "nova",
            "case_file",
            "file_number",
            "proceeding",
            InSet("proceeding", tuple(p.value for p in PROCEEDING_DIVISION)),
            defect_class="unknown_code",
            correct_entry="CLAIM, APPEAL, ADMHRG, DETREV or RMAPL",
        ),
        *mandatory("nova", "filing", "filing_id"),
        Rule(
            "nova.filing.filing_type.code",
            "filing: type must be a NOVA filing code",
            "nova",
            "filing",
            "filing_id",
            "filing_type",
            InSet("filing_type", all_codes(FilingType)),
            defect_class="unknown_code",
            correct_entry="RFR, NOA, APR, A44 or D57",
        ),
        *mandatory("nova", "decision", "decision_id"),
        Rule(
            "nova.decision.outcome_code.code",
            "decision: outcome must be a NOVA outcome code",
            "nova",
            "decision",
            "decision_id",
            "outcome_code",
            InSet("outcome_code", outcome_codes),
            defect_class="unknown_code",
            correct_entry="one of NOVA's outcome codes (ACC, REJ, CNF, RMO, ALW...)",
        ),
        Rule(
            "nova.decision.outcome_code.division",
            "final decision: outcome must belong to the case's division",
            "nova",
            "decision",
            "decision_id",
            "outcome_code",
            Query(_unknown_outcome),
            defect_class="unknown_code",
            correct_entry="an outcome of the file's own division (RPD: ACC/REJ/ABN/WDO...)",
        ),
        Rule(
            "nova.decision.decided_on.after_referral",
            "decision: decided on a date before the case was referred or filed",
            "nova",
            "decision",
            "decision_id",
            "decided_on",
            Query(_decided_before_referral),
            defect_class="date_out_of_order",
            related=("nova", "case_file"),
            correct_entry="decided_on on or after the file's referral date",
        ),
        Rule(
            "nova.decision.decided_on.not_future",
            "decision: decision date later than the day it was entered",
            "nova",
            "decision",
            "decision_id",
            "decided_on",
            Query(_decided_in_future),
            defect_class="future_date",
            correct_entry="decided_on on or before the day the decision is entered",
        ),
        *lifecycle.rules_for("nova"),
        *time_limits.suite_nova(),
    ]
