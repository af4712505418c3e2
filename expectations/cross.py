"""Across the systems, on the control database's reconciliation tables.

Every record a feed must carry reached its target (with the version the
source holds); every ID and IAD decision was re-keyed into GCMS within 2-5
business days, with the same outcome and date; every NCMS case names a UCI
GCMS has.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DateTime,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from expectations.rules import Query, Rule, Scope
from expectations.time_limits import past_business_days, province_of_file
from schemas import control
from schemas.codes import (
    NOVA_TO_GCMS_OUTCOME,
    REKEY_MAX_BUSINESS_DAYS,
    REKEYED_DIVISIONS,
    UCI_PATTERN,
)
from schemas.interfaces import INTERFACES

if TYPE_CHECKING:
    from sqlalchemy import Select

    from schemas.interfaces import Interface, Stream


def _undelivered(interface: Interface, stream: Stream, scope: Scope) -> Select:
    """Source records the feed should have carried, missing (or stale) in the target."""
    source, target = aliased(control.ReconFeedItem), aliased(control.ReconFeedItem)
    delivered = exists().where(
        target.interface == interface.name,
        target.side == "target",
        target.feed_key == source.feed_key,
        target.changed_at >= source.changed_at,
    )
    return select(source.source_key.label("key"), source.feed_key.label("value")).where(
        source.interface == interface.name,
        source.side == "source",
        source.source_table == stream.source_table,
        source.feed_key.like(stream.key_format.replace("{}", "%")),
        scope.changed(source.changed_at, interface.cutoff),
        ~delivered,
    )


def _quoted(value: str) -> Any:
    """A constant string as SQL text (SQLite leaves binds inside IS NOT unrendered)."""
    return literal_column("'" + value.replace("'", "''") + "'")


def _mapped_outcome(code: Any) -> Any:
    """NOVA's outcome code as GCMS spells it (codes.OUTCOMES)."""
    whens = [(code == _quoted(nova), _quoted(gcms)) for nova, gcms in NOVA_TO_GCMS_OUTCOME.items()]
    return case(*whens, else_=None)


def _digits(column: Any) -> Any:
    """An identifier without the separators and letter-O slips people type into it."""
    return func.replace(func.replace(func.replace(column, "-", ""), " ", ""), "O", "0")


def _rekey_due(decision: Any, moment: Any) -> Any:
    """`moment` is past the 5 business days (holidays of the IRB office's province) to re-key."""
    province = province_of_file(decision.file_number)
    return past_business_days(moment, decision.decided_on, REKEY_MAX_BUSINESS_DAYS, province)


def _not_rekeyed(scope: Scope) -> Select:
    """ID and IAD final decisions with no decision keyed into GCMS after 5 business days."""
    decision, keyed = control.ReconNovaDecision, control.ReconGcmsDecision
    # A re-keyed decision counts when its file number or its UCI is the decision's,
    # read as digits: a typo in either record must not hide that it was keyed.
    found = exists().where(
        keyed.received_via == "MANUAL",
        keyed.division == decision.division,
        or_(
            _digits(keyed.irb_file_no) == _digits(decision.file_number),
            _digits(keyed.uci) == _digits(decision.uci),
        ),
    )
    start, end = scope.window()
    due = _rekey_due(decision, literal(end, DateTime))
    if scope.kind == "night":  # the deadlines that fell due tonight
        due = and_(due, ~_rekey_due(decision, literal(start, DateTime)))
    return select(
        cast(decision.decision_id, String).label("key"), decision.file_number.label("value")
    ).where(
        decision.division.in_(sorted(d.value for d in REKEYED_DIVISIONS)),
        decision.decided_on.is_not(None),
        decision.decided_on <= decision.entered_at,
        scope.changed(decision.entered_at) if scope.kind == "full" else true(),
        due,
        ~found,
    )


