"""The code sets and the jurisdiction chart: the one source of truth for every layer.

The simulator, the interfaces, the validations and the reports all read these
tables. Each system spells its codes its own way (NOVA, GCMS and NCMS do not
share code values); the per-system spellings and the mappings between them
live here too, so that an interface mapping is a lookup, never a copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

# --------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------

#: UCI: 8 digits written 0000-0000, or 10 digits written 00-0000-0000.
UCI_PATTERN: Final = r"^([0-9]{4}-[0-9]{4}|[0-9]{2}-[0-9]{4}-[0-9]{4})$"
#: IRB file number: region letter, division letter, a digit, hyphen, five digits
#: (TB1-12345), or an ID file number 0001-/0003-/0018- followed by digits.
IRB_FILE_PATTERN: Final = r"^([TMV][A-Z][0-9]-[0-9]{5}|(0001|0003|0018)-[0-9]{5,8})$"
#: NCMS removal case number (casesync's choice; NCMS has no public format):
#: the CBSA region code, the year the case opened, a six-digit sequence.
NCMS_CASE_PATTERN: Final = r"^(GTA|QUE|PAC|PRA|ATL|NOR|SOR)-[0-9]{4}-[0-9]{6}$"
#: Federal Court immigration file: IMM-<number>-<two-digit year>.
COURT_FILE_PATTERN: Final = r"^IMM-[0-9]{1,5}-[0-9]{2}$"

UCI_RE: Final = re.compile(UCI_PATTERN)
IRB_FILE_RE: Final = re.compile(IRB_FILE_PATTERN)
NCMS_CASE_RE: Final = re.compile(NCMS_CASE_PATTERN)
COURT_FILE_RE: Final = re.compile(COURT_FILE_PATTERN)


def is_uci(value: str | None) -> bool:
    """True when `value` is a well-formed UCI."""
    return bool(value) and UCI_RE.fullmatch(value or "") is not None


def is_irb_file_number(value: str | None) -> bool:
    """True when `value` is a well-formed IRB file number."""
    return bool(value) and IRB_FILE_RE.fullmatch(value or "") is not None


# --------------------------------------------------------------------------
# Organizations, divisions, regions
# --------------------------------------------------------------------------


class System(StrEnum):
    """The three systems of record."""

    NOVA = "nova"
    GCMS = "gcms"
    NCMS = "ncms"


class Division(StrEnum):
    """The IRB's four divisions."""

    RPD = "RPD"  # Refugee Protection Division: refugee claims
    RAD = "RAD"  # Refugee Appeal Division: appeals of RPD decisions
    ID = "ID"  # Immigration Division: admissibility hearings, detention reviews
    IAD = "IAD"  # Immigration Appeal Division: removal-order appeals


#: Divisions whose filings and final decisions travel on the NOVA -> GCMS feed.
FEED_DIVISIONS: Final = frozenset({Division.RPD, Division.RAD})
#: Divisions whose decisions have no interface and are re-keyed into GCMS by hand.
REKEYED_DIVISIONS: Final = frozenset({Division.ID, Division.IAD})

#: IRB regions: the first letter of an IRB file number.
IRB_REGIONS: Final = MappingProxyType({"T": "Central", "M": "Eastern", "V": "Western"})
#: ID file-number prefixes per IRB region.
ID_FILE_PREFIX: Final = MappingProxyType({"V": "0001", "T": "0003", "M": "0018"})
#: Second letter of an IRB file number per division (casesync's convention).
DIVISION_FILE_LETTER: Final = MappingProxyType(
    {Division.RPD: "B", Division.RAD: "C", Division.IAD: "A"}
)

#: CBSA regions (NCMS case-number prefix) and the IRB region that hears their cases.
CBSA_REGIONS: Final = MappingProxyType(
    {
        "GTA": ("Greater Toronto Area", "T"),
        "SOR": ("Southern Ontario", "T"),
        "NOR": ("Northern Ontario", "T"),
        "QUE": ("Quebec", "M"),
        "ATL": ("Atlantic", "M"),
        "PRA": ("Prairie", "V"),
        "PAC": ("Pacific", "V"),
    }
)


@dataclass(frozen=True, slots=True)
class Office:
    """A CBSA inland enforcement office."""

    code: str
    region: str
    name: str
    #: Share of the national removal inventory this office carries.
    weight: float


