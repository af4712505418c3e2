"""GCMS (IRCC) suite: clients, reports, orders, re-keyed decisions, litigation, departures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, func, literal, or_, select, true, tuple_
from sqlalchemy.orm import aliased

from connectors import dialect
from expectations import lifecycle, time_limits
from expectations.chart_sql import expected_authority, expected_order_type
from expectations.common import mandatory
from expectations.rules import InSet, Matches, Query, Rule, Scope
from schemas import gcms
from schemas.codes import (
    COURT_FILE_PATTERN,
    GROUND_CODES,
    IRB_FILE_PATTERN,
    LITIGATION_ENTRY_DAYS,
    OUTCOMES,
    UCI_PATTERN,
    Authority,
    OrderStatus,
    OrderType,
    WarrantType,
    all_codes,
)

_FEED = "FEED:%"


def _duplicate_clients(scope: Scope) -> Select:
    """A client whose name, birth date and citizenship match an earlier-entered client.

    One pass with window functions: each identity's clients in entry order; every
    one after the first is a duplicate of the first.
    """
    client = gcms.Client
    identity = (client.surname, client.given_name, client.date_of_birth, client.citizenship)
    order = (client.entered_at, client.uci)
    changed = aliased(gcms.Client)
    touched = select(
        changed.surname, changed.given_name, changed.date_of_birth, changed.citizenship
    )
    within = (  # a night looks only at the identities of the clients it changed
        tuple_(*identity).in_(touched.where(scope.changed(changed.updated_at)))
        if scope.kind == "night"
        else true()
    )
    ranked = (
        select(
            client.uci,
            client.surname,
            client.updated_at,
            func.row_number().over(partition_by=identity, order_by=order).label("position"),
            func.first_value(client.uci).over(partition_by=identity, order_by=order).label("first"),
        )
        .where(*(column.is_not(None) for column in identity), within)
        .subquery()
    )
    return select(
        ranked.c.uci.label("key"),
        ranked.c.surname.label("value"),
        ranked.c.first.label("related_key"),
    ).where(ranked.c.position > 1, scope.changed(ranked.c.updated_at))


def _against_chart(scope: Scope, column: str, expected: Any, *, via_principal: bool) -> Select:
    """Hand-typed orders (with a known ground) whose `column` differs from the chart's value.

    The chart turns on the person's status as GCMS holds it on the client (the
    status typed on the order is only a copy); an order whose UCI names no
    client falls back on that copy.
    """
    order, client = gcms.RemovalOrder, gcms.Client
    principal = aliased(gcms.RemovalOrder)
    typed = getattr(order, column)
    status = func.coalesce(client.immigration_status, order.subject_status)
    return (
        select(
            order.order_id.label("key"),
            typed.label("value"),
            (principal.order_id if via_principal else literal(None, Integer)).label("related_key"),
        )
        .outerjoin(principal, principal.order_id == order.principal_order_id)
        .outerjoin(client, client.uci == order.uci)
        .where(
            order.entered_by.not_like(_FEED),
            order.irpa_ground.in_(GROUND_CODES),
            typed.is_not(None),
            typed != expected(order, principal, status),
            scope.changed(order.updated_at),
        )
    )


def _wrong_authority(scope: Scope) -> Select:
    def authority(order: Any, _principal: Any, status: Any) -> Any:
        return expected_authority(
            order.irpa_ground, status, order.non_compliance, order.is_vulnerable
        )

    return _against_chart(scope, "issuing_authority", authority, via_principal=False)


def _wrong_order_type(scope: Scope) -> Select:
    def order_type(order: Any, principal: Any, status: Any) -> Any:
        return expected_order_type(
            order.irpa_ground,
            status,
            order.non_compliance,
            order.is_refugee_claimant,
            principal.order_type,
        )

    return _against_chart(scope, "order_type", order_type, via_principal=True)


def _status_differs(scope: Scope) -> Select:
    """A live order whose typed subject status is not the client's status in GCMS."""
    order, client = gcms.RemovalOrder, gcms.Client
    return (
        select(
            order.order_id.label("key"),
            order.subject_status.label("value"),
            client.uci.label("related_key"),
        )
        .join(client, client.uci == order.uci)
        .where(
            order.entered_by.not_like(_FEED),
            order.status != OrderStatus.CANCELLED.value,
            order.subject_status.is_not(None),
            client.immigration_status.is_not(None),
            order.subject_status != client.immigration_status,
            or_(scope.changed(order.updated_at), scope.changed(client.updated_at)),
        )
    )


def _made_in_future(scope: Scope) -> Select:
    order = gcms.RemovalOrder
    return select(order.order_id.label("key"), order.made_on.label("value")).where(
        order.made_on > order.entered_at, scope.changed(order.updated_at)
    )


def _litigation_late(scope: Scope) -> Select:
    lit = gcms.Litigation
    deadline = dialect.add_days(lit.filed_on, LITIGATION_ENTRY_DAYS + 1)
    return select(lit.litigation_id.label("key"), lit.filed_on.label("value")).where(
        lit.entered_at >= deadline, scope.changed(lit.updated_at)
    )


