"""Given a few rows, expect the failing keys: the query rules test_rules_given_expect leaves.

The column rules (not null, pattern, code set, order of two columns) are GX's own
expectations; every query rule, written here or there, has a case in one of the
two modules (`test_every_query_rule_has_a_case`). Each case holds at least one row
that must fail and one that must pass.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from expectations.rules import Query
from expectations.runner import all_rules
from tests.integration.test_rules_given_expect import (
    CASES,
    case_file,
    client,
    decision,
    detention,
    failing_keys,
    ncase,
    order,
    party,
    review,
)

if TYPE_CHECKING:
    from connectors import Connectors

pytestmark = pytest.mark.integration

D = dt.date
T = dt.datetime


def litigation(lid: int, filed: dt.date, entered: dt.datetime) -> tuple[str, str, dict[str, Any]]:
    row = {"litigation_id": lid, "uci": "1111-1111", "court_file_no": f"IMM-{lid}-20",
           "filed_on": filed, "entered_at": entered}  # fmt: skip
    return ("gcms", "litigation", row)


def departure(cid: int, oid: int, on: dt.date) -> tuple[str, str, dict[str, Any]]:
    return ("gcms", "departure_confirmation", {"confirmation_id": cid, "order_id": oid,
                                               "uci": "1111-1111", "departed_on": on})  # fmt: skip


def stay(sid: int, oid: int, starts: dt.date, ends: dt.date | None = None) -> Any:
    return ("gcms", "stay_of_removal", {"stay_id": sid, "order_id": oid, "uci": "1111-1111",
                                        "stay_type": "JR", "starts_on": starts,
                                        "ends_on": ends})  # fmt: skip


def feed_item(interface: str, side: str, table: str, feed_key: str, changed: dt.datetime) -> Any:
    row = {"interface": interface, "side": side, "feed_key": feed_key, "source_key": feed_key,
           "source_table": table, "changed_at": changed}  # fmt: skip
    return ("control", "recon_feed_item", row)


def delivered(interface: str, table: str, prefix: str) -> tuple[list[Any], set[str]]:
    """One record delivered after it changed, one changed again after its delivery."""
    one, two = f"{prefix}1", f"{prefix}2"
    return (
        [feed_item(interface, "source", table, one, T(2021, 3, 1, 15)),
         feed_item(interface, "target", table, one, T(2021, 3, 2, 7)),
         feed_item(interface, "source", table, two, T(2021, 3, 3, 15)),
         feed_item(interface, "target", table, two, T(2021, 3, 2, 7))],
        {two},
    )  # fmt: skip


def officer(oid: str, most: int) -> tuple[str, str, dict[str, Any]]:
    return ("ncms", "officer", {"officer_id": oid, "office_code": "TOR", "family_name": "Roy",
                                "given_name": "Ann", "max_caseload": most})  # fmt: skip


MORE_CASES: dict[str, tuple[list[Any], set[str]]] = {
    "nova.decision.outcome_code.division": (
        [party(), case_file("TB0-00001"), case_file("TB0-00002", division="RAD"),
         decision(1, "TB0-00001", outcome_code="ACC"), decision(2, "TB0-00002", outcome_code="ACC"),
         decision(3, "TB0-00002", outcome_code="CNF"),
         decision(4, "TB0-00002", outcome_code="ACC", is_final=False)],
        {"2"},
    ),
    "nova.decision.decided_on.after_referral": (
        [party(), case_file("TB0-00001", referred_on=D(2020, 1, 3)),
         decision(1, "TB0-00001", decided_on=D(2020, 1, 2)),
         decision(2, "TB0-00001", decided_on=D(2020, 1, 3))],
        {"1"},
    ),
    "nova.decision.decided_on.not_future": (
        [party(), case_file("TB0-00001"),
         decision(1, "TB0-00001", decided_on=D(2020, 3, 3), reasons_on=None),
         decision(2, "TB0-00001", decided_on=D(2020, 3, 2), reasons_on=None)],
        {"1"},  # entered on 2 March 2020
    ),
    "gcms.client.duplicate": (
        [("gcms", "client", {"uci": "1111-1111", "surname": "Roy", "given_name": "Ann",
                             "date_of_birth": D(1990, 1, 1), "citizenship": "HTI",
                             "entered_at": T(2020, 1, 1, 9)}),
         ("gcms", "client", {"uci": "2222-2222", "surname": "Roy", "given_name": "Ann",
                             "date_of_birth": D(1990, 1, 1), "citizenship": "HTI",
                             "entered_at": T(2020, 1, 2, 9)}),
         ("gcms", "client", {"uci": "3333-3333", "surname": "Roy", "given_name": "Ann",
                             "date_of_birth": D(1990, 1, 2), "citizenship": "HTI"})],
        {"2222-2222"},
    ),
    "gcms.removal_order.order_type.chart": (
        [client("1111-1111", "FN"), order(1, irpa_ground="34", order_type="exclusion",
                                          issuing_authority="ID"),
         order(2, irpa_ground="34", order_type="deportation", issuing_authority="ID"),
         order(3, irpa_ground="41(a)", non_compliance="overstay", order_type="departure",
               is_refugee_claimant=True),
         order(4, irpa_ground="34", order_type="exclusion", issuing_authority="ID",
               entered_by="FEED:NCMS")],
        {"1"},  # a feed's copy is not the officer's entry
    ),
    "gcms.removal_order.made_on.not_future": (
        [order(1, made_on=D(2020, 3, 3)), order(2, made_on=D(2020, 3, 2))],
        {"1"},  # entered on 2 March 2020
    ),
    "gcms.litigation.entered_on_time": (
        [litigation(1, D(2020, 1, 1), T(2020, 1, 17, 9)),
         litigation(2, D(2020, 1, 1), T(2020, 1, 16, 9))],
        {"1"},  # 16 days after filing; 15 days is on time
    ),
    "gcms.departure_confirmation.after_order": (
        [order(1, made_on=D(2020, 1, 2)), departure(10, 1, D(2020, 1, 1)),
         departure(11, 1, D(2020, 1, 2))],
        {"10"},
    ),
    "gcms.departure_confirmation.no_active_stay": (
        [order(1), order(2), order(3), stay(5, 1, D(2020, 1, 5)),
         stay(6, 2, D(2020, 1, 5), D(2020, 1, 10)), stay(7, 3, D(2020, 1, 5), D(2020, 1, 10)),
         departure(10, 1, D(2020, 2, 1)), departure(11, 2, D(2020, 2, 1)),
         departure(12, 3, D(2020, 1, 9))],
        {"10", "12"},
    ),
    "ncms.removal_case.priority.ground": (
        [ncase("C1", irpa_ground="36(1)(a)", priority="P3"),
         ncase("C2", irpa_ground="36(1)(a)", priority="P1-SI"),
         ncase("C3", priority="P2", is_failed_claimant=True),
         ncase("C4", priority="P3", is_failed_claimant=True, is_irregular_migrant=True),
         ncase("C5", priority="P3")],
        {"C1", "C4"},
    ),
    "ncms.detention.first_review": (
        [detention(1, T(2020, 1, 1, 14)),
         detention(2, T(2020, 1, 1, 14)), review(1, 2, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12)),
         detention(3, T(2020, 1, 1, 14), T(2020, 1, 2, 10))],
        {"1"},  # released within 48 hours: no review due
    ),
    "ncms.detention_review.after_arrest": (
        [detention(1, T(2020, 1, 1, 14)),
         review(1, 1, 1, T(2020, 1, 3, 14), T(2020, 1, 1, 12)),
         review(2, 1, 2, T(2020, 1, 10, 14), T(2020, 1, 3, 12))],
        {"1"},
    ),
    "cross.claims_and_appeals.delivered": delivered("nova_to_gcms", "case_file", "TB0-0000"),
    "cross.final_decisions.delivered": delivered("nova_to_gcms", "decision", "N"),
    "cross.refugee_decisions.delivered": delivered("gcms_to_ncms", "irb_decision", "N"),
    "cross.litigation.delivered": delivered("gcms_to_ncms", "litigation", "LIT-"),
    "cross.appeals.delivered": delivered("gcms_to_ncms", "irb_proceeding", "APL-"),
    "cross.prra.delivered": delivered("gcms_to_ncms", "prra_application", "PRRA-"),
    "cross.travel_documents.delivered": delivered("gcms_to_ncms", "travel_document", "TD-"),
    "cross.nova.decision.rekeyed": (
        [("control", "recon_nova_decision", {"decision_id": 1, "file_number": "0003-12345",
          "division": "ID", "uci": "1111-1111", "outcome_code": "RMO",
          "decided_on": D(2021, 1, 4), "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_nova_decision", {"decision_id": 2, "file_number": "0003-12346",
          "division": "ID", "uci": "2222-2222", "outcome_code": "RMO",
          "decided_on": D(2021, 1, 4), "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_nova_decision", {"decision_id": 3, "file_number": "0003-12347",
          "division": "RPD", "uci": "3333-3333", "outcome_code": "REJ",
          "decided_on": D(2021, 1, 4), "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_gcms_decision", {"decision_ref": "G2", "irb_file_no": "0003 12346",
          "division": "ID", "received_via": "MANUAL", "entered_at": T(2021, 1, 6, 15)})],
        {"1"},  # RPD decisions are fed, not re-keyed; a file number typed with a space matches
    ),
    "cross.gcms.irb_decision.matches_nova": (
        [("control", "recon_nova_decision", {"decision_id": 1, "file_number": "0003-12345",
          "division": "ID", "outcome_code": "RMO", "decided_on": D(2021, 1, 4),
          "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_nova_decision", {"decision_id": 2, "file_number": "0003-12346",
          "division": "ID", "outcome_code": "RMO", "decided_on": D(2021, 1, 4),
          "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_gcms_decision", {"decision_ref": "G1", "irb_file_no": "0003-12345",
          "division": "ID", "outcome": "ID-ENT", "decided_on": D(2021, 1, 4),
          "received_via": "MANUAL", "entered_at": T(2021, 1, 6, 15)}),
         ("control", "recon_gcms_decision", {"decision_ref": "G2", "irb_file_no": "0003-12346",
          "division": "ID", "outcome": "ID-RMO", "decided_on": D(2021, 1, 4),
          "received_via": "MANUAL", "entered_at": T(2021, 1, 6, 15)})],
        {"G1"},
    ),
    "cross.ncms.removal_case.uci_in_gcms": (
        [("control", "recon_ncms_case", {"case_no": "C1", "uci": "1111-1111",
                                         "updated_at": T(2021, 1, 4, 20)}),
         ("control", "recon_ncms_case", {"case_no": "C2", "uci": "2222-2222",
                                         "updated_at": T(2021, 1, 4, 20)}),
         ("control", "recon_ncms_case", {"case_no": "C3", "uci": "not a UCI",
                                         "updated_at": T(2021, 1, 4, 20)}),
         ("control", "recon_gcms_client", {"uci": "2222-2222"})],
        {"C1"},  # a malformed UCI is the format rule's finding, not this one's
    ),
    "domain.gcms.departure_order.converted": (
        [order(1, order_type="departure", irpa_ground="40.1", in_force_on=D(2021, 1, 1)),
         order(2, order_type="departure", irpa_ground="40.1", in_force_on=D(2021, 3, 1)),
         order(3, order_type="departure", irpa_ground="40.1", in_force_on=D(2021, 1, 1)),
         departure(10, 3, D(2021, 1, 20)),
         order(4, order_type="departure", irpa_ground="40.1", in_force_on=D(2021, 1, 1)),
         stay(5, 4, D(2021, 1, 10))],
        {"1"},
    ),
    "domain.ncms.removal_case.dormant": (
        [ncase("C1"), ncase("C2"), ncase("C3", opened_on=D(2021, 1, 1)),
         ("ncms", "case_activity", {"activity_id": 1, "case_no": "C2",
                                    "activity_on": D(2021, 1, 5), "activity_type": "NOTE"}),
         ("ncms", "case_activity", {"activity_id": 2, "case_no": "C1",
                                    "activity_on": D(2020, 6, 5), "activity_type": "NOTE"})],
        {"C1"},
    ),
    "domain.ncms.officer.caseload": (
        [("ncms", "office", {"office_code": "TOR", "region_code": "ON",
                             "office_name": "Toronto"}),
         officer("O1", 1), officer("O2", 2), ncase("C1", officer_id="O1"),
         ncase("C2", officer_id="O1"), ncase("C3", officer_id="O2"),
         ncase("C4", officer_id="O2"),
         ncase("C5", officer_id="O2", case_status="CLOSED", inventory="CLOSED",
               closed_on=D(2020, 2, 1))],
        {"O1"},
    ),
    "domain.ncms.removal_case.criminal_review": (
        [ncase("C1", irpa_ground="36(1)(a)", order_type="deportation",
               last_review_on=D(2020, 1, 5)),
         ncase("C2", irpa_ground="36(1)(a)", order_type="deportation",
               last_review_on=D(2020, 6, 5)),
         ncase("C3", last_review_on=D(2019, 1, 5))],
        {"C1"},  # C3 is not a criminal case
    ),
    "domain.ncms.removal_case.failed_claimant_review": (
        [ncase("C1", is_failed_claimant=True, opened_on=D(2017, 6, 1)),
         ncase("C2", is_failed_claimant=True, opened_on=D(2017, 6, 1),
               last_review_on=D(2019, 1, 5)),
         ncase("C3", opened_on=D(2017, 6, 1))],
        {"C1"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("rule_name", sorted(MORE_CASES))
def test_query_rule_finds_exactly_the_failing_keys(databases: Connectors, rule_name: str) -> None:
    rows, expected = MORE_CASES[rule_name]
    assert failing_keys(databases, rule_name, rows) == expected


def test_every_query_rule_has_a_case() -> None:
    queries = {rule.name for rule in all_rules() if isinstance(rule.check, Query)}
    assert queries - set(CASES) - set(MORE_CASES) == set()
    assert set(MORE_CASES) <= queries
    assert not set(MORE_CASES) & set(CASES)
