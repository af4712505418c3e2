"""The interfaces between the systems, declared once.

An interface carries one or more streams. A stream reads rows of one source
query, maps fields and codes, and upserts them into one target table by key.
The transfer machinery (connectors/transfer.py) runs the streams each night;
the simulator uses the same mappings to write the feeds' history before the
first simulated night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import Select, and_, case, func, select

from schemas import gcms, nova
from schemas.codes import GCMS_TO_NCMS_OUTCOME, NOVA_TO_GCMS_OUTCOME
from schemas.guidelines import FEED_USERS

#: Version of the batch format and of these mappings; written in every manifest.
#: 2: records carry `source_epoch` and `source_entered_at`.
SCHEMA_VERSION: Final = 2


@dataclass(frozen=True)
class Stream:
    """One source query mapped onto one target table."""

    name: str
    source_system: str
    target_system: str
    target_table: str
    #: The source table whose records the stream carries (keyed by `source_key`).
    source_table: str
    #: The record's columns and joins, labelled, incl. `source_key` (see `query`).
    records: Callable[[], Select]
    #: The models whose rows make one record, the source table's first: a change
    #: committed to any of them (a party's corrected UCI) re-sends the record.
    joined: tuple[Any, ...]
    #: target column -> source column (copied as is).
    fields: Mapping[str, str]
    #: target column -> (source column, code map): codes translated between spellings.
    codes: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)
    #: target key column, and how to build it from the source key.
    target_key: str = ""
    key_format: str = "{}"
    #: target columns that must be present (a record without them is quarantined).
    required: tuple[str, ...] = ()
    #: constant target columns.
    constants: Mapping[str, Any] = field(default_factory=dict)
    #: target columns computed from the whole source record.
    derive: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    #: Feed users whose rows the stream never carries (no echo: a row that arrived
    #: from the target system is not sent back to it).
    not_from: tuple[str, ...] = ()

    def query(self) -> Select:
        """The source query: the record's columns and its version.

        `source_updated_at` is the newest `updated_at` of the joined rows (when
        the record last changed, in simulated time), `source_epoch` the newest
        change epoch (when that change was committed), and `source_entered_at`
        when the source row was first typed.

        Built once per stream (a statement is immutable): every run reads the
        same object, which SQLAlchemy compiles once per engine.
        """
        built = _QUERIES.get(id(self))
        if built is None or built[0] is not self:
            built = (self, self._build_query())
            _QUERIES[id(self)] = built
        return built[1]

    def _build_query(self) -> Select:
        query = self.records().add_columns(
            self.record_time().label("source_updated_at"),
            self.record_epoch().label("source_epoch"),
            self.joined[0].entered_at.label("source_entered_at"),
        )
        if self.not_from:
            query = query.where(self.joined[0].entered_by.not_in(self.not_from))
        return query

    def record_time(self) -> Any:
        """When the record last changed: the newest `updated_at` of its joined rows."""
        return newest(*(model.updated_at for model in self.joined))

    def record_epoch(self) -> Any:
        """The change epoch of the record's newest committed change."""
        return newest(*(func.coalesce(model.change_epoch, 0) for model in self.joined))

    def transform(self, source: Mapping[str, Any]) -> dict[str, Any]:
        """Map one source record onto the target's columns (no validation)."""
        row: dict[str, Any] = {self.target_key: self.key_format.format(source["source_key"])}
        for target, column in self.fields.items():
            row[target] = source[column]
        for target, (column, mapping) in self.codes.items():
            value = source[column]
            row[target] = mapping.get(value) if value is not None else None
        row.update(self.constants)
        if self.derive is not None:
            row.update(self.derive(source))
        row["source_updated_at"] = source["source_updated_at"]
        row["source_epoch"] = source["source_epoch"]
        return row


#: Each stream's source query, by stream (the stream is kept so its id is never reused).
_QUERIES: dict[int, tuple[Stream, Select]] = {}


