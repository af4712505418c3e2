"""The time limits of DOMAIN.md as rules, wherever the dates they relate are recorded.

Each rule compares two dates one system holds (both typed there, or one typed
and one from the feed copy of another system's record). Dates are compared
strictly after adding the limit (`later > earlier + limit`), which reads the
same on SQLite (dates as text) and PostgreSQL. Business days skip weekends
and the federal and provincial statutory holidays (schemas/calendar.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select
from sqlalchemy.orm import aliased

from connectors import dialect
from expectations.rules import InOrder, Query, Rule, Scope
from schemas import gcms, ncms, nova
from schemas.calendar import (
    CALENDAR_YEARS,
    IRB_REGION_PROVINCE,
    add_business_days,
    statutory_holidays,
)
from schemas.codes import (
    DEPARTURE_ORDER_DAYS,
    DETENTION_LATER_REVIEW_DAYS,
    DETENTION_SECOND_REVIEW_DAYS,
    FEDERAL_COURT_LEAVE_DAYS,
    ORDER_IN_FORCE_AFTER_RAD_DAYS,
    OUTCOMES,
    PRRA_APPLICATION_DAYS,
    RAD_DECISION_DAYS,
    RAD_FILING_DAYS,
    RAD_PERFECTING_DAYS,
    Division,
    FilingType,
    OrderType,
    Proceeding,
)

if TYPE_CHECKING:
    from sqlalchemy import Select

_FEED = "FEED:%"
_NEGATIVE_REFUGEE = tuple(
    o.gcms for o in OUTCOMES if o.negative and o.division in (Division.RPD, Division.RAD)
)


def after(later: Any, earlier: Any, days: int) -> Any:
    """`later` falls more than `days` days after `earlier` (dates or timestamps).

    Both sides go through the same date arithmetic, so that SQLite compares two
    timestamps written alike (a stored one carries microseconds, a computed one
    does not).
    """
    return dialect.add_days(later, 0) > dialect.add_days(earlier, days)


# ------------------------------------------------------------ business days


@functools.cache
def _allowances(count: int, province: str) -> tuple[int, dict[int, tuple[dt.date, ...]]]:
    """Calendar days `count` business days take: the usual figure, and the dates that need more."""
    usual = max(
        (add_business_days(dt.date(2001, 1, d), count) - dt.date(2001, 1, d)).days
        for d in range(1, 6)
    )  # fmt: skip  (2001-01-01 is a Monday; no holiday on 2-5)
    import numpy as np

    first = np.datetime64(dt.date(CALENDAR_YEARS.start, 1, 1), "D")
    starts = np.arange(first, np.datetime64(dt.date(CALENDAR_YEARS.stop, 1, 1), "D"))
    # add_business_days for every day at once: from a day off, count from the business day
    # before it (no business day lies between them), as add_business_days does.
    holidays = np.array(sorted(statutory_holidays(province)), dtype="datetime64[D]")
    ends = np.busday_offset(starts, count, roll="backward", holidays=holidays)
    taken = (ends - starts).astype(int)
    longer: dict[int, list[dt.date]] = {}
    for index in np.flatnonzero(taken > usual):
        longer.setdefault(int(taken[index]), []).append(starts[index].item())
    return usual, {days: tuple(dates) for days, dates in sorted(longer.items())}


def province_of_file(file_number: Any) -> Any:
    """The province of the IRB office holding a file, from its number (as SQL)."""
    prefix = func.substr(file_number, 1, 4)
    return case(
        (prefix == "0001", literal("BC")),
        (prefix == "0003", literal("ON")),
        (prefix == "0018", literal("QC")),
        *(
            (func.substr(file_number, 1, 1) == letter, literal(province))
            for letter, province in IRB_REGION_PROVINCE.items()
        ),
        else_=literal("ON"),
    )


def past_business_days(moment: Any, start: Any, count: int, province: Any) -> Any:
    """`moment` is on or after the day following `count` business days from `start` (a date)."""
    branches = []
    for name in sorted(set(IRB_REGION_PROVINCE.values())):
        usual, longer = _allowances(count, name)
        listed = [day for dates in longer.values() for day in dates]
        parts = [
            and_(start.in_(dates), moment >= dialect.add_days(start, days + 1))
            for days, dates in longer.items()
        ]
        parts.append(and_(start.not_in(listed), moment >= dialect.add_days(start, usual + 1)))
        branches.append(and_(province == name, or_(*parts)))
    return or_(*branches)


# ------------------------------------------------------------------ NOVA


def _rad_filed_outside_window(scope: Scope) -> Select:
    """RAD appeals filed before the RPD's reasons were sent, or more than 15 days after them."""
    appeal, decision = nova.CaseFile, nova.Decision
    claim = aliased(nova.CaseFile)
    within = exists().where(
        decision.file_number == appeal.parent_file_number,
        decision.is_final.is_(True),
        decision.reasons_on.is_not(None),
        appeal.referred_on >= decision.reasons_on,
        not_(after(appeal.referred_on, decision.reasons_on, RAD_FILING_DAYS)),
    )
    return (
        select(
            appeal.file_number.label("key"),
            appeal.referred_on.label("value"),
            claim.file_number.label("related_key"),
        )
        .join(claim, claim.file_number == appeal.parent_file_number)
        .where(
            appeal.entered_by.not_like(_FEED),
            appeal.proceeding == Proceeding.APPEAL.value,
            appeal.referred_on.is_not(None),
            ~within,
            scope.changed(appeal.updated_at),
        )
    )


