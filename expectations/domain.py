"""Inventory health from DOMAIN.md: warnings for analysts, checked in the full validation.

Nothing here is a typing error: a departure order that should have become a
deportation order, a file nobody worked for months, an officer over the
maximum caseload, a criminal case not reviewed this year.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, false, func, select, true

from expectations.chart_sql import SERIOUS_GROUNDS
from expectations.rules import Query, Rule, Scope, Severity
from schemas import gcms, ncms
from schemas.codes import (
    DEPARTURE_ORDER_DAYS,
    DORMANT_DAYS,
    REVIEW_CYCLE_YEARS_CRIMINAL,
    REVIEW_CYCLE_YEARS_FAILED_CLAIMANT,
    WORKING_INVENTORIES,
    OrderStatus,
    OrderType,
)

if TYPE_CHECKING:
    from sqlalchemy import Select


def _full_only(scope: Scope) -> Any:
    return true() if scope.kind == "full" else false()


def _as_of_day(scope: Scope) -> dt.date:
    return scope.night + dt.timedelta(days=1)


def _departure_not_converted(scope: Scope) -> Select:
    order, stay, departure = gcms.RemovalOrder, gcms.Stay, gcms.DepartureConfirmation
    deadline = _as_of_day(scope) - dt.timedelta(days=DEPARTURE_ORDER_DAYS + 1)
    stayed = select(stay.order_id).where(stay.order_id == order.order_id).exists()
    departed = select(departure.order_id).where(departure.order_id == order.order_id).exists()
    return select(order.order_id.label("key"), order.in_force_on.label("value")).where(
        _full_only(scope),
        order.order_type == OrderType.DEPARTURE.value,
        order.status == OrderStatus.IN_FORCE.value,
        order.in_force_on < deadline,
        order.deemed_deportation_on.is_(None),
        ~stayed,
        ~departed,
    )


def _working(case: type[ncms.RemovalCase]) -> Any:
    return and_(
        case.case_status == "OPEN", case.inventory.in_(sorted(i.value for i in WORKING_INVENTORIES))
    )


def _dormant(scope: Scope) -> Select:
    case, activity = ncms.RemovalCase, ncms.CaseActivity
    since = _as_of_day(scope) - dt.timedelta(days=DORMANT_DAYS)
    recent = (
        select(activity.case_no)
        .where(activity.case_no == case.case_no, activity.activity_on >= since)
        .exists()
    )
    return select(
        case.case_no.label("key"), case.inventory.label("value"), case.office_code.label("office")
    ).where(_full_only(scope), _working(case), case.opened_on < since, ~recent)


def _over_caseload(scope: Scope) -> Select:
    case, officer = ncms.RemovalCase, ncms.Officer
    load = (
        select(case.officer_id, func.count().label("cases"))
        .where(_working(case))
        .group_by(case.officer_id)
        .subquery()
    )
    return (
        select(
            officer.officer_id.label("key"),
            load.c.cases.label("value"),
            officer.office_code.label("office"),
        )
        .join(load, load.c.officer_id == officer.officer_id)
        .where(_full_only(scope), load.c.cases > officer.max_caseload)
    )


def _review_overdue(years: int, serious: bool, scope: Scope) -> Select:
    case = ncms.RemovalCase
    due = _as_of_day(scope) - dt.timedelta(days=365 * years)
    which = (
        case.irpa_ground.in_(SERIOUS_GROUNDS)
        if serious
        else and_(case.is_failed_claimant.is_(True), case.irpa_ground.not_in(SERIOUS_GROUNDS))
    )
    return select(
        case.case_no.label("key"),
        case.last_review_on.label("value"),
        case.office_code.label("office"),
    ).where(
        _full_only(scope),
        case.case_status == "OPEN",
        which,
        func.coalesce(case.last_review_on, case.opened_on) < due,
    )


def suite() -> list[Rule]:
    """The inventory-health warnings."""
    from functools import partial

    return [
        Rule(
            "domain.gcms.departure_order.converted",
            f"departure order: over {DEPARTURE_ORDER_DAYS} days in force and not converted",
            "gcms",
            "removal_order",
            "order_id",
            "deemed_deportation_on",
            Query(_departure_not_converted),
            severity=Severity.WARNING,
            correct_entry=(
                "deemed_deportation_on recorded once a departure order is 30 days unconfirmed"
            ),
        ),
        Rule(
            "domain.ncms.removal_case.dormant",
            f"removal case: in the working inventory with no recorded work for {DORMANT_DAYS} days",
            "ncms",
            "removal_case",
            "case_no",
            "inventory",
            Query(_dormant),
            severity=Severity.WARNING,
            office="office",
            correct_entry="an activity noted on the file at least every 180 days",
        ),
        Rule(
            "domain.ncms.officer.caseload",
            "officer: carries more working-inventory cases than the maximum",
            "ncms",
            "officer",
            "officer_id",
            "max_caseload",
            Query(_over_caseload),
            severity=Severity.WARNING,
            office="office",
            correct_entry="no more working-inventory cases than the officer's maximum",
        ),
        Rule(
            "domain.ncms.removal_case.criminal_review",
            "criminal case: not reviewed in the past year",
            "ncms",
            "removal_case",
            "case_no",
            "last_review_on",
            Query(partial(_review_overdue, REVIEW_CYCLE_YEARS_CRIMINAL, True)),
            severity=Severity.WARNING,
            office="office",
            correct_entry="last_review_on within the past year",
        ),
        Rule(
            "domain.ncms.removal_case.failed_claimant_review",
            "failed-claimant case: not reviewed in the past 3 years",
            "ncms",
            "removal_case",
            "case_no",
            "last_review_on",
            Query(partial(_review_overdue, REVIEW_CYCLE_YEARS_FAILED_CLAIMANT, False)),
            severity=Severity.WARNING,
            office="office",
            correct_entry="last_review_on within the past 3 years",
        ),
    ]