def newest(*columns: Any) -> Any:
    """The largest of the columns per row, in SQL any backend runs (the columns are NOT NULL).

    A record's version is the newest of its joined rows' (their times, their epochs).
    """
    newest = columns[0]
    for column in columns[1:]:
        newest = case((column > newest, column), else_=newest)
    return newest


@dataclass(frozen=True)
class Interface:
    """A feed between two systems, run once a night after its cutoff."""

    name: str
    source_system: str
    target_system: str
    description: str
    #: Local time (America/Toronto) that ends a night's interval for this interface.
    cutoff: dt.time
    streams: tuple[Stream, ...]
    two_way_only: bool = False

    @property
    def feed_user(self) -> str:
        return FEED_USERS[self.name]


# ------------------------------------------------------------------ NOVA -> GCMS


def _nova_cases() -> Select:
    case, party = nova.CaseFile, nova.Party
    return (
        select(
            case.file_number.label("source_key"),
            case.file_number,
            case.division,
            case.proceeding,
            party.uci,
            case.referred_on,
            case.parent_file_number,
        )
        .join(party, party.party_id == case.party_id)
        .where(case.division.in_(("RPD", "RAD")))
    )


def _nova_decisions() -> Select:
    decision, case, party = nova.Decision, nova.CaseFile, nova.Party
    return (
        select(
            decision.decision_id.label("source_key"),
            decision.file_number,
            case.division,
            party.uci,
            decision.outcome_code,
            decision.decided_on,
        )
        .join(case, case.file_number == decision.file_number)
        .join(party, party.party_id == case.party_id)
        .where(and_(decision.is_final.is_(True), case.division.in_(("RPD", "RAD"))))
    )


NOVA_TO_GCMS = Interface(
    name="nova_to_gcms",
    source_system="nova",
    target_system="gcms",
    description="RPD and RAD filings and final decisions (outcome and date), nightly",
    cutoff=dt.time(2, 0),
    streams=(
        Stream(
            name="claims_and_appeals",
            source_table="case_file",
            source_system="nova",
            target_system="gcms",
            target_table="irb_proceeding",
            records=_nova_cases,
            joined=(nova.CaseFile, nova.Party),
            fields={
                "uci": "uci",
                "division": "division",
                "proceeding": "proceeding",
                "filed_on": "referred_on",
                "parent_file_no": "parent_file_number",
            },
            target_key="irb_file_no",
            required=("irb_file_no", "division", "filed_on"),
        ),
        Stream(
            name="final_decisions",
            source_table="decision",
            source_system="nova",
            target_system="gcms",
            target_table="irb_decision",
            records=_nova_decisions,
            joined=(nova.Decision, nova.CaseFile, nova.Party),
            fields={
                "uci": "uci",
                "irb_file_no": "file_number",
                "division": "division",
                "decided_on": "decided_on",
            },
            codes={"outcome": ("outcome_code", NOVA_TO_GCMS_OUTCOME)},
            target_key="decision_ref",
            key_format="N{}",
            required=("decision_ref", "irb_file_no", "outcome", "decided_on"),
            constants={"received_via": "FEED"},
        ),
    ),
)

# ------------------------------------------------------------------ GCMS -> NCMS


def _gcms_refugee_decisions() -> Select:
    d = gcms.IrbDecision
    return select(
        d.decision_ref.label("source_key"),
        d.uci,
        d.irb_file_no,
        d.division,
        d.outcome,
        d.decided_on,
    ).where(d.division.in_(("RPD", "RAD")))


def _gcms_litigation() -> Select:
    lit = gcms.Litigation
    return select(
        lit.litigation_id.label("source_key"),
        lit.uci,
        lit.court_file_no,
        lit.filed_on,
        lit.leave_decision,
        lit.outcome,
        lit.leave_decided_on,
        lit.decided_on,
    )


def _gcms_appeals() -> Select:
    p = gcms.IrbProceeding
    return select(
        p.irb_file_no.label("source_key"),
        p.uci,
        p.irb_file_no,
        p.filed_on,
    ).where(p.division == "RAD")