def _rad_perfected_late(scope: Scope) -> Select:
    record, notice = nova.Filing, aliased(nova.Filing)
    return (
        select(
            record.filing_id.label("key"),
            record.filed_on.label("value"),
            notice.filing_id.label("related_key"),
        )
        .join(notice, notice.file_number == record.file_number)
        .join(nova.CaseFile, nova.CaseFile.file_number == record.file_number)
        .where(
            nova.CaseFile.proceeding == Proceeding.APPEAL.value,
            record.filing_type == FilingType.APPEAL_RECORD.value,
            notice.filing_type == FilingType.NOTICE_OF_APPEAL.value,
            after(record.filed_on, notice.filed_on, RAD_PERFECTING_DAYS),
            scope.changed(record.updated_at),
        )
    )


def _rad_decided_late(scope: Scope) -> Select:
    decision, record = nova.Decision, nova.Filing
    heard = exists().where(nova.Hearing.file_number == decision.file_number)
    return (
        select(
            decision.decision_id.label("key"),
            decision.decided_on.label("value"),
            func.min(record.filing_id).label("related_key"),
        )
        .join(record, record.file_number == decision.file_number)
        .join(nova.CaseFile, nova.CaseFile.file_number == decision.file_number)
        .where(
            nova.CaseFile.division == Division.RAD.value,
            decision.is_final.is_(True),
            record.filing_type == FilingType.APPEAL_RECORD.value,
            after(decision.decided_on, record.filed_on, RAD_DECISION_DAYS),
            ~heard,
            scope.changed(decision.updated_at),
        )
        .group_by(decision.decision_id, decision.decided_on)
    )


def _reasons_in_future(scope: Scope) -> Select:
    decision = nova.Decision
    return select(decision.decision_id.label("key"), decision.reasons_on.label("value")).where(
        decision.reasons_on > decision.updated_at, scope.changed(decision.updated_at)
    )


# ------------------------------------------------------------------ GCMS


def _prra_applied_late(scope: Scope) -> Select:
    prra = gcms.PrraApplication
    return select(prra.prra_id.label("key"), prra.applied_on.label("value")).where(
        prra.entered_by.not_like(_FEED),
        after(prra.applied_on, prra.notified_on, PRRA_APPLICATION_DAYS),
        scope.changed(prra.updated_at),
    )


def _credible(decision: Any, proceeding: Any) -> Any:
    """A fed decision whose date lies between its filing and when NOVA last changed it."""
    return and_(
        decision.decided_on >= proceeding.filed_on,
        decision.decided_on <= decision.source_updated_at,
    )


def _leave_sought_late(scope: Scope) -> Select:
    lit, decision, proceeding = gcms.Litigation, gcms.IrbDecision, gcms.IrbProceeding
    return (
        select(
            lit.litigation_id.label("key"),
            lit.filed_on.label("value"),
            func.min(decision.decision_ref).label("related_key"),
        )
        .join(decision, decision.irb_file_no == lit.irb_file_no)
        .join(proceeding, proceeding.irb_file_no == decision.irb_file_no)
        .where(
            lit.entered_by.not_like(_FEED),
            decision.received_via == "FEED",
            decision.division == Division.RAD.value,
            _credible(decision, proceeding),
            after(lit.filed_on, decision.decided_on, FEDERAL_COURT_LEAVE_DAYS),
            scope.changed(lit.updated_at),
        )
        .group_by(lit.litigation_id, lit.filed_on)
    )