def _rekeyed_late(scope: Scope) -> Select:
    """A decision keyed into GCMS more than 5 business days after the ID or IAD made it."""
    keyed, decision = control.ReconGcmsDecision, control.ReconNovaDecision
    return (
        select(
            keyed.decision_ref.label("key"),
            keyed.entered_at.label("value"),
            cast(decision.decision_id, String).label("related_key"),
        )
        .join(
            decision,
            and_(decision.file_number == keyed.irb_file_no, decision.division == keyed.division),
        )
        .where(
            keyed.received_via == "MANUAL",
            decision.division.in_(sorted(d.value for d in REKEYED_DIVISIONS)),
            decision.decided_on <= decision.entered_at,
            _rekey_due(decision, keyed.entered_at),
            scope.changed(keyed.entered_at),
        )
    )


def _rekeyed_differently(scope: Scope) -> Select:
    """A decision keyed into GCMS whose outcome or date differs from NOVA's."""
    keyed, decision = control.ReconGcmsDecision, control.ReconNovaDecision
    return (
        select(
            keyed.decision_ref.label("key"),
            keyed.outcome.label("value"),
            cast(decision.decision_id, String).label("related_key"),
        )
        .join(
            decision,
            and_(decision.file_number == keyed.irb_file_no, decision.division == keyed.division),
        )
        .where(
            keyed.received_via == "MANUAL",
            or_(
                keyed.outcome.is_distinct_from(_mapped_outcome(decision.outcome_code)),
                keyed.decided_on.is_distinct_from(decision.decided_on),
            ),
            scope.changed(keyed.entered_at),
        )
    )


def _orphan_cases(scope: Scope) -> Select:
    """NCMS cases naming a well-formed UCI that GCMS has no client for."""
    case_row, client = control.ReconNcmsCase, control.ReconGcmsClient
    known = exists().where(client.uci == case_row.uci)
    return select(
        case_row.case_no.label("key"),
        case_row.uci.label("value"),
        case_row.office_code.label("office"),
    ).where(case_row.uci.regexp_match(UCI_PATTERN), scope.changed(case_row.updated_at), ~known)


def suite() -> list[Rule]:
    """Every cross-system rule."""
    rules = [
        Rule(
            f"cross.{stream.name}.delivered",
            f"{interface.name}: a {stream.source_table.replace('_', ' ')} record did not reach "
            f"{interface.target_system.upper()} the night it changed (quarantined, or no feed ran)",
            stream.source_system,
            stream.source_table,
            "source_key",
            None,
            Query(partial(_undelivered, interface, stream)),
            runs_on="control",
            correct_entry=f"the record in {interface.target_system.upper()} after the night's "
            "feed; a quarantined record fixed at its source and carried again",
        )
        for interface in INTERFACES.values()
        for stream in interface.streams
    ]
    rules += [
        Rule(
            "cross.gcms.irb_decision.rekeyed_in_time",
            "re-keyed IRB decision: keyed into GCMS more than 5 business days after the decision",
            "gcms",
            "irb_decision",
            "decision_ref",
            "entered_at",
            Query(_rekeyed_late),
            defect_class="rekeyed_late",
            runs_on="control",
            related=("nova", "decision"),
            correct_entry="keyed within 5 business days (federal and provincial holidays excluded)",
            tags=("time_limit",),
        ),
        Rule(
            "cross.nova.decision.rekeyed",
            "ID/IAD decision: not keyed into GCMS within 5 business days",
            "nova",
            "decision",
            "decision_id",
            None,
            Query(_not_rekeyed),
            defect_class="not_rekeyed",
            runs_on="control",
            correct_entry="the ID or IAD decision keyed into GCMS within 5 business days",
        ),
        Rule(
            "cross.gcms.irb_decision.matches_nova",
            "re-keyed IRB decision: outcome or date differs from the decision in NOVA",
            "gcms",
            "irb_decision",
            "decision_ref",
            "outcome",
            Query(_rekeyed_differently),
            defect_class="rekey_mismatch",
            runs_on="control",
            related=("nova", "decision"),
            correct_entry="outcome and decision date exactly as in NOVA",
        ),
        Rule(
            "cross.ncms.removal_case.uci_in_gcms",
            "removal case: names a UCI that GCMS has no client for",
            "ncms",
            "removal_case",
            "case_no",
            "uci",
            Query(_orphan_cases),
            defect_class="orphan_reference",
            runs_on="control",
            office="office",
            correct_entry="the UCI of an existing GCMS client",
        ),
    ]
    return rules
