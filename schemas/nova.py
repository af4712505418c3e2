"""NOVA, the IRB's case system: case files per division, filings, hearings, decisions.

NOVA knows people as parties to IRB files, keys everything by the IRB file
number, and writes outcomes in its own three-letter codes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.base import EntryStamp, FeedStamp, new_metadata


class NovaBase(DeclarativeBase):
    """Tables of the NOVA database."""

    metadata = new_metadata()


class Party(EntryStamp, NovaBase):
    """A person who is a party to an IRB proceeding (claimant, appellant, person concerned)."""

    __tablename__ = "party"

    party_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    family_name: Mapped[str | None] = mapped_column(String(80))
    given_names: Mapped[str | None] = mapped_column(String(80))
    birth_on: Mapped[dt.date | None] = mapped_column(Date)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    hearing_language: Mapped[str | None] = mapped_column(String(2))  # EN or FR
    interpreter_language: Mapped[str | None] = mapped_column(String(40))


class CaseFile(EntryStamp, NovaBase):
    """An IRB case file, keyed by its file number (TB1-12345, 0003-1234567)."""

    __tablename__ = "case_file"

    file_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    division: Mapped[str] = mapped_column(String(3), index=True)
    proceeding: Mapped[str] = mapped_column(String(8))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.party_id"), index=True)
    region: Mapped[str] = mapped_column(String(1))  # T, M or V
    referred_on: Mapped[dt.date | None] = mapped_column(Date)
    #: For a RAD appeal, the RPD claim it appeals; for a detention review, none.
    parent_file_number: Mapped[str | None] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(2))  # OP open, FN finalized
    is_irregular_arrival: Mapped[bool] = mapped_column(Boolean, default=False)


class Filing(EntryStamp, NovaBase):
    """A document filed on a case: referral, notice of appeal, appeal record."""

    __tablename__ = "filing"

    filing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_number: Mapped[str] = mapped_column(ForeignKey("case_file.file_number"), index=True)
    filing_type: Mapped[str | None] = mapped_column(String(3))
    filed_on: Mapped[dt.date | None] = mapped_column(Date)


class Hearing(EntryStamp, NovaBase):
    """A scheduled sitting of a division on a case."""

    __tablename__ = "hearing"

    hearing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_number: Mapped[str] = mapped_column(ForeignKey("case_file.file_number"), index=True)
    scheduled_on: Mapped[dt.date] = mapped_column(Date)
    held_on: Mapped[dt.date | None] = mapped_column(Date)
    member_id: Mapped[str | None] = mapped_column(String(12))


class Decision(EntryStamp, NovaBase):
    """A decision on a case; final decisions carry the division's outcome code."""

    __tablename__ = "decision"

    decision_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_number: Mapped[str] = mapped_column(ForeignKey("case_file.file_number"), index=True)
    is_final: Mapped[bool] = mapped_column(Boolean)
    outcome_code: Mapped[str | None] = mapped_column(String(3))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    #: When the written reasons went out: the RAD's 15 days run from here.
    reasons_on: Mapped[dt.date | None] = mapped_column(Date)
    member_id: Mapped[str | None] = mapped_column(String(12))


class SchedulingReferral(FeedStamp, NovaBase):
    """A case GCMS cleared for the IRB to schedule (two-way mode, the GCMS feed).

    The Minister's Delegate reviewed the s.44 report and referred it to the ID:
    `referral_ref` is `R<GCMS report id>`.
    """

    __tablename__ = "scheduling_referral"

    referral_ref: Mapped[str] = mapped_column(String(16), primary_key=True)
    uci: Mapped[str | None] = mapped_column(String(14), index=True)
    irb_file_no: Mapped[str | None] = mapped_column(String(16), index=True)
    irpa_ground: Mapped[str | None] = mapped_column(String(10))
    referred_on: Mapped[dt.date | None] = mapped_column(Date)
    office_code: Mapped[str | None] = mapped_column(String(8))