def _gcms_prra() -> Select:
    prra = gcms.PrraApplication
    return select(
        prra.prra_id.label("source_key"),
        prra.uci,
        prra.notified_on,
        prra.decision,
        prra.decided_on,
    )


def _gcms_travel_documents() -> Select:
    td = gcms.TravelDocument
    return select(
        td.td_id.label("source_key"),
        td.uci,
        td.doc_type,
        td.issuing_country,
        td.status,
        td.issued_on,
        td.expires_on,
    )


def _court_decision(source: Mapping[str, Any]) -> dict[str, Any]:
    """What NCMS shows of a court matter: the judgment once made, else the leave decision."""
    if source.get("outcome"):
        return {"decision": source["outcome"], "decided_on": source.get("decided_on")}
    return {"decision": source.get("leave_decision"), "decided_on": source.get("leave_decided_on")}


GCMS_TO_NCMS = Interface(
    name="gcms_to_ncms",
    source_system="gcms",
    target_system="ncms",
    description="travel documents, RPD/RAD decisions, litigation and appeals, PRRA",
    cutoff=dt.time(2, 30),
    streams=(
        Stream(
            name="refugee_decisions",
            source_table="irb_decision",
            source_system="gcms",
            target_system="ncms",
            target_table="irb_outcome",
            records=_gcms_refugee_decisions,
            joined=(gcms.IrbDecision,),
            fields={
                "uci": "uci",
                "irb_file_no": "irb_file_no",
                "division": "division",
                "decided_on": "decided_on",
            },
            codes={"outcome_code": ("outcome", GCMS_TO_NCMS_OUTCOME)},
            target_key="source_ref",
            required=("source_ref", "outcome_code", "decided_on"),
        ),
        Stream(
            name="litigation",
            source_table="litigation",
            source_system="gcms",
            target_system="ncms",
            target_table="legal_matter",
            records=_gcms_litigation,
            joined=(gcms.Litigation,),
            fields={"uci": "uci", "reference_no": "court_file_no", "filed_on": "filed_on"},
            target_key="source_ref",
            key_format="LIT-{}",
            required=("source_ref", "reference_no", "filed_on"),
            constants={"matter_kind": "LIT"},
            derive=_court_decision,
        ),
        Stream(
            name="appeals",
            source_table="irb_proceeding",
            source_system="gcms",
            target_system="ncms",
            target_table="legal_matter",
            records=_gcms_appeals,
            joined=(gcms.IrbProceeding,),
            fields={"uci": "uci", "reference_no": "irb_file_no", "filed_on": "filed_on"},
            target_key="source_ref",
            key_format="APL-{}",
            required=("source_ref", "filed_on"),
            constants={"matter_kind": "APPEAL", "decision": None, "decided_on": None},
        ),
        Stream(
            name="prra",
            source_table="prra_application",
            source_system="gcms",
            target_system="ncms",
            target_table="legal_matter",
            records=_gcms_prra,
            joined=(gcms.PrraApplication,),
            fields={
                "uci": "uci",
                "filed_on": "notified_on",
                "decision": "decision",
                "decided_on": "decided_on",
            },
            target_key="source_ref",
            key_format="PRRA-{}",
            required=("source_ref", "filed_on"),
            constants={"matter_kind": "PRRA", "reference_no": None},
        ),
        Stream(
            name="travel_documents",
            source_table="travel_document",
            source_system="gcms",
            target_system="ncms",
            target_table="travel_doc_info",
            records=_gcms_travel_documents,
            joined=(gcms.TravelDocument,),
            fields={
                "uci": "uci",
                "doc_type": "doc_type",
                "country": "issuing_country",
                "status": "status",
                "issued_on": "issued_on",
                "expires_on": "expires_on",
            },
            target_key="source_ref",
            key_format="TD-{}",
            required=("source_ref", "doc_type"),
        ),
    ),
)


#: The one-way interfaces, in the order a night runs them (the two-way ones are
#: in schemas/two_way.py; `ALL_INTERFACES` there holds every interface).
INTERFACES: Final = MappingProxyType({i.name: i for i in (NOVA_TO_GCMS, GCMS_TO_NCMS)})
