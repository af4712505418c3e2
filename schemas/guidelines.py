"""The data-entry guidelines: which fields a person typing a record must fill.

The simulator plants blank fields only among these, and the validation suites
check exactly these; both read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class Mandatory:
    """Mandatory fields of one table, optionally only for rows matching `when` (SQL)."""

    fields: tuple[str, ...]
    when: str | None = None


MANDATORY: Final = MappingProxyType(
    {
        ("nova", "party"): Mandatory(
            ("uci", "family_name", "given_names", "birth_on", "citizenship")
        ),
        ("nova", "case_file"): Mandatory(("referred_on",)),
        ("nova", "filing"): Mandatory(("filing_type", "filed_on")),
        ("nova", "decision"): Mandatory(("outcome_code", "decided_on"), when="is_final"),
        ("gcms", "client"): Mandatory(("surname", "given_name", "date_of_birth", "citizenship")),
        ("gcms", "inadmissibility_report"): Mandatory(("uci", "irpa_ground", "written_on")),
        ("gcms", "removal_order"): Mandatory(
            ("uci", "irpa_ground", "issuing_authority", "order_type", "made_on")
        ),
        ("gcms", "irb_decision"): Mandatory(
            ("irb_file_no", "outcome", "decided_on"), when="received_via = 'MANUAL'"
        ),
        ("gcms", "travel_document"): Mandatory(("doc_type", "issuing_country")),
        ("gcms", "prra_application"): Mandatory(("notified_on",)),
        ("gcms", "litigation"): Mandatory(("court_file_no", "filed_on")),
        ("gcms", "stay_of_removal"): Mandatory(("stay_type", "starts_on")),
        ("gcms", "departure_confirmation"): Mandatory(("departed_on", "method")),
        ("gcms", "warrant"): Mandatory(("warrant_type", "issued_on")),
        ("ncms", "removal_case"): Mandatory(
            ("uci", "subject_surname", "inventory", "priority", "office_code")
        ),
        ("ncms", "case_impediment"): Mandatory(("impediment_code", "started_on")),
        ("ncms", "interview"): Mandatory(("held_on",)),
        ("ncms", "td_request"): Mandatory(("country", "requested_on")),
        ("ncms", "warrant"): Mandatory(("warrant_type", "issued_on")),
        ("ncms", "detention"): Mandatory(("arrest_reason", "arrested_at", "facility_type")),
        ("ncms", "detention_review"): Mandatory(("due_at",)),
    }
)

#: Who the feeds write as; rows entered by these are not hand-typed, and the
#: per-system entry rules do not apply to them (the interfaces check them).
FEED_USERS: Final = MappingProxyType(
    {
        "nova_to_gcms": "FEED:NOVA",
        "gcms_to_ncms": "FEED:GCMS",
        "ncms_to_gcms": "FEED:NCMS",
        "gcms_to_nova": "FEED:GCMS",
    }
)
