"""GCMS, IRCC's global case management system: the official record, keyed by UCI.

GCMS holds clients, s.44 reports, removal orders, the IRB proceedings and
decisions it receives (from the NOVA feed, or keyed by hand for the ID and
IAD), travel documents, PRRA, Federal Court litigation, stays, departures and
scanned documents. Its outcome codes are spelt RPD-POS, RAD-CNF, ID-RMO...
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.base import EntryStamp, FeedStamp, new_metadata


class GcmsBase(DeclarativeBase):
    """Tables of the GCMS database."""

    metadata = new_metadata()


class Client(EntryStamp, GcmsBase):
    """A person known to IRCC, keyed by the Unique Client Identifier."""

    __tablename__ = "client"

    uci: Mapped[str] = mapped_column(String(14), primary_key=True)
    surname: Mapped[str | None] = mapped_column(String(80), index=True)
    given_name: Mapped[str | None] = mapped_column(String(80))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    country_of_birth: Mapped[str | None] = mapped_column(String(3))
    citizenship: Mapped[str | None] = mapped_column(String(3))
    sex: Mapped[str | None] = mapped_column(String(1))
    preferred_language: Mapped[str | None] = mapped_column(String(1))  # E or F
    immigration_status: Mapped[str | None] = mapped_column(String(2))  # FN, PR, PP
    address_line: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(60))
    province: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(7))


class InadmissibilityReport(EntryStamp, GcmsBase):
    """A s.44(1) report and the Minister's Delegate's review of it."""

    __tablename__ = "inadmissibility_report"

    report_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    irpa_ground: Mapped[str | None] = mapped_column(String(10))
    non_compliance: Mapped[str | None] = mapped_column(String(10))
    written_on: Mapped[dt.date | None] = mapped_column(Date)
    office_code: Mapped[str | None] = mapped_column(String(8))
    md_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    md_decision: Mapped[str | None] = mapped_column(String(5))
    #: The ID file number when the MD referred the report for a hearing.
    referral_file_no: Mapped[str | None] = mapped_column(String(16))


class RemovalOrder(EntryStamp, GcmsBase):
    """A removal order: ground, who issued it, its type, and its life."""

    __tablename__ = "removal_order"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("inadmissibility_report.report_id"))
    irpa_ground: Mapped[str | None] = mapped_column(String(10))
    non_compliance: Mapped[str | None] = mapped_column(String(10))
    issuing_authority: Mapped[str | None] = mapped_column(String(2))
    order_type: Mapped[str | None] = mapped_column(String(12))
    #: Facts the jurisdiction chart turns on, as they were when the order was made.
    subject_status: Mapped[str | None] = mapped_column(String(2))
    is_refugee_claimant: Mapped[bool] = mapped_column(Boolean, default=False)
    is_vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: For a s.42 order, the family member's order.
    principal_order_id: Mapped[int | None] = mapped_column(Integer)
    made_on: Mapped[dt.date | None] = mapped_column(Date)
    in_force_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(10))
    #: When a departure order became a deportation order (30 days unconfirmed).
    deemed_deportation_on: Mapped[dt.date | None] = mapped_column(Date)
    id_file_no: Mapped[str | None] = mapped_column(String(16))


class IrbProceeding(FeedStamp, GcmsBase):
    """An RPD claim or RAD appeal as the NOVA feed reported its filing."""

    __tablename__ = "irb_proceeding"

    irb_file_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    division: Mapped[str] = mapped_column(String(3))
    proceeding: Mapped[str] = mapped_column(String(8))
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    parent_file_no: Mapped[str | None] = mapped_column(String(16))


class IrbDecision(EntryStamp, GcmsBase):
    """A final IRB decision: from the NOVA feed (RPD, RAD) or keyed by hand (ID, IAD).

    `decision_ref` is `N<NOVA decision id>` for feed rows and `G<sequence>` for
    rows an IRCC or CBSA clerk keyed. `source_updated_at` is set on feed rows.
    """

    __tablename__ = "irb_decision"

    decision_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    irb_file_no: Mapped[str | None] = mapped_column(String(16), index=True)
    division: Mapped[str | None] = mapped_column(String(3))
    outcome: Mapped[str | None] = mapped_column(String(8))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    received_via: Mapped[str] = mapped_column(String(6))  # FEED or MANUAL
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    source_epoch: Mapped[int | None] = mapped_column(BigInteger, default=None)


class TravelDocument(EntryStamp, GcmsBase):
    """A travel document on file: passport, emergency travel document, laissez-passer."""

    __tablename__ = "travel_document"

    td_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(8))
    issuing_country: Mapped[str | None] = mapped_column(String(3))
    doc_number: Mapped[str | None] = mapped_column(String(20))
    requested_on: Mapped[dt.date | None] = mapped_column(Date)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(10))


class PrraApplication(EntryStamp, GcmsBase):
    """A pre-removal risk assessment: notification, application, decision."""

    __tablename__ = "prra_application"

    prra_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    order_id: Mapped[int | None] = mapped_column(Integer)
    notified_on: Mapped[dt.date | None] = mapped_column(Date)
    applied_on: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class Litigation(EntryStamp, GcmsBase):
    """A Federal Court matter (leave and judicial review) about a client."""

    __tablename__ = "litigation"

    litigation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    court_file_no: Mapped[str | None] = mapped_column(String(14))
    matter: Mapped[str | None] = mapped_column(String(8))
    irb_file_no: Mapped[str | None] = mapped_column(String(16))
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    leave_decision: Mapped[str | None] = mapped_column(String(10))
    leave_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class Stay(EntryStamp, GcmsBase):
    """A stay of removal on an order, and when it ended."""

    __tablename__ = "stay_of_removal"

    stay_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    stay_type: Mapped[str | None] = mapped_column(String(10))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class DepartureConfirmation(EntryStamp, GcmsBase):
    """The confirmation that enforces a removal order: a port of entry, or R240(3)."""

    __tablename__ = "departure_confirmation"

    confirmation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    departed_on: Mapped[dt.date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(40))
    #: NCMS removal case this confirmation came from (R240(3) in two-way mode).
    ncms_case_no: Mapped[str | None] = mapped_column(String(16))
    #: Set on rows the NCMS feed loaded (two-way mode): the version of the NCMS record.
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    source_epoch: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Warrant(EntryStamp, GcmsBase):
    """An immigration warrant, as CBSA re-keys it (one-way) or the NCMS feed sends it."""

    __tablename__ = "warrant"

    warrant_no: Mapped[str] = mapped_column(String(12), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    warrant_type: Mapped[str | None] = mapped_column(String(3))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    executed_on: Mapped[dt.date | None] = mapped_column(Date)
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date)
    cancellation_reason: Mapped[str | None] = mapped_column(String(4))
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    source_epoch: Mapped[int | None] = mapped_column(BigInteger, default=None)


class EnforcementCase(FeedStamp, GcmsBase):
    """An NCMS removal case as the NCMS feed sends it (two-way mode).

    Triage and review decisions (inventory, priority, the last file review)
    and the removal information (removed on, how the departure was confirmed).
    """

    __tablename__ = "enforcement_case"

    case_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    order_id: Mapped[int | None] = mapped_column(Integer)
    office_code: Mapped[str | None] = mapped_column(String(8))
    inventory: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[str | None] = mapped_column(String(8))
    case_status: Mapped[str | None] = mapped_column(String(8))
    last_review_on: Mapped[dt.date | None] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    removal_confirmation: Mapped[str | None] = mapped_column(String(8))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class ScannedDocument(EntryStamp, GcmsBase):
    """A scanned document uploaded to a client's file (for example a travel document copy)."""

    __tablename__ = "scanned_document"

    document_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    document_kind: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[dt.date] = mapped_column(Date)
    pages: Mapped[int] = mapped_column(Integer)