OFFICES: Final[tuple[Office, ...]] = (
    Office("GTA-TOR", "GTA", "Toronto Greater Toronto Enforcement Centre", 0.30),
    Office("GTA-MIS", "GTA", "Mississauga Inland Enforcement", 0.10),
    Office("SOR-HAM", "SOR", "Hamilton Inland Enforcement", 0.05),
    Office("SOR-LON", "SOR", "London Inland Enforcement", 0.03),
    Office("NOR-OTT", "NOR", "Ottawa Inland Enforcement", 0.04),
    Office("QUE-MTL", "QUE", "Montreal Inland Enforcement", 0.22),
    Office("QUE-QUE", "QUE", "Quebec City Inland Enforcement", 0.02),
    Office("ATL-HFX", "ATL", "Halifax Inland Enforcement", 0.02),
    Office("PRA-CAL", "PRA", "Calgary Inland Enforcement", 0.05),
    Office("PRA-WPG", "PRA", "Winnipeg Inland Enforcement", 0.03),
    Office("PAC-VAN", "PAC", "Vancouver Inland Enforcement", 0.14),
)
OFFICE_BY_CODE: Final = MappingProxyType({office.code: office for office in OFFICES})


# --------------------------------------------------------------------------
# Inadmissibility grounds and the jurisdiction chart
# --------------------------------------------------------------------------


class Authority(StrEnum):
    """Who issues a removal order."""

    MD = "MD"  # Minister's Delegate (a CBSA officer)
    ID = "ID"  # Immigration Division of the IRB


class OrderType(StrEnum):
    """The three types of removal order (IRPR 223)."""

    DEPARTURE = "departure"
    EXCLUSION = "exclusion"
    DEPORTATION = "deportation"


class Category(StrEnum):
    """The ground categories of the reference's Tables 1 and 2."""

    HEALTH = "Health"
    HUMAN_RIGHTS = "Human Rights Violations"
    FINANCIAL = "Financial"
    FAMILY_MEMBER = "Inadmissible Family Member"
    CESSATION = "Cessation"
    UNSPECIFIED = "Unspecified"
    SECURITY = "Security grounds"
    ORGANIZED_CRIME = "Organized Crime"
    MISREPRESENTATION = "Misrepresentation"
    CRIMINALITY = "Criminality"
    NON_COMPLIANCE = "Non Compliance"


class Status(StrEnum):
    """A person's status in Canada, as GCMS records it."""

    FOREIGN_NATIONAL = "FN"
    PERMANENT_RESIDENT = "PR"
    PROTECTED_PERSON = "PP"


@dataclass(frozen=True, slots=True)
class Ground:
    """An IRPA inadmissibility ground (the section a s.44 report alleges)."""

    code: str  # the IRPA provision, as casesync writes it
    label: str
    category: Category
    #: Inadmissible on security, rights violations, criminality or organized crime
    #: (s.34-37): priority 1, and not protected by a TSR.
    serious: bool


GROUNDS: Final[tuple[Ground, ...]] = (
    Ground("34", "security", Category.SECURITY, True),
    Ground("35(1)(a)", "war crimes or crimes against humanity", Category.HUMAN_RIGHTS, True),
    Ground("35(1)(b)", "prescribed senior official", Category.HUMAN_RIGHTS, True),
    Ground("35(1)(c)", "international sanctions", Category.HUMAN_RIGHTS, True),
    Ground("35(1)(d)", "Special Economic Measures Act order", Category.HUMAN_RIGHTS, True),
    Ground(
        "35(1)(e)",
        "Justice for Victims of Corrupt Foreign Officials Act order",
        Category.HUMAN_RIGHTS,
        True,
    ),
    Ground("36(1)(a)", "serious criminality, convicted in Canada", Category.CRIMINALITY, True),
    Ground("36(1)(b)", "serious criminality, convicted outside Canada", Category.CRIMINALITY, True),
    Ground("36(1)(c)", "serious criminality, act outside Canada", Category.CRIMINALITY, True),
    Ground("36(2)(a)", "criminality, convicted in Canada", Category.CRIMINALITY, True),
    Ground("36(2)(b)", "criminality, convicted outside Canada", Category.CRIMINALITY, True),
    Ground("36(2)(c)", "criminality, act outside Canada", Category.CRIMINALITY, True),
    Ground("36(2)(d)", "criminality, offence on entry to Canada", Category.CRIMINALITY, True),
    Ground("37", "organized criminality", Category.ORGANIZED_CRIME, True),
    Ground("38", "health", Category.HEALTH, False),
    Ground("39", "financial reasons", Category.FINANCIAL, False),
    Ground("40(1)(a)", "misrepresentation", Category.MISREPRESENTATION, False),
    Ground("40(1)(b)", "misrepresentation, sponsor", Category.MISREPRESENTATION, False),
    Ground("40(1)(c)", "refugee protection vacated", Category.MISREPRESENTATION, False),
    Ground(
        "40(1)(d)", "citizenship revoked for misrepresentation", Category.MISREPRESENTATION, False
    ),
    Ground("40.1", "cessation of refugee protection", Category.CESSATION, False),
    Ground("41(a)", "non-compliance, foreign national", Category.NON_COMPLIANCE, False),
    Ground(
        "41(b)",
        "non-compliance, permanent resident residency obligation",
        Category.NON_COMPLIANCE,
        False,
    ),
    Ground("42", "inadmissible family member", Category.FAMILY_MEMBER, False),
    # Reports the published statistics do not attribute to a single category:
    # casesync models them as reports alleging several grounds, which the MD
    # refers to the ID (the ID can hear every ground).
    Ground("multiple", "several grounds alleged", Category.UNSPECIFIED, False),
)
GROUND_BY_CODE: Final = MappingProxyType({ground.code: ground for ground in GROUNDS})
GROUND_CODES: Final = tuple(ground.code for ground in GROUNDS)