def _in_force_too_early(scope: Scope) -> Select:
    """A claimant's order in force within 15 days of a negative RPD or RAD decision."""
    order, decision, proceeding = gcms.RemovalOrder, gcms.IrbDecision, gcms.IrbProceeding
    return (
        select(
            order.order_id.label("key"),
            order.in_force_on.label("value"),
            func.min(decision.decision_ref).label("related_key"),
        )
        .join(decision, decision.uci == order.uci)
        .join(proceeding, proceeding.irb_file_no == decision.irb_file_no)
        .where(
            order.entered_by.not_like(_FEED),
            order.is_refugee_claimant.is_(True),
            decision.received_via == "FEED",
            decision.outcome.in_(_NEGATIVE_REFUGEE),
            _credible(decision, proceeding),
            decision.decided_on <= order.in_force_on,
            not_(after(order.in_force_on, decision.decided_on, ORDER_IN_FORCE_AFTER_RAD_DAYS - 1)),
            or_(scope.changed(order.updated_at), scope.changed(decision.updated_at)),
        )
        .group_by(order.order_id, order.in_force_on)
    )


def _converted_early(scope: Scope) -> Select:
    order = gcms.RemovalOrder
    return select(order.order_id.label("key"), order.deemed_deportation_on.label("value")).where(
        order.entered_by.not_like(_FEED),
        order.order_type == OrderType.DEPARTURE.value,
        order.in_force_on.is_not(None),
        not_(after(order.deemed_deportation_on, order.in_force_on, DEPARTURE_ORDER_DAYS - 1)),
        scope.changed(order.updated_at),
    )


# ------------------------------------------------------------------ NCMS


def _review_due_late(scope: Scope) -> Select:
    """A review due later than s.57 allows after the previous review (or the arrest)."""
    review, detention = ncms.DetentionReview, ncms.Detention
    previous = aliased(ncms.DetentionReview)
    first_late = and_(review.review_seq == 1, after(review.due_at, detention.arrested_at, 2))
    second_late = and_(
        review.review_seq == 2,
        after(review.due_at, previous.held_at, DETENTION_SECOND_REVIEW_DAYS),
    )
    later_late = and_(
        review.review_seq > 2,
        after(review.due_at, previous.held_at, DETENTION_LATER_REVIEW_DAYS),
    )
    return (
        select(
            review.review_id.label("key"),
            review.due_at.label("value"),
            previous.review_id.label("related_key"),
        )
        .join(detention, detention.detention_id == review.detention_id)
        .outerjoin(
            previous,
            and_(
                previous.detention_id == review.detention_id,
                previous.review_seq == review.review_seq - 1,
            ),
        )
        .where(or_(first_late, second_late, later_late), scope.changed(review.updated_at))
    )


def _later_review_missing(seq_after: int, days: int, scope: Scope) -> Select:
    """Detained `days` days after review `seq_after` (2: any later one) with no review since."""
    detention, review = ncms.Detention, ncms.DetentionReview
    following = aliased(ncms.DetentionReview)
    which = review.review_seq == 1 if seq_after == 1 else review.review_seq >= 2
    nxt = exists().where(
        following.detention_id == review.detention_id,
        following.review_seq == review.review_seq + 1,
    )
    return (
        select(
            detention.detention_id.label("key"),
            review.held_at.label("value"),
            review.review_id.label("related_key"),
        )
        .join(review, review.detention_id == detention.detention_id)
        .where(
            which,
            review.held_at.is_not(None),
            scope.matured(review.held_at, dt.timedelta(days=days)),
            or_(
                detention.released_at.is_(None),
                after(detention.released_at, review.held_at, days),
            ),
            ~nxt,
        )
    )


def suite_nova() -> list[Rule]:
    return _timed(_suite_nova())


def _timed(rules: list[Rule]) -> list[Rule]:
    return [dataclasses.replace(rule, tags=(*rule.tags, "time_limit")) for rule in rules]


def _suite_nova() -> list[Rule]:
    return [
        Rule(
            "nova.decision.reasons_on.not_future",
            "decision: reasons sent on a date after the day they were entered",
            "nova", "decision", "decision_id", "reasons_on", Query(_reasons_in_future),
            defect_class="reasons_future",
            correct_entry="reasons_on entered on or after the day the reasons went out",
        ),
        Rule(
            "nova.decision.reasons_on.after_decision",
            "decision: reasons sent before the decision was made",
            "nova", "decision", "decision_id", "reasons_on",
            InOrder(earlier="decided_on", later="reasons_on"),
            defect_class="reasons_before_decision",
            correct_entry="reasons_on on or after decided_on",
        ),
        Rule(
            "nova.case_file.rad_filed_in_time",
            f"RAD appeal: not filed within {RAD_FILING_DAYS} days after the RPD's reasons",
            "nova", "case_file", "file_number", "referred_on", Query(_rad_filed_outside_window),
            defect_class="rad_filing_window", related=("nova", "case_file"),
            correct_entry="referred_on between the RPD reasons date and 15 days after it",
        ),
        Rule(
            "nova.filing.rad_perfected_in_time",
            f"RAD appeal record: filed more than {RAD_PERFECTING_DAYS} days after the notice "
            "of appeal",
            "nova", "filing", "filing_id", "filed_on", Query(_rad_perfected_late),
            defect_class="rad_perfecting_late", related=("nova", "filing"),
            correct_entry="the APR filing dated within 30 days of the NOA filing",
        ),
        Rule(
            "nova.decision.rad_decided_in_time",
            f"RAD decision: made more than {RAD_DECISION_DAYS} days after the appeal was "
            "perfected, with no hearing recorded",
            "nova", "decision", "decision_id", "decided_on", Query(_rad_decided_late),
            defect_class="rad_decision_late", related=("nova", "filing"),
            correct_entry="decided within 90 days of the APR filing, or a hearing on the file",
        ),
    ]  # fmt: skip


