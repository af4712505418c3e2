"""NCMS (CBSA) suite: removal cases, impediments, warrants, detentions and their reviews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, exists, or_, select

from connectors import dialect
from expectations import lifecycle, time_limits
from expectations.chart_sql import expected_priority
from expectations.common import mandatory
from expectations.rules import InOrder, InSet, Matches, Query, Rule, Scope
from schemas import ncms
from schemas.codes import (
    DETENTION_FIRST_REVIEW_HOURS,
    GROUND_CODES,
    UCI_PATTERN,
    ArrestReason,
    Facility,
    Impediment,
    Inventory,
    Priority,
    WarrantCancellation,
    WarrantType,
    all_codes,
    possible_order_types,
)


def _priority_inconsistent(scope: Scope) -> Select:
    case = ncms.RemovalCase
    expected = expected_priority(
        case.irpa_ground, case.is_failed_claimant, case.is_irregular_migrant
    )
    return select(
        case.case_no.label("key"), case.priority.label("value"), case.office_code.label("office")
    ).where(
        case.irpa_ground.in_(GROUND_CODES),
        case.priority.is_not(None),
        case.priority != expected,
        scope.changed(case.updated_at),
    )


def _order_type_outside_chart(scope: Scope) -> Select:
    """NCMS's copy of an order whose type no chart row allows on its ground (any status)."""
    case = ncms.RemovalCase
    allowed = [
        and_(case.irpa_ground == ground, case.order_type.in_(sorted(t.value for t in types)))
        for ground in GROUND_CODES
        if (types := possible_order_types(ground))
    ]
    return select(
        case.case_no.label("key"), case.order_type.label("value"), case.office_code.label("office")
    ).where(
        case.entered_by.not_like("FEED:%"),
        case.irpa_ground.in_(GROUND_CODES),
        case.order_type.is_not(None),
        ~or_(*allowed),
        scope.changed(case.updated_at),
    )


def _reviewed_before_arrest(scope: Scope) -> Select:
    review, detention = ncms.DetentionReview, ncms.Detention
    return (
        select(
            review.review_id.label("key"),
            review.held_at.label("value"),
            detention.detention_id.label("related_key"),
        )
        .join(detention, detention.detention_id == review.detention_id)
        .where(review.held_at < detention.arrested_at, scope.changed(review.updated_at))
    )


def _first_review_missing(scope: Scope) -> Select:
    """Detained past 48 hours with no ID review recorded."""
    detention, review = ncms.Detention, ncms.DetentionReview
    limit = dt.timedelta(hours=DETENTION_FIRST_REVIEW_HOURS)
    reviewed = exists().where(review.detention_id == detention.detention_id)
    return select(detention.detention_id.label("key"), detention.arrested_at.label("value")).where(
        detention.arrested_at.is_not(None),
        scope.matured(detention.arrested_at, limit),
        or_(
            detention.released_at.is_(None),
            detention.released_at > dialect.add_days(detention.arrested_at, limit.days),
        ),
        ~reviewed,
    )