#: Who each ground applies to (IRPA): s.36(2), 38, 39 and 41(a) reach foreign
#: nationals only, and 42 foreign nationals other than protected persons, so a
#: permanent resident is never reported or ordered removed under them; 41(b)
#: (the residency obligation) reaches permanent residents only. The others
#: (34, 35, 36(1), 37, 40, 40.1) reach both.
FOREIGN_NATIONAL_ONLY_GROUNDS: Final = frozenset(
    {"36(2)(a)", "36(2)(b)", "36(2)(c)", "36(2)(d)", "38", "39", "41(a)", "42"}
)
PERMANENT_RESIDENT_ONLY_GROUNDS: Final = frozenset({"41(b)"})
#: Grounds that do not reach a protected person (s.42: family members other than protected persons).
NOT_PROTECTED_PERSON_GROUNDS: Final = frozenset({"42"})


def ground_applies(ground: str, status: str) -> bool:
    """True when a report or order on `ground` can concern a person of `status`."""
    if status == "PR":
        return ground not in FOREIGN_NATIONAL_ONLY_GROUNDS
    if ground in PERMANENT_RESIDENT_ONLY_GROUNDS:
        return False
    return not (status == "PP" and ground in NOT_PROTECTED_PERSON_GROUNDS)


class NonCompliance(StrEnum):
    """What a s.41(a) report says the foreign national failed to do."""

    NO_SHOW = "no_show"  # did not appear for an examination or hearing
    NO_VISA = "no_visa"  # entered or stayed without the required visa or permit
    OVERSTAY = "overstay"  # stayed past the authorized period
    OTHER = "other"  # worked or studied without authorization, other conditions
    NO_ARC = "no_arc"  # returned without an authorization to return to Canada


