"""The enforcement life cycle as data: each record's states, and those that cannot hold together.

A state is a condition on one record of one system (a removal order that is
enforced, a warrant that was executed, a case in the removal-ready
inventory). An exclusion names two states that cannot hold at once: on the
same record, or on two records of the same person or order, in one system or
across systems (through the copy a feed delivered into the system that holds
the first record). Every exclusion becomes a rule; a new state comes with the
exclusions that make it checkable, and a test fails when a declared state
takes part in none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from expectations.rules import Query, Rule, Scope
from schemas import gcms, ncms, nova
from schemas.codes import (
    GROUND_BY_CODE,
    GROUND_CODES,
    PERMANENT_RESIDENT_ONLY_GROUNDS,
    Inventory,
    OrderStatus,
    OrderType,
    Status,
    StayType,
    ground_applies,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Select

_FEED = "FEED:%"


@dataclass(frozen=True)
class State:
    """A condition one record of one system can be in."""

    name: str
    system: str
    model: Any
    key: str
    label: str
    holds: Callable[[Any], Any]


@dataclass(frozen=True)
class Exclusion:
    """Two states that cannot hold together; `link` joins the two records (None: the same one)."""

    name: str
    first: State
    second: State
    link: Callable[[Any, Any], Any] | None
    description: str
    correct_entry: str
    field: str

    @property
    def rule_name(self) -> str:
        return f"lifecycle.{self.first.system}.{self.name}"


def _open_warrant(w: Any) -> Any:
    return and_(w.executed_on.is_(None), w.cancelled_on.is_(None))


_TERMINAL = (OrderStatus.ENFORCED.value, OrderStatus.CANCELLED.value)
_PR_ONLY = tuple(sorted(PERMANENT_RESIDENT_ONLY_GROUNDS))
_NOT_PR = tuple(sorted(c for c in GROUND_CODES if not ground_applies(c, Status.PERMANENT_RESIDENT)))

# ---------------------------------------------------------------- the states
ORDER_NOT_ENFORCED = State(
    "gcms.removal_order.not_enforced", "gcms", gcms.RemovalOrder, "order_id",
    "removal order issued, in force, stayed or cancelled (not enforced)",
    lambda o: o.status.in_(
        [s.value for s in OrderStatus if s is not OrderStatus.ENFORCED]
    ),
)  # fmt: skip
ORDER_NOT_DEPARTURE = State(
    "gcms.removal_order.not_departure", "gcms", gcms.RemovalOrder, "order_id",
    "removal order of exclusion or deportation type",
    lambda o: o.order_type.in_([OrderType.EXCLUSION.value, OrderType.DEPORTATION.value]),
)  # fmt: skip
ORDER_DEEMED_DEPORTATION = State(
    "gcms.removal_order.deemed_deportation", "gcms", gcms.RemovalOrder, "order_id",
    "departure order deemed a deportation order (30 days unconfirmed)",
    lambda o: o.deemed_deportation_on.is_not(None),
)  # fmt: skip
ORDER_SERIOUS_GROUND = State(
    "gcms.removal_order.serious_ground", "gcms", gcms.RemovalOrder, "order_id",
    "removal order on a ground of s.34-37 (security, rights violations, criminality)",
    lambda o: o.irpa_ground.in_(sorted(g.code for g in GROUND_BY_CODE.values() if g.serious)),
)  # fmt: skip
DEPARTURE_CONFIRMED = State(
    "gcms.departure_confirmation.confirmed", "gcms", gcms.DepartureConfirmation,
    "confirmation_id", "departure confirmed (port of entry or R240(3))",
    lambda d: d.departed_on.is_not(None),
)  # fmt: skip
STAY_TSR = State(
    "gcms.stay_of_removal.tsr", "gcms", gcms.Stay, "stay_id",
    "stay of removal under a temporary suspension of removals (TSR)",
    lambda s: s.stay_type == StayType.TSR.value,
)  # fmt: skip
CLIENT_PR = State(
    "gcms.client.permanent_resident", "gcms", gcms.Client, "uci",
    "client is a permanent resident", lambda c: c.immigration_status == "PR",
)  # fmt: skip
CLIENT_NOT_PR = State(
    "gcms.client.not_permanent_resident", "gcms", gcms.Client, "uci",
    "client is a foreign national or protected person",
    lambda c: c.immigration_status.in_(["FN", "PP"]),
)  # fmt: skip
ORDER_FN_ONLY_GROUND = State(
    "gcms.removal_order.foreign_national_ground", "gcms", gcms.RemovalOrder, "order_id",
    "removal order on a ground that applies to foreign nationals only (36(2), 38, 39, 41(a), 42)",
    lambda o: o.irpa_ground.in_(_NOT_PR),
)  # fmt: skip
ORDER_PR_ONLY_GROUND = State(
    "gcms.removal_order.permanent_resident_ground", "gcms", gcms.RemovalOrder, "order_id",
    "removal order on 41(b), the permanent residents' residency obligation",
    lambda o: o.irpa_ground.in_(_PR_ONLY),
)  # fmt: skip
REPORT_FN_ONLY_GROUND = State(
    "gcms.inadmissibility_report.foreign_national_ground", "gcms", gcms.InadmissibilityReport,
    "report_id", "s.44 report on a ground that applies to foreign nationals only",
    lambda r: r.irpa_ground.in_(_NOT_PR),
)  # fmt: skip
REPORT_PR_ONLY_GROUND = State(
    "gcms.inadmissibility_report.permanent_resident_ground", "gcms", gcms.InadmissibilityReport,
    "report_id", "s.44 report on 41(b), the permanent residents' residency obligation",
    lambda r: r.irpa_ground.in_(_PR_ONLY),
)  # fmt: skip
GCMS_WARRANT_EXECUTED = State(
    "gcms.warrant.executed", "gcms", gcms.Warrant, "warrant_no", "warrant executed (arrest made)",
    lambda w: w.executed_on.is_not(None),
)  # fmt: skip
GCMS_WARRANT_CANCELLED = State(
    "gcms.warrant.cancelled", "gcms", gcms.Warrant, "warrant_no", "warrant cancelled",
    lambda w: w.cancelled_on.is_not(None),
)  # fmt: skip
NCMS_WARRANT_EXECUTED = State(
    "ncms.warrant.executed", "ncms", ncms.Warrant, "warrant_no", "warrant executed (arrest made)",
    lambda w: w.executed_on.is_not(None),
)  # fmt: skip
NCMS_WARRANT_CANCELLED = State(
    "ncms.warrant.cancelled", "ncms", ncms.Warrant, "warrant_no", "warrant cancelled",
    lambda w: w.cancelled_on.is_not(None),
)  # fmt: skip
NCMS_WARRANT_OPEN = State(
    "ncms.warrant.open", "ncms", ncms.Warrant, "warrant_no",
    "warrant issued, neither executed nor cancelled", _open_warrant,
)  # fmt: skip
CASE_OPEN = State(
    "ncms.removal_case.open", "ncms", ncms.RemovalCase, "case_no", "case open",
    lambda c: c.case_status == "OPEN",
)  # fmt: skip
CASE_ENDED = State(
    "ncms.removal_case.ended", "ncms", ncms.RemovalCase, "case_no",
    "case removed or closed", lambda c: c.case_status.in_(["REMOVED", "CLOSED"]),
)  # fmt: skip
CASE_REMOVED = State(
    "ncms.removal_case.removed", "ncms", ncms.RemovalCase, "case_no",
    "case removed (the person left Canada)", lambda c: c.case_status == "REMOVED",
)  # fmt: skip
CASE_IN_CLOSED_INVENTORY = State(
    "ncms.removal_case.closed_inventory", "ncms", ncms.RemovalCase, "case_no",
    "case in the CLOSED inventory", lambda c: c.inventory == Inventory.CLOSED.value,
)  # fmt: skip
CASE_IN_OPEN_INVENTORY = State(
    "ncms.removal_case.open_inventory", "ncms", ncms.RemovalCase, "case_no",
    "case in a working, wanted or monitoring inventory",
    lambda c: and_(c.inventory.is_not(None), c.inventory != Inventory.CLOSED.value),
)  # fmt: skip
CASE_CLOSED_ON = State(
    "ncms.removal_case.closed_on", "ncms", ncms.RemovalCase, "case_no",
    "case carries a closing date", lambda c: c.closed_on.is_not(None),
)  # fmt: skip
CASE_NO_REMOVAL_DATE = State(
    "ncms.removal_case.no_removal_date", "ncms", ncms.RemovalCase, "case_no",
    "case has no removal date", lambda c: c.removed_on.is_(None),
)  # fmt: skip
CASE_READY = State(
    "ncms.removal_case.removal_ready", "ncms", ncms.RemovalCase, "case_no",
    "case in the removal-ready working inventory (WIP-RR)",
    lambda c: c.inventory == Inventory.READY.value,
)  # fmt: skip
CASE_WANTED = State(
    "ncms.removal_case.wanted", "ncms", ncms.RemovalCase, "case_no",
    "case in the wanted inventory (whereabouts unknown)",
    lambda c: c.inventory == Inventory.WANTED.value,
)  # fmt: skip
CASE_SERIOUS = State(
    "ncms.removal_case.serious_ground", "ncms", ncms.RemovalCase, "case_no",
    "case on a ground of s.34-37",
    lambda c: c.irpa_ground.in_(sorted(g.code for g in GROUND_BY_CODE.values() if g.serious)),
)  # fmt: skip
IMPEDIMENT_OPEN = State(
    "ncms.case_impediment.open", "ncms", ncms.CaseImpediment, "impediment_id",
    "impediment to removal not ended", lambda i: i.ended_on.is_(None),
)  # fmt: skip
IMPEDIMENT_TSR = State(
    "ncms.case_impediment.tsr", "ncms", ncms.CaseImpediment, "impediment_id",
    "impediment: temporary suspension of removals", lambda i: i.impediment_code == "TSR",
)  # fmt: skip
DETENTION_OPEN = State(
    "ncms.detention.open", "ncms", ncms.Detention, "detention_id",
    "person detained (not released)", lambda d: d.released_at.is_(None),
)  # fmt: skip
NOVA_FILE_FINALIZED = State(
    "nova.case_file.finalized", "nova", nova.CaseFile, "file_number",
    "IRB file finalized (FN)", lambda f: f.status == "FN",
)  # fmt: skip
NOVA_NO_FINAL_DECISION = State(
    "nova.case_file.no_final_decision", "nova", nova.CaseFile, "file_number",
    "IRB file with no final decision",
    lambda f: ~exists().where(
        nova.Decision.file_number == f.file_number, nova.Decision.is_final.is_(True)
    ),
)  # fmt: skip


def _same(column: str, other: str | None = None) -> Callable[[Any, Any], Any]:
    def link(a: Any, b: Any) -> Any:
        return getattr(a, column) == getattr(b, other or column)

    return link


def _case_of(a: Any, b: Any) -> Any:
    return a.case_no == b.case_no


EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(
        "departure_confirmed_order_not_enforced",
        DEPARTURE_CONFIRMED,
        ORDER_NOT_ENFORCED,
        _same("order_id"),
        "departure: confirmed on an order GCMS does not show as enforced",
        "a confirmed departure and its order's status ENFORCED, typed together",
        "departed_on",
    ),
    Exclusion(
        "deemed_deportation_not_departure_order",
        ORDER_DEEMED_DEPORTATION,
        ORDER_NOT_DEPARTURE,
        None,
        "removal order: deemed a deportation order, but it is not a departure order",
        "deemed_deportation_on only on a departure order 30 days unconfirmed",
        "deemed_deportation_on",
    ),
    Exclusion(
        "tsr_stay_serious_ground",
        STAY_TSR,
        ORDER_SERIOUS_GROUND,
        _same("order_id"),
        "stay: a TSR does not protect persons inadmissible under s.34, 35, 36 or 37",
        "no TSR stay on an order made on s.34-37; other stays (court, PRRA...) may apply",
        "stay_type",
    ),
    Exclusion(
        "tsr_impediment_serious_ground",
        IMPEDIMENT_TSR,
        CASE_SERIOUS,
        _case_of,
        "impediment: a TSR recorded on a case inadmissible under s.34, 35, 36 or 37",
        "no TSR impediment on a case on s.34-37",
        "impediment_code",
    ),
    Exclusion(
        "order_ground_not_for_permanent_residents",
        ORDER_FN_ONLY_GROUND,
        CLIENT_PR,
        _same("uci"),
        "removal order: its ground applies to foreign nationals only, and GCMS shows the "
        "client as a permanent resident",
        "a permanent resident's order on s.34-37, 36(1), 40, 40.1 or 41(b)",
        "irpa_ground",
    ),
    Exclusion(
        "order_ground_for_permanent_residents_only",
        ORDER_PR_ONLY_GROUND,
        CLIENT_NOT_PR,
        _same("uci"),
        "removal order: 41(b) applies to permanent residents only, and GCMS shows the client "
        "as a foreign national or protected person",
        "41(b) orders only for clients whose GCMS status is PR",
        "irpa_ground",
    ),
    Exclusion(
        "report_ground_not_for_permanent_residents",
        REPORT_FN_ONLY_GROUND,
        CLIENT_PR,
        _same("uci"),
        "s.44 report: its ground applies to foreign nationals only, and GCMS shows the client "
        "as a permanent resident",
        "a permanent resident's report on s.34-37, 36(1), 40, 40.1 or 41(b)",
        "irpa_ground",
    ),
    Exclusion(
        "report_ground_for_permanent_residents_only",
        REPORT_PR_ONLY_GROUND,
        CLIENT_NOT_PR,
        _same("uci"),
        "s.44 report: 41(b) applies to permanent residents only, and GCMS shows the client "
        "as a foreign national or protected person",
        "41(b) reports only on clients whose GCMS status is PR",
        "irpa_ground",
    ),
    Exclusion(
        "gcms_warrant_executed_and_cancelled",
        GCMS_WARRANT_EXECUTED,
        GCMS_WARRANT_CANCELLED,
        None,
        "warrant: both executed and cancelled",
        "a warrant ends one way: executed_on (arrest) or cancelled_on with a reason",
        "cancelled_on",
    ),
    Exclusion(
        "ncms_warrant_executed_and_cancelled",
        NCMS_WARRANT_EXECUTED,
        NCMS_WARRANT_CANCELLED,
        None,
        "warrant: both executed and cancelled",
        "a warrant ends one way: executed_on (arrest) or cancelled_on with a reason",
        "cancelled_on",
    ),
    Exclusion(
        "wanted_without_open_warrant",
        CASE_WANTED,
        NCMS_WARRANT_OPEN,
        None,
        "removal case: in the wanted inventory with no warrant still open",
        "WANTED only while a warrant on the case is neither executed nor cancelled",
        "inventory",
    ),
    Exclusion(
        "ended_case_open_warrant",
        NCMS_WARRANT_OPEN,
        CASE_ENDED,
        _case_of,
        "warrant: still open on a case that is removed or closed",
        "a case's warrant executed or cancelled (with its reason) when the case ends",
        "warrant_no",
    ),
    Exclusion(
        "ready_with_open_impediment",
        CASE_READY,
        IMPEDIMENT_OPEN,
        _case_of,
        "removal case: removal-ready while an impediment to removal is still open",
        "WIP-RR only when every impediment on the case has an end date; otherwise WIP-IMP",
        "inventory",
    ),
    Exclusion(
        "removed_while_detained",
        CASE_REMOVED,
        DETENTION_OPEN,
        _case_of,
        "removal case: removed while NCMS still shows the person detained",
        "the detention's release recorded when the person is removed",
        "case_status",
    ),
    Exclusion(
        "open_case_closed_inventory",
        CASE_OPEN,
        CASE_IN_CLOSED_INVENTORY,
        None,
        "removal case: open, but in the CLOSED inventory",
        "an open case sits in WIP-RR, WIP-IMP, WANTED, MON or MON-STY",
        "inventory",
    ),
    Exclusion(
        "ended_case_open_inventory",
        CASE_ENDED,
        CASE_IN_OPEN_INVENTORY,
        None,
        "removal case: removed or closed, but still in an open inventory",
        "a removed or closed case sits in the CLOSED inventory",
        "inventory",
    ),
    Exclusion(
        "open_case_with_closing_date",
        CASE_OPEN,
        CASE_CLOSED_ON,
        None,
        "removal case: open, but carries a closing date",
        "closed_on only on a removed or closed case",
        "closed_on",
    ),
    Exclusion(
        "removed_case_without_removal_date",
        CASE_REMOVED,
        CASE_NO_REMOVAL_DATE,
        None,
        "removal case: removed, with no removal date",
        "a removed case carries removed_on and how the departure was confirmed",
        "removed_on",
    ),
    Exclusion(
        "finalized_file_without_decision",
        NOVA_FILE_FINALIZED,
        NOVA_NO_FINAL_DECISION,
        None,
        "IRB file: finalized with no final decision recorded",
        "status FN only once the file's final decision is entered",
        "status",
    ),
)

#: Every declared state (a test checks that each takes part in an exclusion).
STATES: tuple[State, ...] = (
    ORDER_NOT_ENFORCED, ORDER_NOT_DEPARTURE, ORDER_DEEMED_DEPORTATION,
    ORDER_SERIOUS_GROUND, DEPARTURE_CONFIRMED, STAY_TSR, CLIENT_PR, CLIENT_NOT_PR,
    ORDER_FN_ONLY_GROUND, ORDER_PR_ONLY_GROUND, REPORT_FN_ONLY_GROUND, REPORT_PR_ONLY_GROUND,
    GCMS_WARRANT_EXECUTED, GCMS_WARRANT_CANCELLED, NCMS_WARRANT_EXECUTED,
    NCMS_WARRANT_CANCELLED, NCMS_WARRANT_OPEN, CASE_OPEN, CASE_ENDED, CASE_REMOVED,
    CASE_IN_CLOSED_INVENTORY, CASE_IN_OPEN_INVENTORY, CASE_CLOSED_ON, CASE_NO_REMOVAL_DATE,
    CASE_READY, CASE_WANTED, CASE_SERIOUS, IMPEDIMENT_OPEN, IMPEDIMENT_TSR, DETENTION_OPEN,
    NOVA_FILE_FINALIZED, NOVA_NO_FINAL_DECISION,
)  # fmt: skip


def _hand_typed(model: Any) -> Any:
    return model.entered_by.not_like(_FEED)


def _exclusion_query(exclusion: Exclusion, scope: Scope) -> Select:
    """Records in the first state whose own or linked record is in the second."""
    first = aliased(exclusion.first.model)
    key = getattr(first, exclusion.first.key)
    value = getattr(first, exclusion.field)
    if exclusion.link is None:
        return select(key.label("key"), value.label("value")).where(
            _hand_typed(first),
            exclusion.first.holds(first),
            exclusion.second.holds(first),
            scope.changed(first.updated_at),
        )
    second = aliased(exclusion.second.model)
    return (
        select(
            key.label("key"),
            value.label("value"),
            func.min(getattr(second, exclusion.second.key)).label("related_key"),
        )
        .join(second, exclusion.link(first, second))
        .where(
            _hand_typed(first),
            exclusion.first.holds(first),
            exclusion.second.holds(second),
            or_(scope.changed(first.updated_at), scope.changed(second.updated_at)),
        )
        .group_by(key, value)
    )


def _wanted_without_warrant(scope: Scope) -> Select:
    """WANTED cases with no open warrant (the second state is about another table)."""
    case, warrant = ncms.RemovalCase, ncms.Warrant
    open_warrant = exists().where(warrant.case_no == case.case_no, _open_warrant(warrant))
    return select(case.case_no.label("key"), case.inventory.label("value")).where(
        _hand_typed(case),
        CASE_WANTED.holds(case),
        ~open_warrant,
        scope.changed(case.updated_at),
    )


def _query_for(exclusion: Exclusion) -> Callable[[Scope], Select]:
    if exclusion.name == "wanted_without_open_warrant":
        return _wanted_without_warrant

    def build(scope: Scope) -> Select:
        return _exclusion_query(exclusion, scope)

    return build


def rules_for(system: str) -> list[Rule]:
    """The rules derived from the exclusions whose first record lives in `system`."""
    rules = []
    for exclusion in EXCLUSIONS:
        if exclusion.first.system != system:
            continue
        first = exclusion.first
        linked = exclusion.link is not None and exclusion.name != "wanted_without_open_warrant"
        rules.append(
            Rule(
                exclusion.rule_name,
                exclusion.description,
                system,
                first.model.__tablename__,
                first.key,
                exclusion.field,
                Query(_query_for(exclusion)),
                defect_class=exclusion.name,
                related=(exclusion.second.system, exclusion.second.model.__tablename__)
                if linked
                else None,
                correct_entry=exclusion.correct_entry,
                tags=("lifecycle", first.name, exclusion.second.name),
            )
        )
    return rules
