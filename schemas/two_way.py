"""The two-way interfaces (CASESYNC_INTEROP_MODE=two_way), declared like the one-way ones.

- `ncms_to_gcms`: NCMS's warrants (type, execution, cancellation and its
  reason), its removal cases (triage and review decisions: inventory,
  priority, the last file review; removal information: removed on, how the
  departure was confirmed) and its R240(3) confirmations of departure, into
  GCMS: the officers no longer re-key them.
- `gcms_to_nova`: the s.44 reports the Minister's Delegate reviewed and
  referred to the ID: cases cleared for the IRB to schedule.

Who owns each field either way carries is `schemas/ownership.py`.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import Integer, Select, case, cast, func, literal, select

from schemas import gcms, ncms
from schemas.codes import CBSA_REGIONS, DepartureMethod
from schemas.guidelines import FEED_USERS
from schemas.interfaces import INTERFACES, Interface, Stream

#: An R240(3) confirmation the NCMS feed loads is numbered from its case number
#: (region, year, sequence), far above the numbers GCMS's clerks are given.
R240_NUMBERS_FROM: Final = 800_000_000
_REGION_ORDER: Final = tuple(CBSA_REGIONS)


def r240_confirmation_id(case_no: Any) -> Any:
    """The GCMS confirmation number of a case's R240(3) departure (SQL, any backend)."""
    region = case(
        *((func.substr(case_no, 1, 3) == code, literal(i)) for i, code in enumerate(_REGION_ORDER)),
        else_=literal(len(_REGION_ORDER)),
    )
    year = cast(func.substr(case_no, 5, 4), Integer)
    sequence = cast(func.substr(case_no, 10, 6), Integer)
    return R240_NUMBERS_FROM + region * 40_000_000 + (year - 1990) * 1_000_000 + sequence


# ------------------------------------------------------------------ NCMS -> GCMS


def _ncms_warrants() -> Select:
    w, c = ncms.Warrant, ncms.RemovalCase
    return select(
        w.warrant_no.label("source_key"),
        c.uci,
        w.warrant_type,
        w.issued_on,
        w.executed_on,
        w.cancelled_on,
        w.cancellation_reason,
    ).join(c, c.case_no == w.case_no)


def _ncms_cases() -> Select:
    c = ncms.RemovalCase
    return select(
        c.case_no.label("source_key"),
        c.uci,
        c.gcms_order_id,
        c.office_code,
        c.inventory,
        c.priority,
        c.case_status,
        c.last_review_on,
        c.removed_on,
        c.removal_confirmation,
        c.closed_on,
    )


def _ncms_departures() -> Select:
    c = ncms.RemovalCase
    return select(
        r240_confirmation_id(c.case_no).label("source_key"),
        c.case_no,
        c.uci,
        c.gcms_order_id,
        c.removed_on,
        c.removal_confirmation,
    ).where(c.removal_confirmation == DepartureMethod.R240_3.value)  # no date: quarantined


NCMS_TO_GCMS = Interface(
    name="ncms_to_gcms",
    source_system="ncms",
    target_system="gcms",
    description="warrants, triage and review decisions, removal information, R240(3) departures",
    cutoff=dt.time(2, 15),
    two_way_only=True,
    streams=(
        Stream(
            name="warrants",
            source_table="warrant",
            source_system="ncms",
            target_system="gcms",
            target_table="warrant",
            records=_ncms_warrants,
            joined=(ncms.Warrant, ncms.RemovalCase),
            fields={
                "uci": "uci",
                "warrant_type": "warrant_type",
                "issued_on": "issued_on",
                "executed_on": "executed_on",
                "cancelled_on": "cancelled_on",
                "cancellation_reason": "cancellation_reason",
            },
            target_key="warrant_no",
            required=("warrant_no", "warrant_type", "issued_on"),
            not_from=(FEED_USERS["gcms_to_ncms"],),
        ),
        Stream(
            name="removal_cases",
            source_table="removal_case",
            source_system="ncms",
            target_system="gcms",
            target_table="enforcement_case",
            records=_ncms_cases,
            joined=(ncms.RemovalCase,),
            fields={
                "uci": "uci",
                "order_id": "gcms_order_id",
                "office_code": "office_code",
                "inventory": "inventory",
                "priority": "priority",
                "case_status": "case_status",
                "last_review_on": "last_review_on",
                "removed_on": "removed_on",
                "removal_confirmation": "removal_confirmation",
                "closed_on": "closed_on",
            },
            target_key="case_no",
            required=("case_no", "case_status"),
            not_from=(FEED_USERS["gcms_to_ncms"],),
        ),
        Stream(
            name="r240_departures",
            source_table="removal_case",
            source_system="ncms",
            target_system="gcms",
            target_table="departure_confirmation",
            records=_ncms_departures,
            joined=(ncms.RemovalCase,),
            fields={
                "order_id": "gcms_order_id",
                "uci": "uci",
                "departed_on": "removed_on",
                "method": "removal_confirmation",
                "ncms_case_no": "case_no",
            },
            target_key="confirmation_id",
            required=("confirmation_id", "departed_on", "method"),
            constants={"location": None},
            not_from=(FEED_USERS["gcms_to_ncms"],),
        ),
    ),
)

# ------------------------------------------------------------------ GCMS -> NOVA


def _gcms_referrals() -> Select:
    r = gcms.InadmissibilityReport
    return select(
        r.report_id.label("source_key"),
        r.uci,
        r.referral_file_no,
        r.irpa_ground,
        r.md_reviewed_on,
        r.office_code,
    ).where(r.referral_file_no.is_not(None))


GCMS_TO_NOVA = Interface(
    name="gcms_to_nova",
    source_system="gcms",
    target_system="nova",
    description="cases triaged, reviewed and cleared for the IRB to schedule",
    cutoff=dt.time(2, 45),
    two_way_only=True,
    streams=(
        Stream(
            name="cleared_for_scheduling",
            source_table="inadmissibility_report",
            source_system="gcms",
            target_system="nova",
            target_table="scheduling_referral",
            records=_gcms_referrals,
            joined=(gcms.InadmissibilityReport,),
            fields={
                "uci": "uci",
                "irb_file_no": "referral_file_no",
                "irpa_ground": "irpa_ground",
                "referred_on": "md_reviewed_on",
                "office_code": "office_code",
            },
            target_key="referral_ref",
            key_format="R{}",
            required=("referral_ref", "irb_file_no", "referred_on"),
            not_from=(FEED_USERS["nova_to_gcms"],),
        ),
    ),
)

#: The two-way interfaces, in the order a night runs them.
TWO_WAY_INTERFACES: Final = MappingProxyType({i.name: i for i in (NCMS_TO_GCMS, GCMS_TO_NOVA)})

#: Every interface in the order a two-way night runs them: NOVA -> GCMS, NCMS -> GCMS,
#: GCMS -> NCMS, GCMS -> NOVA (each night's interval ends at its cutoff).
ALL_INTERFACES: Final = MappingProxyType(
    {
        name: interface
        for name, interface in sorted(
            {**INTERFACES, **TWO_WAY_INTERFACES}.items(), key=lambda item: item[1].cutoff
        )
    }
)