#: Non-compliance kinds for which an undecided refugee claimant gets a departure order.
CLAIMANT_DEPARTURE_NON_COMPLIANCE: Final = frozenset(
    {NonCompliance.NO_SHOW, NonCompliance.NO_VISA, NonCompliance.OVERSTAY}
)


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One row of the jurisdiction chart: who issues the order, and which type.

    `grounds` are the IRPA provisions the row covers; `status` narrows a row to
    foreign nationals or permanent residents (36(1)(a) is split that way);
    `non_compliance` narrows a s.41(a) row. `order_type` None means "the same
    type as the family member's order" (s.42).
    """

    row: str  # how the chart names the row
    grounds: frozenset[str]
    authority: Authority
    order_type: OrderType | None
    status: frozenset[Status] | None = None
    non_compliance: frozenset[NonCompliance] | None = None


_ALL_BUT_PR: Final = frozenset({Status.FOREIGN_NATIONAL, Status.PROTECTED_PERSON})
_NC_EXCLUSION: Final = frozenset(NonCompliance) - {NonCompliance.NO_ARC}

#: The jurisdiction chart (the reference's chart for authority; IRPR 228-229 for type).
JURISDICTION_CHART: Final[tuple[ChartRow, ...]] = (
    ChartRow("34 security", frozenset({"34"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("35(1)(a) war crimes", frozenset({"35(1)(a)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow(
        "35(1)(b) senior official", frozenset({"35(1)(b)"}), Authority.ID, OrderType.DEPORTATION
    ),
    ChartRow("35(1)(c) sanctions", frozenset({"35(1)(c)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("35(1)(d) SEMA order", frozenset({"35(1)(d)"}), Authority.MD, OrderType.DEPORTATION),
    ChartRow("35(1)(e) JVCFOA order", frozenset({"35(1)(e)"}), Authority.MD, OrderType.DEPORTATION),
    ChartRow(
        "36(1)(a) foreign national",
        frozenset({"36(1)(a)"}),
        Authority.MD,
        OrderType.DEPORTATION,
        status=_ALL_BUT_PR,
    ),
    ChartRow(
        "36(1)(a) permanent resident",
        frozenset({"36(1)(a)"}),
        Authority.ID,
        OrderType.DEPORTATION,
        status=frozenset({Status.PERMANENT_RESIDENT}),
    ),
    ChartRow("36(1)(b)", frozenset({"36(1)(b)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("36(1)(c)", frozenset({"36(1)(c)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("36(2)(a)", frozenset({"36(2)(a)"}), Authority.MD, OrderType.DEPORTATION),
    ChartRow("36(2)(b)", frozenset({"36(2)(b)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("36(2)(c)", frozenset({"36(2)(c)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("36(2)(d)", frozenset({"36(2)(d)"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("37 organized criminality", frozenset({"37"}), Authority.ID, OrderType.DEPORTATION),
    ChartRow("38 health", frozenset({"38"}), Authority.ID, OrderType.EXCLUSION),
    ChartRow("39 financial", frozenset({"39"}), Authority.ID, OrderType.EXCLUSION),
    ChartRow(
        "40(1)(a),(b) misrepresentation",
        frozenset({"40(1)(a)", "40(1)(b)"}),
        Authority.ID,
        OrderType.EXCLUSION,
    ),
    ChartRow(
        "40(1)(d) misrepresentation", frozenset({"40(1)(d)"}), Authority.ID, OrderType.DEPORTATION
    ),
    ChartRow("40(1)(c) vacation", frozenset({"40(1)(c)"}), Authority.MD, OrderType.DEPORTATION),
    ChartRow("40.1 cessation", frozenset({"40.1"}), Authority.MD, OrderType.DEPARTURE),
    ChartRow(
        "41 non-compliance, foreign national",
        frozenset({"41(a)"}),
        Authority.MD,
        OrderType.EXCLUSION,
        non_compliance=_NC_EXCLUSION,
    ),
    ChartRow(
        "41 returned without authorization to return",
        frozenset({"41(a)"}),
        Authority.MD,
        OrderType.DEPORTATION,
        non_compliance=frozenset({NonCompliance.NO_ARC}),
    ),
    ChartRow("41(b) residency obligation", frozenset({"41(b)"}), Authority.MD, OrderType.DEPARTURE),
    ChartRow("42 inadmissible family member", frozenset({"42"}), Authority.MD, None),
    ChartRow(
        "several grounds (Unspecified)",
        frozenset({"multiple"}),
        Authority.ID,
        OrderType.DEPORTATION,
    ),
)

#: Grounds for which an undecided refugee claimant gets a departure order instead
#: of an exclusion order (with the s.41 non-compliance kinds above).
CLAIMANT_DEPARTURE_GROUNDS: Final = frozenset({"38", "39"})


class JurisdictionError(ValueError):
    """The facts of a case match no row of the jurisdiction chart."""


def chart_row(
    ground: str, status: Status | str = Status.FOREIGN_NATIONAL, non_compliance: str | None = None
) -> ChartRow:
    """The chart row that governs a report on `ground` for a person of `status`."""
    status = Status(status)
    kind = NonCompliance(non_compliance) if non_compliance else None
    if ground == "41(a)" and kind is None:
        kind = NonCompliance.OTHER
    for row in JURISDICTION_CHART:
        if ground not in row.grounds:
            continue
        if row.status is not None and status not in row.status:
            continue
        if row.non_compliance is not None and kind not in row.non_compliance:
            continue
        return row
    raise JurisdictionError(f"no jurisdiction chart row for ground {ground!r} ({status})")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Who must issue the order, and of which type."""

    authority: Authority
    order_type: OrderType


def jurisdiction(
    ground: str,
    *,
    status: Status | str = Status.FOREIGN_NATIONAL,
    non_compliance: str | None = None,
    is_claimant: bool = False,
    is_vulnerable: bool = False,
    family_order_type: OrderType | str | None = None,
) -> Jurisdiction:
    """Apply the chart and its modifiers to the facts of one case.

    `is_claimant`: a refugee claimant whose claim is not yet decided.
    `is_vulnerable`: an unaccompanied minor or a person unable to understand
    the proceedings (always heard by the ID).
    `family_order_type`: for s.42, the type of the family member's order.
    """
    row = chart_row(ground, status, non_compliance)
    order_type = row.order_type
    if order_type is None:
        if family_order_type is None:
            raise JurisdictionError("a s.42 order needs the family member's order type")
        order_type = OrderType(family_order_type)
    if is_claimant and order_type is OrderType.EXCLUSION:
        kind = NonCompliance(non_compliance) if non_compliance else None
        if ground in CLAIMANT_DEPARTURE_GROUNDS or (
            ground == "41(a)" and kind in CLAIMANT_DEPARTURE_NON_COMPLIANCE
        ):
            order_type = OrderType.DEPARTURE
    authority = Authority.ID if is_vulnerable else row.authority
    return Jurisdiction(authority, order_type)


