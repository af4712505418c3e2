"""NCMS, CBSA's inland enforcement case tracking: removal cases and the work on them.

NCMS is case-centric: a removal case (numbered REGION-YYYY-NNNNNN, casesync's
format) carries the inventory, priority, impediments and the officer; warrants,
detentions and their reviews, interviews, travel-document requests and an
activity log hang off it. What GCMS sends arrives in the feed tables
(irb_outcome, legal_matter, travel_doc_info), in NCMS's own codes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.base import EntryStamp, FeedStamp, new_metadata


class NcmsBase(DeclarativeBase):
    """Tables of the NCMS database."""

    metadata = new_metadata()


class Office(EntryStamp, NcmsBase):
    """A CBSA inland enforcement office."""

    __tablename__ = "office"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(3))
    office_name: Mapped[str] = mapped_column(String(80))


class Officer(EntryStamp, NcmsBase):
    """An inland enforcement officer and the most cases they may carry."""

    __tablename__ = "officer"

    officer_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    office_code: Mapped[str] = mapped_column(ForeignKey("office.office_code"), index=True)
    family_name: Mapped[str] = mapped_column(String(80))
    given_name: Mapped[str] = mapped_column(String(80))
    max_caseload: Mapped[int] = mapped_column(Integer)


class RemovalCase(EntryStamp, NcmsBase):
    """A removal case: the person, the order, where it sits and who works it."""

    __tablename__ = "removal_case"

    case_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    subject_surname: Mapped[str | None] = mapped_column(String(80))
    subject_given_name: Mapped[str | None] = mapped_column(String(80))
    birth_on: Mapped[dt.date | None] = mapped_column(Date)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    gcms_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    irpa_ground: Mapped[str | None] = mapped_column(String(10))
    order_type: Mapped[str | None] = mapped_column(String(12))
    order_made_on: Mapped[dt.date | None] = mapped_column(Date)
    is_failed_claimant: Mapped[bool | None] = mapped_column(default=False)
    is_irregular_migrant: Mapped[bool | None] = mapped_column(default=False)
    inventory: Mapped[str | None] = mapped_column(String(8), index=True)
    priority: Mapped[str | None] = mapped_column(String(8))
    office_code: Mapped[str | None] = mapped_column(ForeignKey("office.office_code"), index=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officer.officer_id"), index=True)
    case_status: Mapped[str] = mapped_column(String(8))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    last_review_on: Mapped[dt.date | None] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    removal_confirmation: Mapped[str | None] = mapped_column(String(8))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class CaseImpediment(EntryStamp, NcmsBase):
    """An impediment to removal on a case, open until `ended_on`."""

    __tablename__ = "case_impediment"

    impediment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_no: Mapped[str] = mapped_column(ForeignKey("removal_case.case_no"), index=True)
    impediment_code: Mapped[str | None] = mapped_column(String(6))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


class Interview(EntryStamp, NcmsBase):
    """A pre-removal or call-in interview with the person."""

    __tablename__ = "interview"

    interview_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_no: Mapped[str] = mapped_column(ForeignKey("removal_case.case_no"), index=True)
    officer_id: Mapped[str | None] = mapped_column(String(8))
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    interview_type: Mapped[str] = mapped_column(String(12))
    attended: Mapped[bool | None] = mapped_column(default=True)


class TravelDocRequest(EntryStamp, NcmsBase):
    """CBSA's work to obtain a travel document for a removal."""

    __tablename__ = "td_request"

    td_request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_no: Mapped[str] = mapped_column(ForeignKey("removal_case.case_no"), index=True)
    country: Mapped[str | None] = mapped_column(String(3))
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(10))
    obtained_on: Mapped[dt.date | None] = mapped_column(Date)


class Warrant(EntryStamp, NcmsBase):
    """A s.55 warrant for arrest: type, issue, execution, or cancellation with reason."""

    __tablename__ = "warrant"

    warrant_no: Mapped[str] = mapped_column(String(12), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("removal_case.case_no"), index=True)
    warrant_type: Mapped[str | None] = mapped_column(String(3))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    executed_on: Mapped[dt.date | None] = mapped_column(Date)
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date)
    cancellation_reason: Mapped[str | None] = mapped_column(String(4))


class Detention(EntryStamp, NcmsBase):
    """An arrest and the detention that followed, until release or removal."""

    __tablename__ = "detention"

    detention_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_no: Mapped[str | None] = mapped_column(String(16), index=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    arrest_reason: Mapped[str | None] = mapped_column(String(30))
    arrested_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    facility_type: Mapped[str | None] = mapped_column(String(6))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    release_condition: Mapped[str | None] = mapped_column(String(8))


class DetentionReview(EntryStamp, NcmsBase):
    """An ID detention review: the 48-hour, 7-day and 30-day reviews of s.57."""

    __tablename__ = "detention_review"

    review_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    detention_id: Mapped[int] = mapped_column(ForeignKey("detention.detention_id"), index=True)
    review_seq: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    held_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(3))


class CaseActivity(EntryStamp, NcmsBase):
    """A note or event recorded on a case (the work between events)."""

    __tablename__ = "case_activity"

    activity_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    case_no: Mapped[str] = mapped_column(ForeignKey("removal_case.case_no"), index=True)
    activity_on: Mapped[dt.date] = mapped_column(Date, index=True)
    activity_type: Mapped[str] = mapped_column(String(12))
    officer_id: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(200))


class IrbOutcome(FeedStamp, NcmsBase):
    """An RPD or RAD final decision, as the GCMS feed delivered it."""

    __tablename__ = "irb_outcome"

    source_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    irb_file_no: Mapped[str | None] = mapped_column(String(16), index=True)
    division: Mapped[str | None] = mapped_column(String(3))
    outcome_code: Mapped[str | None] = mapped_column(String(3))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class LegalMatter(FeedStamp, NcmsBase):
    """Litigation, an appeal or a PRRA, as the GCMS feed delivered it.

    `source_ref` is LIT-<id>, APL-<IRB file number> or PRRA-<id>.
    """

    __tablename__ = "legal_matter"

    source_ref: Mapped[str] = mapped_column(String(24), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    matter_kind: Mapped[str] = mapped_column(String(8))  # LIT, APPEAL, PRRA
    reference_no: Mapped[str | None] = mapped_column(String(16))
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class TravelDocInfo(FeedStamp, NcmsBase):
    """A travel document on the person's GCMS file, as the feed delivered it."""

    __tablename__ = "travel_doc_info"

    source_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str | None] = mapped_column(String(10))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