def suite_gcms() -> list[Rule]:
    return _timed(_suite_gcms())


def _suite_gcms() -> list[Rule]:
    return [
        Rule(
            "gcms.prra_application.applied_after_notification",
            "PRRA: applied for before the notification",
            "gcms", "prra_application", "prra_id", "applied_on",
            InOrder(earlier="notified_on", later="applied_on"),
            defect_class="prra_applied_before_notice",
            correct_entry="applied_on on or after notified_on",
        ),
        Rule(
            "gcms.prra_application.applied_in_time",
            f"PRRA: applied for more than {PRRA_APPLICATION_DAYS} days after the notification",
            "gcms", "prra_application", "prra_id", "applied_on", Query(_prra_applied_late),
            defect_class="prra_applied_late",
            correct_entry="applied_on within 15 days of notified_on",
        ),
        Rule(
            "gcms.litigation.leave_sought_in_time",
            f"litigation: leave sought more than {FEDERAL_COURT_LEAVE_DAYS} days after the RAD "
            "decision it challenges",
            "gcms", "litigation", "litigation_id", "filed_on", Query(_leave_sought_late),
            defect_class="leave_sought_late", related=("gcms", "irb_decision"),
            correct_entry="filed_on within 15 days of the RAD decision's date",
        ),
        Rule(
            "gcms.removal_order.in_force_after_appeal_window",
            f"removal order: a claimant's order in force less than "
            f"{ORDER_IN_FORCE_AFTER_RAD_DAYS} days after a negative RPD or RAD decision",
            "gcms", "removal_order", "order_id", "in_force_on", Query(_in_force_too_early),
            defect_class="in_force_too_early", related=("gcms", "irb_decision"),
            correct_entry="in_force_on at least 15 days after the negative decision",
        ),
        Rule(
            "gcms.removal_order.deemed_deportation_after_30_days",
            f"departure order: deemed a deportation order less than {DEPARTURE_ORDER_DAYS} days "
            "after it came into force",
            "gcms", "removal_order", "order_id", "deemed_deportation_on",
            Query(_converted_early),
            defect_class="converted_early",
            correct_entry="deemed_deportation_on 30 days or more after in_force_on",
        ),
    ]  # fmt: skip


def suite_ncms() -> list[Rule]:
    return _timed(_suite_ncms())


def _suite_ncms() -> list[Rule]:
    from functools import partial

    return [
        Rule(
            "ncms.detention_review.due_within_s57",
            "detention review: due later than s.57 allows (48 hours, then 7 days, then 30 days)",
            "ncms", "detention_review", "review_id", "due_at", Query(_review_due_late),
            defect_class="review_due_late", related=("ncms", "detention_review"),
            correct_entry="due_at 48 h after the arrest, 7 days after the first review, "
            "then 30 days after the previous one",
        ),
        Rule(
            "ncms.detention.second_review",
            f"detention: held past {DETENTION_SECOND_REVIEW_DAYS} days after the first review "
            "with no second review recorded",
            "ncms", "detention", "detention_id", "held_at",
            Query(partial(_later_review_missing, 1, DETENTION_SECOND_REVIEW_DAYS)),
            defect_class="detention_review_overdue", related=("ncms", "detention_review"),
            correct_entry="a second review within 7 days of the first, or the release recorded",
        ),
        Rule(
            "ncms.detention.later_reviews",
            f"detention: held past {DETENTION_LATER_REVIEW_DAYS} days after a review with no "
            "further review recorded",
            "ncms", "detention", "detention_id", "held_at",
            Query(partial(_later_review_missing, 2, DETENTION_LATER_REVIEW_DAYS)),
            defect_class="detention_review_overdue", related=("ncms", "detention_review"),
            correct_entry="a review at least every 30 days, or the release recorded",
        ),
    ]  # fmt: skip