def possible_order_types(ground: str) -> frozenset[OrderType]:
    """Every order type the chart allows on `ground`, whatever the person's status and claim.

    What a system that holds the ground and the type, but not the facts the
    chart turns on (NCMS's copy of an order), can still be checked against.
    """
    types: set[OrderType] = set()
    for row in JURISDICTION_CHART:
        if ground not in row.grounds:
            continue
        if row.order_type is None:  # s.42: the family member's order, any type
            return frozenset(OrderType)
        types.add(row.order_type)
        claimant_departure = ground in CLAIMANT_DEPARTURE_GROUNDS or ground == "41(a)"
        if row.order_type is OrderType.EXCLUSION and claimant_departure:
            types.add(OrderType.DEPARTURE)
    return frozenset(types)


# --------------------------------------------------------------------------
# Removal orders: consequences and clocks
# --------------------------------------------------------------------------

#: Days a departure order leaves the person before it becomes a deportation order.
DEPARTURE_ORDER_DAYS: Final = 30
#: Years an exclusion order bars return without written authorization.
EXCLUSION_BAR_YEARS: Final = 1
EXCLUSION_BAR_YEARS_MISREPRESENTATION: Final = 5

#: Days to file a RAD appeal after the RPD's reasons, and to perfect it.
RAD_FILING_DAYS: Final = 15
RAD_PERFECTING_DAYS: Final = 30
#: Days the RAD has to decide an appeal without a hearing.
RAD_DECISION_DAYS: Final = 90
#: Days to apply to the Federal Court for leave for judicial review.
FEDERAL_COURT_LEAVE_DAYS: Final = 15
#: Days after which a litigation entry in GCMS counts as entered late.
LITIGATION_ENTRY_DAYS: Final = 15
#: Days after a RAD rejection before a claimant's removal order comes into force.
ORDER_IN_FORCE_AFTER_RAD_DAYS: Final = 15
#: Days to submit a PRRA application after notification.
PRRA_APPLICATION_DAYS: Final = 15

#: s.57 detention reviews: within 48 hours, then within 7 days, then every 30 days.
DETENTION_FIRST_REVIEW_HOURS: Final = 48
DETENTION_SECOND_REVIEW_DAYS: Final = 7
DETENTION_LATER_REVIEW_DAYS: Final = 30

#: Review cycles of files in the removal inventory, in years.
REVIEW_CYCLE_YEARS_CRIMINAL: Final = 1
REVIEW_CYCLE_YEARS_FAILED_CLAIMANT: Final = 3
#: Days without a recorded activity after which a working-inventory file looks dormant.
DORMANT_DAYS: Final = 180
#: Default maximum caseload of an inland enforcement officer.
DEFAULT_MAX_CASELOAD: Final = 120
#: Business days within which an ID or IAD decision is re-keyed into GCMS.
REKEY_MIN_BUSINESS_DAYS: Final = 2
REKEY_MAX_BUSINESS_DAYS: Final = 5


# --------------------------------------------------------------------------
# IRB outcomes, and how GCMS and NCMS spell them
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A final-decision outcome of an IRB division, in each system's spelling."""

    division: Division
    nova: str  # NOVA's code
    gcms: str  # GCMS's code
    ncms: str  # NCMS's code
    label: str
    #: Leaves the person without status (opens the way to removal).
    negative: bool