def _departed_before_order(scope: Scope) -> Select:
    departure, order = gcms.DepartureConfirmation, gcms.RemovalOrder
    return (
        select(
            departure.confirmation_id.label("key"),
            departure.departed_on.label("value"),
            order.order_id.label("related_key"),
        )
        .join(order, order.order_id == departure.order_id)
        .where(departure.departed_on < order.made_on, scope.changed(departure.updated_at))
    )


def _departed_during_stay(scope: Scope) -> Select:
    departure, stay = gcms.DepartureConfirmation, gcms.Stay
    return (
        select(
            departure.confirmation_id.label("key"),
            departure.departed_on.label("value"),
            stay.stay_id.label("related_key"),
        )
        .join(stay, stay.order_id == departure.order_id)
        .where(
            stay.starts_on <= departure.departed_on,
            or_(stay.ends_on.is_(None), stay.ends_on > departure.departed_on),
            or_(scope.changed(departure.updated_at), scope.changed(stay.updated_at)),
        )
    )


def suite() -> list[Rule]:
    """Every rule on GCMS's hand-typed records."""
    gcms_outcomes = tuple(o.gcms for o in OUTCOMES)
    return [
        *mandatory("gcms", "client", "uci"),
        Rule(
            "gcms.client.duplicate",
            "client: an earlier client has the same name, birth date and citizenship",
            "gcms",
            "client",
            "uci",
            "uci",
            Query(_duplicate_clients),
            defect_class="duplicate_client",
            related=("gcms", "client"),
            correct_entry=(
                "one client per person: search by name, birth date and citizenship before "
                "creating one"
            ),
        ),
        *mandatory("gcms", "inadmissibility_report", "report_id", office="office_code"),
        Rule(
            "gcms.inadmissibility_report.uci.format",
            "report: UCI must read 0000-0000 or 00-0000-0000",
            "gcms",
            "inadmissibility_report",
            "report_id",
            "uci",
            Matches("uci", UCI_PATTERN),
            defect_class="malformed_uci",
            office="office_code",
            correct_entry="a UCI of 8 digits as 0000-0000 or 10 digits as 00-0000-0000",
        ),
        Rule(
            "gcms.inadmissibility_report.irpa_ground.code",
            "report: IRPA ground must be a known provision",
            "gcms",
            "inadmissibility_report",
            "report_id",
            "irpa_ground",
            InSet("irpa_ground", GROUND_CODES),
            defect_class="unknown_code",
            office="office_code",
            correct_entry="an IRPA provision as casesync writes it: 34, 36(1)(a), 41(a)...",
        ),
        Rule(
            "gcms.inadmissibility_report.referral_file_no.format",
            "report: the ID file number of a referral must read like 0003-1234567",
            "gcms",
            "inadmissibility_report",
            "report_id",
            "referral_file_no",
            Matches("referral_file_no", IRB_FILE_PATTERN),
            defect_class="malformed_irb_file",
            office="office_code",
            correct_entry="the ID file number as NOVA gives it, for example 0003-1234567",
        ),
        *mandatory("gcms", "removal_order", "order_id"),
        Rule(
            "gcms.removal_order.uci.format",
            "removal order: UCI must read 0000-0000 or 00-0000-0000",
            "gcms",
            "removal_order",
            "order_id",
            "uci",
            Matches("uci", UCI_PATTERN),
            defect_class="malformed_uci",
            correct_entry="a UCI of 8 digits as 0000-0000 or 10 digits as 00-0000-0000",
        ),
        Rule(
            "gcms.removal_order.irpa_ground.code",
            "removal order: IRPA ground must be a known provision",
            "gcms",
            "removal_order",
            "order_id",
            "irpa_ground",
            InSet("irpa_ground", GROUND_CODES),
            defect_class="unknown_code",
            correct_entry="an IRPA provision as casesync writes it: 34, 36(1)(a), 41(a)...",
        ),
        Rule(
            "gcms.removal_order.order_type.code",
            "removal order: type must be departure, exclusion or deportation",
            "gcms",
            "removal_order",
            "order_id",
            "order_type",
            InSet("order_type", all_codes(OrderType)),
            defect_class="unknown_code",
            correct_entry="departure, exclusion or deportation",
        ),
        Rule(
            "gcms.removal_order.issuing_authority.code",
            "removal order: issued by MD or ID",
            "gcms",
            "removal_order",
            "order_id",
            "issuing_authority",
            InSet("issuing_authority", all_codes(Authority)),
            defect_class="unknown_code",
            correct_entry="MD or ID",
        ),
        Rule(
            "gcms.removal_order.issuing_authority.chart",
            "removal order: issuing authority is not the one the chart gives for its ground",
            "gcms",
            "removal_order",
            "order_id",
            "issuing_authority",
            Query(_wrong_authority),
            defect_class="wrong_authority",
            correct_entry=(
                "the authority the chart gives for the ground and the client's GCMS status (ID "
                "for minors and the vulnerable)"
            ),
        ),
        Rule(
            "gcms.removal_order.order_type.chart",
            "removal order: order type is not the one the regulations give for its ground",
            "gcms",
            "removal_order",
            "order_id",
            "order_type",
            Query(_wrong_order_type),
            defect_class="wrong_order_type",
            related=("gcms", "removal_order"),
            correct_entry=(
                "the type the chart gives for the ground, the client's GCMS status and claim "
                "(s.42: the family member's type)"
            ),
        ),
        Rule(
            "gcms.removal_order.subject_status.client",
            "removal order: the status typed on the order is not the client's status in GCMS",
            "gcms",
            "removal_order",
            "order_id",
            "subject_status",
            Query(_status_differs),
            defect_class="status_mismatch",
            related=("gcms", "client"),
            correct_entry="subject_status as on the client's GCMS record (FN, PR or PP)",
        ),
        Rule(
            "gcms.removal_order.made_on.not_future",
            "removal order: made on a date after the day it was entered",
            "gcms",
            "removal_order",
            "order_id",
            "made_on",
            Query(_made_in_future),
            defect_class="future_date",
            correct_entry="made_on on or before the day the order is entered",
        ),
        *mandatory("gcms", "irb_decision", "decision_ref"),
        Rule(
            "gcms.irb_decision.irb_file_no.format",
            "re-keyed IRB decision: IRB file number must read like TB1-12345 or 0003-1234567",
            "gcms",
            "irb_decision",
            "decision_ref",
            "irb_file_no",
            Matches("irb_file_no", IRB_FILE_PATTERN),
            defect_class="malformed_irb_file",
            where="received_via = 'MANUAL'",
            correct_entry="the IRB file number as on the faxed decision, for example 0003-1234567",
        ),
        Rule(
            "gcms.irb_decision.outcome.code",
            "re-keyed IRB decision: outcome must be a GCMS outcome code",
            "gcms",
            "irb_decision",
            "decision_ref",
            "outcome",
            InSet("outcome", gcms_outcomes),
            defect_class="unknown_code",
            where="received_via = 'MANUAL'",
            correct_entry="one of GCMS's IRB outcome codes (ID-RMO, IAD-DIS...)",
        ),
        *mandatory("gcms", "travel_document", "td_id"),
        *mandatory("gcms", "prra_application", "prra_id"),
        *mandatory("gcms", "litigation", "litigation_id"),
        Rule(
            "gcms.litigation.court_file_no.format",
            "litigation: Federal Court file must read IMM-1234-20",
            "gcms",
            "litigation",
            "litigation_id",
            "court_file_no",
            Matches("court_file_no", COURT_FILE_PATTERN),
            defect_class="unknown_code",
            correct_entry="IMM-<number>-<two-digit year>, for example IMM-1234-20",
        ),
        Rule(
            "gcms.litigation.irb_file_no.format",
            "litigation: IRB file number must read like TB1-12345",
            "gcms",
            "litigation",
            "litigation_id",
            "irb_file_no",
            Matches("irb_file_no", IRB_FILE_PATTERN),
            defect_class="malformed_irb_file",
            correct_entry="the IRB file number of the decision under review, for example TC1-12345",
        ),
        Rule(
            "gcms.litigation.entered_on_time",
            f"litigation: entered more than {LITIGATION_ENTRY_DAYS} days after it was filed",
            "gcms",
            "litigation",
            "litigation_id",
            "entered_at",
            Query(_litigation_late),
            defect_class="litigation_late",
            correct_entry="entered within 15 days of the court filing",
        ),
        *mandatory("gcms", "stay_of_removal", "stay_id"),
        *mandatory("gcms", "departure_confirmation", "confirmation_id"),
        Rule(
            "gcms.departure_confirmation.after_order",
            "departure: confirmed as having left before the removal order was made",
            "gcms",
            "departure_confirmation",
            "confirmation_id",
            "departed_on",
            Query(_departed_before_order),
            defect_class="date_out_of_order",
            related=("gcms", "removal_order"),
            correct_entry="departed_on on or after the order's made_on",
        ),
        Rule(
            "gcms.departure_confirmation.no_active_stay",
            "departure: the person was removed while a stay of removal was in effect",
            "gcms",
            "departure_confirmation",
            "confirmation_id",
            "departed_on",
            Query(_departed_during_stay),
            defect_class="removal_during_stay",
            related=("gcms", "stay_of_removal"),
            correct_entry="a departure only once every stay on the order has an end date",
        ),
        *mandatory("gcms", "warrant", "warrant_no"),
        Rule(
            "gcms.warrant.warrant_type.code",
            "warrant: type must be a known warrant type",
            "gcms",
            "warrant",
            "warrant_no",
            "warrant_type",
            InSet("warrant_type", all_codes(WarrantType)),
            defect_class="unknown_code",
            correct_entry="REM, EXA, HRG or MDR",
        ),
        *lifecycle.rules_for("gcms"),
        *time_limits.suite_gcms(),
    ]