def suite() -> list[Rule]:
    """Every rule on NCMS's hand-typed records."""
    return [
        *mandatory("ncms", "removal_case", "case_no", office="office_code"),
        Rule(
            "ncms.removal_case.uci.format",
            "removal case: UCI must read 0000-0000 or 00-0000-0000",
            "ncms",
            "removal_case",
            "case_no",
            "uci",
            Matches("uci", UCI_PATTERN),
            defect_class="malformed_uci",
            office="office_code",
            correct_entry="a UCI of 8 digits as 0000-0000 or 10 digits as 00-0000-0000",
        ),
        Rule(
            "ncms.removal_case.inventory.code",
            "removal case: inventory must be a known NCMS inventory",
            "ncms",
            "removal_case",
            "case_no",
            "inventory",
            InSet("inventory", all_codes(Inventory)),
            defect_class="unknown_code",
            office="office_code",
            correct_entry="WIP-RR, WIP-IMP, WANTED, MON, MON-STY or CLOSED",
        ),
        Rule(
            "ncms.removal_case.priority.code",
            "removal case: priority must be P1-IMFC, P1-SI, P2 or P3",
            "ncms",
            "removal_case",
            "case_no",
            "priority",
            InSet("priority", all_codes(Priority)),
            defect_class="unknown_code",
            office="office_code",
            correct_entry="P1-IMFC, P1-SI, P2 or P3",
        ),
        Rule(
            "ncms.removal_case.irpa_ground.code",
            "removal case: IRPA ground must be a known provision",
            "ncms",
            "removal_case",
            "case_no",
            "irpa_ground",
            InSet("irpa_ground", GROUND_CODES),
            defect_class="unknown_code",
            office="office_code",
            correct_entry="an IRPA provision as casesync writes it: 34, 36(1)(a), 41(a)...",
        ),
        Rule(
            "ncms.removal_case.priority.ground",
            "removal case: priority does not follow from the ground and the claim history",
            "ncms",
            "removal_case",
            "case_no",
            "priority",
            Query(_priority_inconsistent),
            defect_class="priority_inconsistent",
            office="office_code",
            correct_entry=(
                "P1-SI for s.34-37; P1-IMFC irregular failed claimant; P2 failed claimant; else P3"
            ),
        ),
        *mandatory("ncms", "case_impediment", "impediment_id"),
        Rule(
            "ncms.case_impediment.impediment_code.code",
            "impediment: code must be a known impediment",
            "ncms",
            "case_impediment",
            "impediment_id",
            "impediment_code",
            InSet("impediment_code", all_codes(Impediment)),
            defect_class="unknown_code",
            correct_entry="PRRA, JR, STAY, NO-TD, MED, TSR, ADR or SENT",
        ),
        *mandatory("ncms", "interview", "interview_id"),
        *mandatory("ncms", "td_request", "td_request_id"),
        *mandatory("ncms", "warrant", "warrant_no"),
        Rule(
            "ncms.warrant.warrant_type.code",
            "warrant: type must be a known warrant type",
            "ncms",
            "warrant",
            "warrant_no",
            "warrant_type",
            InSet("warrant_type", all_codes(WarrantType)),
            defect_class="unknown_code",
            correct_entry="REM, EXA, HRG or MDR",
        ),
        Rule(
            "ncms.warrant.cancellation_reason.code",
            "warrant: cancellation reason must be a known reason",
            "ncms",
            "warrant",
            "warrant_no",
            "cancellation_reason",
            InSet("cancellation_reason", all_codes(WarrantCancellation)),
            defect_class="unknown_code",
            correct_entry="SURR, DEPT, STAT, DCSD or ERR",
        ),
        *mandatory("ncms", "detention", "detention_id"),
        Rule(
            "ncms.detention.arrest_reason.code",
            "detention: arrest reason must be a known reason",
            "ncms",
            "detention",
            "detention_id",
            "arrest_reason",
            InSet("arrest_reason", all_codes(ArrestReason)),
            defect_class="unknown_code",
            correct_entry=(
                "Identity, Examination, Admissibility Hearing, Minister's Delegate Review or "
                "Removal"
            ),
        ),
        Rule(
            "ncms.detention.facility_type.code",
            "detention: facility must be IHC, PROV or OTHER",
            "ncms",
            "detention",
            "detention_id",
            "facility_type",
            InSet("facility_type", all_codes(Facility)),
            defect_class="unknown_code",
            correct_entry="IHC, PROV or OTHER",
        ),
        Rule(
            "ncms.detention.first_review",
            f"detention: held past {DETENTION_FIRST_REVIEW_HOURS} hours with no ID review recorded",
            "ncms",
            "detention",
            "detention_id",
            "arrested_at",
            Query(_first_review_missing),
            defect_class="detention_review_overdue",
            correct_entry=(
                "a first ID review within 48 hours of the arrest, or the release recorded"
            ),
        ),
        *mandatory("ncms", "detention_review", "review_id"),
        Rule(
            "ncms.detention_review.on_time",
            "detention review: held after it was due (s.57)",
            "ncms",
            "detention_review",
            "review_id",
            "held_at",
            InOrder(earlier="held_at", later="due_at"),
            defect_class="detention_review_overdue",
            correct_entry="held_at on or before due_at",
        ),
        Rule(
            "ncms.detention_review.after_arrest",
            "detention review: held before the arrest",
            "ncms",
            "detention_review",
            "review_id",
            "held_at",
            Query(_reviewed_before_arrest),
            defect_class="date_out_of_order",
            related=("ncms", "detention"),
            correct_entry="held_at after the detention's arrested_at",
        ),
        Rule(
            "ncms.removal_case.order_type.chart",
            "removal case: the order type NCMS holds is not one the chart allows for the ground",
            "ncms",
            "removal_case",
            "case_no",
            "order_type",
            Query(_order_type_outside_chart),
            defect_class="ncms_order_type",
            office="office",
            correct_entry="the order type of the GCMS order, which the chart allows for the ground",
        ),
        *lifecycle.rules_for("ncms"),
        *time_limits.suite_ncms(),
    ]