OUTCOMES: Final[tuple[Outcome, ...]] = (
    Outcome(Division.RPD, "ACC", "RPD-POS", "RP1", "claim accepted", False),
    Outcome(Division.RPD, "REJ", "RPD-NEG", "RP2", "claim rejected", True),
    Outcome(Division.RPD, "ABN", "RPD-ABD", "RP3", "claim abandoned", True),
    Outcome(Division.RPD, "WDO", "RPD-WDR", "RP4", "claim withdrawn or other", True),
    Outcome(Division.RAD, "DNJ", "RAD-DNJ", "RA1", "dismissed, no jurisdiction", True),
    Outcome(Division.RAD, "DNP", "RAD-DNP", "RA2", "dismissed, not perfected", True),
    Outcome(Division.RAD, "DWA", "RAD-DWA", "RA3", "dismissed, withdrawn or abandoned", True),
    Outcome(Division.RAD, "CNF", "RAD-CNF", "RA4", "dismissed, RPD decision confirmed", True),
    Outcome(Division.RAD, "ARB", "RAD-REF", "RA5", "allowed, referred back to the RPD", False),
    Outcome(Division.RAD, "ASU", "RAD-SUB", "RA6", "allowed, decision substituted", False),
    Outcome(Division.ID, "RMO", "ID-RMO", "ID1", "removal order made", True),
    Outcome(Division.ID, "ENT", "ID-ENT", "ID2", "entry or status granted", False),
    Outcome(Division.ID, "AFE", "ID-AFE", "ID3", "allowed further examination", False),
    Outcome(Division.IAD, "ALW", "IAD-ALW", "IA1", "appeal allowed", False),
    Outcome(Division.IAD, "STY", "IAD-STY", "IA2", "removal stayed", False),
    Outcome(Division.IAD, "DIS", "IAD-DIS", "IA3", "appeal dismissed", True),
)
OUTCOME_BY_NOVA: Final = MappingProxyType({o.nova: o for o in OUTCOMES})
OUTCOME_BY_GCMS: Final = MappingProxyType({o.gcms: o for o in OUTCOMES})
OUTCOME_BY_NCMS: Final = MappingProxyType({o.ncms: o for o in OUTCOMES})
NOVA_TO_GCMS_OUTCOME: Final = MappingProxyType({o.nova: o.gcms for o in OUTCOMES})
GCMS_TO_NCMS_OUTCOME: Final = MappingProxyType({o.gcms: o.ncms for o in OUTCOMES})


def outcomes(division: Division) -> tuple[Outcome, ...]:
    """The final-decision outcomes of one division."""
    return tuple(o for o in OUTCOMES if o.division is division)


class DetentionReviewOutcome(StrEnum):
    """ID detention review outcomes."""

    RELEASED_CONDITIONS = "RWC"
    RELEASED_NO_CONDITIONS = "RNC"
    CONTINUED = "DCO"


# --------------------------------------------------------------------------
# NOVA proceedings and filings
# --------------------------------------------------------------------------


class Proceeding(StrEnum):
    """What an IRB case file is about."""

    CLAIM = "CLAIM"  # RPD refugee claim
    APPEAL = "APPEAL"  # RAD appeal of an RPD decision
    ADMISSIBILITY = "ADMHRG"  # ID admissibility hearing
    DETENTION_REVIEW = "DETREV"  # ID detention review
    REMOVAL_APPEAL = "RMAPL"  # IAD appeal of a removal order


PROCEEDING_DIVISION: Final = MappingProxyType(
    {
        Proceeding.CLAIM: Division.RPD,
        Proceeding.APPEAL: Division.RAD,
        Proceeding.ADMISSIBILITY: Division.ID,
        Proceeding.DETENTION_REVIEW: Division.ID,
        Proceeding.REMOVAL_APPEAL: Division.IAD,
    }
)


class FilingType(StrEnum):
    """Documents filed with the IRB, as NOVA codes them."""

    REFERRAL = "RFR"  # claim referred to the RPD
    NOTICE_OF_APPEAL = "NOA"  # RAD or IAD notice of appeal
    APPEAL_RECORD = "APR"  # appeal perfected
    ADMISSIBILITY_REFERRAL = "A44"  # MD referral of a s.44 report to the ID
    DETENTION_REFERRAL = "D57"  # detention referred for review


# --------------------------------------------------------------------------
# GCMS: reports, orders, litigation, PRRA, travel documents, stays, departures
# --------------------------------------------------------------------------


class MinisterDelegateDecision(StrEnum):
    """What the Minister's Delegate decided on a s.44 report."""

    ORDER_ISSUED = "ORDER"
    REFERRED_TO_ID = "REFER"
    NO_ACTION = "NOACT"


class OrderStatus(StrEnum):
    """GCMS removal-order status."""

    ISSUED = "ISSUED"  # made, not yet enforceable
    IN_FORCE = "IN_FORCE"  # enforceable
    STAYED = "STAYED"
    ENFORCED = "ENFORCED"  # departure confirmed
    CANCELLED = "CANCELLED"


class StayType(StrEnum):
    """Stays of removal (s.50, IRPR 230-233)."""

    SENTENCE = "SENTENCE"  # serving a prison sentence, until it is satisfied
    COURT = "COURT"  # Federal Court stay (judicial review of a RAD decision)
    IAD = "IAD"  # IAD stay of the removal order
    PRRA = "PRRA"  # from PRRA notification until the decision
    MINISTER = "MINISTER"
    TSR = "TSR"  # temporary suspension of removals to a country


class LitigationMatter(StrEnum):
    """Federal Court matters recorded in GCMS."""

    JR_RAD = "JR-RAD"  # leave for judicial review of a RAD decision
    JR_PRRA = "JR-PRRA"
    JR_REMOVAL = "JR-REM"  # review of a removal-order or deferral decision


class LeaveDecision(StrEnum):
    GRANTED = "GRANTED"
    DISMISSED = "DISMISSED"


class CourtOutcome(StrEnum):
    ALLOWED = "ALLOWED"
    DISMISSED = "DISMISSED"


class PrraDecision(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class TravelDocumentType(StrEnum):
    PASSPORT = "PASSPORT"
    EMERGENCY = "ETD"  # emergency travel document from the country's mission
    LAISSEZ_PASSER = "LP"


class TravelDocumentStatus(StrEnum):
    REQUESTED = "REQUESTED"
    ISSUED = "ISSUED"
    REFUSED = "REFUSED"
    EXPIRED = "EXPIRED"


class DepartureMethod(StrEnum):
    """How a departure was confirmed."""

    PORT_OF_ENTRY = "POE"  # certificate of departure at a port of entry
    R240_3 = "R240(3)"  # an officer in Canada confirmed the person left


# --------------------------------------------------------------------------
# NCMS: inventories, priorities, impediments, warrants, detention
# --------------------------------------------------------------------------


class Inventory(StrEnum):
    """NCMS inventory labels."""

    READY = "WIP-RR"  # working inventory, removal-ready
    IMPEDED = "WIP-IMP"  # working inventory, impeded
    WANTED = "WANTED"  # warrant issued, whereabouts unknown
    MONITORING = "MON"
    MONITORING_STAYED = "MON-STY"
    CLOSED = "CLOSED"  # removed or no longer removable


WORKING_INVENTORIES: Final = frozenset({Inventory.READY, Inventory.IMPEDED})


class Priority(StrEnum):
    """Removal priorities (Integrated Intelligence and Enforcement Priorities)."""

    IRREGULAR_FAILED_CLAIMANT = "P1-IMFC"
    SERIOUS_INADMISSIBILITY = "P1-SI"
    FAILED_CLAIMANT = "P2"
    OTHER = "P3"


PRIORITY_LABELS: Final = MappingProxyType(
    {
        Priority.IRREGULAR_FAILED_CLAIMANT: "Irregular migrant failed claimant (P1)",
        Priority.SERIOUS_INADMISSIBILITY: "Serious inadmissibility (P1)",
        Priority.FAILED_CLAIMANT: "Refugee claimants (P2)",
        Priority.OTHER: "Other inadmissibilities (P3)",
    }
)


def expected_priority(ground: str, *, failed_claimant: bool, irregular_migrant: bool) -> Priority:
    """The removal priority a case must carry, given its ground and claim history."""
    if GROUND_BY_CODE[ground].serious:
        return Priority.SERIOUS_INADMISSIBILITY
    if failed_claimant and irregular_migrant:
        return Priority.IRREGULAR_FAILED_CLAIMANT
    if failed_claimant:
        return Priority.FAILED_CLAIMANT
    return Priority.OTHER


class Impediment(StrEnum):
    """What stops a removal for now."""

    PRRA = "PRRA"
    JUDICIAL_REVIEW = "JR"
    STAY = "STAY"  # court, IAD or Minister's stay
    NO_TRAVEL_DOCUMENT = "NO-TD"
    MEDICAL = "MED"
    TSR = "TSR"  # temporary suspension of removals
    DEFERRAL = "ADR"  # administrative deferral of removals
    SENTENCE = "SENT"  # serving a sentence


class WarrantType(StrEnum):
    """What an immigration warrant for arrest (s.55) is for."""

    REMOVAL = "REM"
    EXAMINATION = "EXA"
    ADMISSIBILITY_HEARING = "HRG"
    MD_REVIEW = "MDR"


class WarrantCancellation(StrEnum):
    """Why a warrant was cancelled (tracked since the interoperability project)."""

    SURRENDERED = "SURR"  # the person reported voluntarily
    DEPARTED = "DEPT"  # departure confirmed
    STATUS = "STAT"  # status granted or order quashed
    DECEASED = "DCSD"
    ERROR = "ERR"  # issued in error


class ArrestReason(StrEnum):
    """Why a person was arrested and detained (the reference's Table 3)."""

    IDENTITY = "Identity"
    EXAMINATION = "Examination"
    ADMISSIBILITY_HEARING = "Admissibility Hearing"
    MD_REVIEW = "Minister's Delegate Review"
    REMOVAL = "Removal"


ARREST_REASON_WARRANT: Final = MappingProxyType(
    {
        ArrestReason.IDENTITY: WarrantType.EXAMINATION,
        ArrestReason.EXAMINATION: WarrantType.EXAMINATION,
        ArrestReason.ADMISSIBILITY_HEARING: WarrantType.ADMISSIBILITY_HEARING,
        ArrestReason.MD_REVIEW: WarrantType.MD_REVIEW,
        ArrestReason.REMOVAL: WarrantType.REMOVAL,
    }
)


class Facility(StrEnum):
    HOLDING_CENTRE = "IHC"
    PROVINCIAL_JAIL = "PROV"
    OTHER = "OTHER"


class AlternativeToDetention(StrEnum):
    CONDITIONS = "COND"  # cooperate and report address
    DEPOSIT = "DEPOSIT"  # deposit or guarantee
    VOICE_REPORTING = "VRP"
    IN_PERSON_REPORTING = "IPR"
    COMMUNITY_CASE_MANAGEMENT = "CCMS"
    ELECTRONIC_MONITORING = "EM"


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    REMOVED = "REMOVED"
    CLOSED = "CLOSED"


# --------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------

#: Countries under a removal suspension or administrative deferral (2020).
TSR_COUNTRIES: Final = frozenset(
    {
        "AFG",
        "BDI",
        "CAF",
        "COD",
        "PSE",
        "HTI",
        "IRQ",
        "LBY",
        "MLI",
        "SOM",
        "SSD",
        "SYR",
        "VEN",
        "YEM",
    }
)

#: Countries of citizenship of refugee claimants, with weights (2019 leaders first).
CLAIMANT_COUNTRIES: Final = MappingProxyType(
    {
        "IND": 0.14,
        "MEX": 0.09,
        "IRN": 0.07,
        "CHN": 0.06,
        "COL": 0.07,
        "PAK": 0.05,
        "TUR": 0.04,
        "NGA": 0.08,
        "VEN": 0.02,
        "HTI": 0.03,
        "COD": 0.03,
        "USA": 0.02,
        "ERI": 0.02,
        "AFG": 0.02,
        "SOM": 0.02,
        "IRQ": 0.02,
        "SYR": 0.02,
        "BGD": 0.02,
        "LKA": 0.02,
        "GHA": 0.02,
        "EGY": 0.02,
        "UKR": 0.02,
        "ETH": 0.02,
        "YEM": 0.01,
        "BDI": 0.01,
        "CAF": 0.005,
        "LBY": 0.005,
        "MLI": 0.005,
        "PSE": 0.005,
        "SSD": 0.005,
    }
)
#: Countries of citizenship in irregular arrivals (Nigeria about 19%).
IRREGULAR_COUNTRIES: Final = MappingProxyType(
    {
        "NGA": 0.19,
        "COL": 0.12,
        "COD": 0.09,
        "PAK": 0.08,
        "USA": 0.07,
        "HTI": 0.07,
        "TUR": 0.05,
        "ERI": 0.05,
        "IND": 0.05,
        "SDN": 0.04,
        "AGO": 0.04,
        "SOM": 0.04,
        "YEM": 0.03,
        "AFG": 0.03,
        "VEN": 0.05,
    }
)
#: Other foreign nationals (visitors, workers, students, permanent residents).
OTHER_COUNTRIES: Final = MappingProxyType(
    {
        "IND": 0.16,
        "CHN": 0.10,
        "PHL": 0.08,
        "MEX": 0.07,
        "USA": 0.07,
        "JAM": 0.05,
        "VNM": 0.04,
        "GBR": 0.03,
        "FRA": 0.03,
        "BRA": 0.04,
        "KOR": 0.03,
        "PAK": 0.04,
        "NGA": 0.04,
        "IRN": 0.04,
        "COL": 0.03,
        "ROU": 0.02,
        "GUY": 0.02,
        "TTO": 0.02,
        "LKA": 0.02,
        "HTI": 0.03,
        "DZA": 0.02,
        "MAR": 0.02,
        "UKR": 0.02,
        "POL": 0.01,
        "SOM": 0.02,
    }
)
#: Every country code the systems may hold.
COUNTRIES: Final = (
    frozenset(CLAIMANT_COUNTRIES) | frozenset(IRREGULAR_COUNTRIES) | frozenset(OTHER_COUNTRIES)
)


def all_codes(enum: type[StrEnum]) -> tuple[str, ...]:
    """The values of a code set, for SQL `IN` lists and GX value sets."""
    return tuple(member.value for member in enum)
