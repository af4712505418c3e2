"""Given a few rows, expect the failing keys: one small case per life-cycle and time-limit rule.

Each case types a handful of rows into empty databases (on the backend under
test), runs the rule's SQL for a full validation, and compares the keys that
fail with the ones the case expects. Every case holds at least one row that
must fail and one that must pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, insert

from connectors import Connectors, arrow_io
from expectations.rules import Scope
from expectations.runner import all_rules
from expectations.sql import query
from schemas import metadata_for

pytestmark = pytest.mark.integration

NIGHT = dt.date(2021, 3, 10)
TYPED = dt.datetime(2020, 3, 2, 15, 0)
D = dt.date


def _stamp(row: dict[str, Any], by: str = "CBSA-001") -> dict[str, Any]:
    return {"entered_at": TYPED, "updated_at": TYPED, "entered_by": by, **row}


# ----------------------------------------------------------------- builders
def party(pid: int = 1) -> tuple[str, str, dict[str, Any]]:
    return ("nova", "party", {"party_id": pid, "uci": "1234-5678"})


def case_file(number: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    row = {"file_number": number, "division": "RPD", "proceeding": "CLAIM", "party_id": 1,
           "region": "T", "status": "OP", "referred_on": D(2019, 1, 1)}  # fmt: skip
    return ("nova", "case_file", {**row, **fields})


def decision(did: int, number: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    row = {"decision_id": did, "file_number": number, "is_final": True, "outcome_code": "REJ",
           "decided_on": D(2020, 1, 6), "reasons_on": D(2020, 1, 8)}  # fmt: skip
    return ("nova", "decision", {**row, **fields})


def filing(fid: int, number: str, kind: str, on: dt.date) -> tuple[str, str, dict[str, Any]]:
    return ("nova", "filing", {"filing_id": fid, "file_number": number, "filing_type": kind,
                               "filed_on": on})  # fmt: skip


def client(uci: str, status: str) -> tuple[str, str, dict[str, Any]]:
    return ("gcms", "client", {"uci": uci, "surname": "X", "immigration_status": status})


def order(oid: int, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    row = {"order_id": oid, "uci": "1111-1111", "irpa_ground": "41(a)", "order_type": "exclusion",
           "issuing_authority": "MD", "subject_status": "FN", "status": "IN_FORCE",
           "made_on": D(2020, 1, 2), "in_force_on": D(2020, 1, 2), "is_refugee_claimant": False,
           "is_vulnerable": False, "non_compliance": "overstay"}  # fmt: skip
    return ("gcms", "removal_order", {**row, **fields})


def report(rid: int, uci: str, ground: str) -> tuple[str, str, dict[str, Any]]:
    return ("gcms", "inadmissibility_report", {"report_id": rid, "uci": uci, "irpa_ground": ground,
                                               "written_on": D(2020, 1, 2)})  # fmt: skip


def fed_decision(ref: str, file_no: str, uci: str, division: str, outcome: str,
                 on: dt.date) -> tuple[str, str, dict[str, Any]]:  # fmt: skip
    row = {"decision_ref": ref, "irb_file_no": file_no, "uci": uci, "division": division,
           "outcome": outcome, "decided_on": on, "received_via": "FEED",
           "source_updated_at": dt.datetime.combine(on, dt.time(20)),
           "entered_by": "FEED:NOVA"}  # fmt: skip
    return ("gcms", "irb_decision", row)


def proceeding(
    file_no: str, uci: str, division: str, on: dt.date
) -> tuple[str, str, dict[str, Any]]:
    row = {"irb_file_no": file_no, "uci": uci, "division": division, "proceeding": "CLAIM",
           "filed_on": on, "source_updated_at": TYPED, "entered_by": "FEED:NOVA"}  # fmt: skip
    return ("gcms", "irb_proceeding", row)


def ncase(number: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    row = {"case_no": number, "uci": "1111-1111", "case_status": "OPEN", "inventory": "WIP-RR",
           "opened_on": D(2019, 6, 1), "irpa_ground": "41(a)",
           "order_type": "exclusion"}  # fmt: skip
    return ("ncms", "removal_case", {**row, **fields})


def nwarrant(number: str, case_no: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    row = {"warrant_no": number, "case_no": case_no, "warrant_type": "REM",
           "issued_on": D(2020, 1, 2)}  # fmt: skip
    return ("ncms", "warrant", {**row, **fields})


def detention(did: int, arrested: dt.datetime, released: dt.datetime | None = None) -> Any:
    return ("ncms", "detention", {"detention_id": did, "case_no": None, "uci": "1111-1111",
                                  "arrested_at": arrested, "released_at": released})  # fmt: skip


def review(rid: int, did: int, seq: int, due: dt.datetime, held: dt.datetime) -> Any:
    row = {"review_id": rid, "detention_id": did, "review_seq": seq, "due_at": due,
           "held_at": held}  # fmt: skip
    return ("ncms", "detention_review", row)


T = dt.datetime
CASES: dict[str, tuple[list[Any], set[str]]] = {
    "lifecycle.gcms.departure_confirmed_order_not_enforced": (
        [order(1, status="ENFORCED"), order(2, status="IN_FORCE"),
         ("gcms", "departure_confirmation", {"confirmation_id": 10, "order_id": 1,
                                             "departed_on": D(2020, 2, 1)}),
         ("gcms", "departure_confirmation", {"confirmation_id": 11, "order_id": 2,
                                             "departed_on": D(2020, 2, 1)})],
        {"11"},
    ),
    "lifecycle.gcms.deemed_deportation_not_departure_order": (
        [order(1, order_type="departure", irpa_ground="40.1", deemed_deportation_on=D(2020, 2, 5)),
         order(2, order_type="exclusion", deemed_deportation_on=D(2020, 2, 5))],
        {"2"},
    ),
    "lifecycle.gcms.tsr_stay_serious_ground": (
        [order(1, irpa_ground="36(1)(a)", order_type="deportation"), order(2),
         ("gcms", "stay_of_removal", {"stay_id": 5, "order_id": 1, "stay_type": "TSR",
                                      "starts_on": D(2020, 1, 3)}),
         ("gcms", "stay_of_removal", {"stay_id": 6, "order_id": 2, "stay_type": "TSR",
                                      "starts_on": D(2020, 1, 3)})],
        {"5"},
    ),
    "lifecycle.ncms.tsr_impediment_serious_ground": (
        [ncase("C1", irpa_ground="37"), ncase("C2"),
         ("ncms", "case_impediment", {"impediment_id": 1, "case_no": "C1",
                                      "impediment_code": "TSR", "started_on": D(2020, 1, 3)}),
         ("ncms", "case_impediment", {"impediment_id": 2, "case_no": "C2",
                                      "impediment_code": "TSR", "started_on": D(2020, 1, 3)})],
        {"1"},
    ),
    "lifecycle.gcms.order_ground_not_for_permanent_residents": (
        [client("1111-1111", "PR"), client("2222-2222", "FN"),
         order(1, irpa_ground="36(2)(a)", order_type="deportation"),
         order(2, uci="2222-2222", irpa_ground="36(2)(a)", order_type="deportation"),
         order(3, irpa_ground="36(1)(b)", order_type="deportation")],
        {"1"},
    ),
    "lifecycle.gcms.order_ground_for_permanent_residents_only": (
        [client("1111-1111", "PR"), client("2222-2222", "FN"),
         order(1, irpa_ground="41(b)", order_type="departure"),
         order(2, uci="2222-2222", irpa_ground="41(b)", order_type="departure")],
        {"2"},
    ),
    "lifecycle.gcms.report_ground_not_for_permanent_residents": (
        [client("1111-1111", "PR"), client("2222-2222", "FN"), report(1, "1111-1111", "38"),
         report(2, "2222-2222", "38"), report(3, "1111-1111", "34")],
        {"1"},
    ),
    "lifecycle.gcms.report_ground_for_permanent_residents_only": (
        [client("1111-1111", "PR"), client("2222-2222", "PP"), report(1, "1111-1111", "41(b)"),
         report(2, "2222-2222", "41(b)")],
        {"2"},
    ),
    "lifecycle.gcms.gcms_warrant_executed_and_cancelled": (
        [("gcms", "warrant", {"warrant_no": "W1", "executed_on": D(2020, 1, 5),
                              "cancelled_on": D(2020, 1, 6)}),
         ("gcms", "warrant", {"warrant_no": "W2", "executed_on": D(2020, 1, 5)})],
        {"W1"},
    ),
    "lifecycle.ncms.ncms_warrant_executed_and_cancelled": (
        [ncase("C1"), nwarrant("W1", "C1", executed_on=D(2020, 1, 5), cancelled_on=D(2020, 1, 6)),
         nwarrant("W2", "C1", cancelled_on=D(2020, 1, 6))],
        {"W1"},
    ),
    "lifecycle.ncms.wanted_without_open_warrant": (
        [ncase("C1", inventory="WANTED"), ncase("C2", inventory="WANTED"),
         nwarrant("W1", "C1", executed_on=D(2020, 1, 5)), nwarrant("W2", "C2")],
        {"C1"},
    ),
    "lifecycle.ncms.ended_case_open_warrant": (
        [ncase("C1", case_status="CLOSED", inventory="CLOSED", closed_on=D(2020, 2, 1)),
         ncase("C2", case_status="CLOSED", inventory="CLOSED", closed_on=D(2020, 2, 1)),
         nwarrant("W1", "C1"), nwarrant("W2", "C2", cancelled_on=D(2020, 2, 1))],
        {"W1"},
    ),
    "lifecycle.ncms.ready_with_open_impediment": (
        [ncase("C1"), ncase("C2"),
         ("ncms", "case_impediment", {"impediment_id": 1, "case_no": "C1",
                                      "impediment_code": "MED", "started_on": D(2020, 1, 3)}),
         ("ncms", "case_impediment", {"impediment_id": 2, "case_no": "C2", "impediment_code": "MED",
                                      "started_on": D(2020, 1, 3), "ended_on": D(2020, 1, 9)})],
        {"C1"},
    ),
    "lifecycle.ncms.removed_while_detained": (
        [ncase("C1", case_status="REMOVED", inventory="CLOSED", removed_on=D(2020, 2, 1)),
         ncase("C2", case_status="REMOVED", inventory="CLOSED", removed_on=D(2020, 2, 1)),
         ("ncms", "detention", {"detention_id": 1, "case_no": "C1", "arrested_at": T(2020, 1, 9)}),
         ("ncms", "detention", {"detention_id": 2, "case_no": "C2", "arrested_at": T(2020, 1, 9),
                                "released_at": T(2020, 2, 1, 9)})],
        {"C1"},
    ),
    "lifecycle.ncms.open_case_closed_inventory": (
        [ncase("C1", inventory="CLOSED"), ncase("C2")], {"C1"},
    ),
    "lifecycle.ncms.ended_case_open_inventory": (
        [ncase("C1", case_status="REMOVED", removed_on=D(2020, 2, 1)),
         ncase("C2", case_status="REMOVED", inventory="CLOSED", removed_on=D(2020, 2, 1))],
        {"C1"},
    ),
    "lifecycle.ncms.open_case_with_closing_date": (
        [ncase("C1", closed_on=D(2020, 2, 1)), ncase("C2")], {"C1"},
    ),
    "lifecycle.ncms.removed_case_without_removal_date": (
        [ncase("C1", case_status="REMOVED", inventory="CLOSED"),
         ncase("C2", case_status="REMOVED", inventory="CLOSED", removed_on=D(2020, 2, 1))],
        {"C1"},
    ),
    "lifecycle.nova.finalized_file_without_decision": (
        [party(), case_file("TB0-00001", status="FN"), case_file("TB0-00002", status="FN"),
         decision(1, "TB0-00002")],
        {"TB0-00001"},
    ),
    "nova.decision.reasons_on.not_future": (
        [party(), case_file("TB0-00001"), decision(1, "TB0-00001", reasons_on=D(2020, 3, 5)),
         decision(2, "TB0-00001", reasons_on=D(2020, 3, 2))],
        {"1"},
    ),
    "nova.decision.reasons_on.after_decision": (
        [party(), case_file("TB0-00001"), decision(1, "TB0-00001", reasons_on=D(2020, 1, 2)),
         decision(2, "TB0-00001")],
        {"1"},
    ),
    "nova.case_file.rad_filed_in_time": (
        [party(), case_file("TB0-00001"), decision(1, "TB0-00001"),  # reasons 2020-01-08
         case_file("TC0-00001", division="RAD", proceeding="APPEAL", referred_on=D(2020, 1, 23),
                   parent_file_number="TB0-00001"),
         case_file("TC0-00002", division="RAD", proceeding="APPEAL", referred_on=D(2020, 1, 24),
                   parent_file_number="TB0-00001"),
         case_file("TC0-00003", division="RAD", proceeding="APPEAL", referred_on=D(2020, 1, 7),
                   parent_file_number="TB0-00001")],
        {"TC0-00002", "TC0-00003"},
    ),
    "nova.filing.rad_perfected_in_time": (
        [party(), case_file("TC0-00001", division="RAD", proceeding="APPEAL"),
         filing(1, "TC0-00001", "NOA", D(2020, 1, 1)),
         filing(2, "TC0-00001", "APR", D(2020, 1, 31)),
         filing(3, "TC0-00001", "APR", D(2020, 2, 1))],
        {"3"},
    ),
    "nova.decision.rad_decided_in_time": (
        [party(), case_file("TC0-00001", division="RAD", proceeding="APPEAL"),
         case_file("TC0-00002", division="RAD", proceeding="APPEAL"),
         filing(1, "TC0-00001", "APR", D(2020, 1, 1)), filing(2, "TC0-00002", "APR", D(2020, 1, 1)),
         decision(1, "TC0-00001", outcome_code="CNF", decided_on=D(2020, 4, 1), reasons_on=None),
         decision(2, "TC0-00002", outcome_code="CNF", decided_on=D(2020, 3, 31), reasons_on=None)],
        {"1"},
    ),
    "gcms.prra_application.applied_after_notification": (
        [("gcms", "prra_application", {"prra_id": 1, "notified_on": D(2020, 1, 10),
                                       "applied_on": D(2020, 1, 9)}),
         ("gcms", "prra_application", {"prra_id": 2, "notified_on": D(2020, 1, 10),
                                       "applied_on": D(2020, 1, 10)})],
        {"1"},
    ),
    "gcms.prra_application.applied_in_time": (
        [("gcms", "prra_application", {"prra_id": 1, "notified_on": D(2020, 1, 10),
                                       "applied_on": D(2020, 1, 26)}),
         ("gcms", "prra_application", {"prra_id": 2, "notified_on": D(2020, 1, 10),
                                       "applied_on": D(2020, 1, 25)})],
        {"1"},
    ),
    "gcms.litigation.leave_sought_in_time": (
        [proceeding("TC0-00001", "1111-1111", "RAD", D(2019, 6, 1)),
         fed_decision("N1", "TC0-00001", "1111-1111", "RAD", "RAD-CNF", D(2020, 1, 1)),
         ("gcms", "litigation", {"litigation_id": 1, "irb_file_no": "TC0-00001",
                                 "filed_on": D(2020, 1, 17)}),
         ("gcms", "litigation", {"litigation_id": 2, "irb_file_no": "TC0-00001",
                                 "filed_on": D(2020, 1, 16)})],
        {"1"},
    ),
    "gcms.removal_order.in_force_after_appeal_window": (
        [proceeding("TB0-00001", "1111-1111", "RPD", D(2019, 1, 1)),
         proceeding("TB0-00002", "2222-2222", "RPD", D(2019, 1, 1)),
         fed_decision("N1", "TB0-00001", "1111-1111", "RPD", "RPD-NEG", D(2020, 1, 1)),
         fed_decision("N2", "TB0-00002", "2222-2222", "RPD", "RPD-ABD", D(2020, 1, 1)),
         order(1, is_refugee_claimant=True, order_type="departure", in_force_on=D(2020, 1, 15)),
         order(2, uci="2222-2222", is_refugee_claimant=True, order_type="departure",
               in_force_on=D(2020, 1, 16))],
        {"1"},
    ),
    "gcms.removal_order.deemed_deportation_after_30_days": (
        [order(1, order_type="departure", irpa_ground="40.1", in_force_on=D(2020, 1, 1),
               deemed_deportation_on=D(2020, 1, 30)),
         order(2, order_type="departure", irpa_ground="40.1", in_force_on=D(2020, 1, 1),
               deemed_deportation_on=D(2020, 1, 31))],
        {"1"},
    ),
    "gcms.removal_order.subject_status.client": (
        [client("1111-1111", "PR"), client("2222-2222", "FN"),
         order(1, irpa_ground="36(1)(a)", order_type="deportation", issuing_authority="ID"),
         order(2, uci="2222-2222"), order(3, subject_status="FN", status="CANCELLED")],
        {"1"},
    ),
    "gcms.removal_order.issuing_authority.chart": (
        [client("1111-1111", "PR"), client("2222-2222", "FN"),
         order(1, irpa_ground="36(1)(a)", order_type="deportation", subject_status="FN"),
         order(2, uci="2222-2222", irpa_ground="36(1)(a)", order_type="deportation")],
        {"1"},  # the client is a PR in GCMS: the ID, whatever the order's copy says
    ),
    "ncms.removal_case.order_type.chart": (
        [ncase("C1", irpa_ground="34", order_type="exclusion"),
         ncase("C2", irpa_ground="34", order_type="deportation"),
         ncase("C3", irpa_ground="38", order_type="departure")],
        {"C1"},
    ),
    "ncms.detention_review.due_within_s57": (
        [detention(1, T(2020, 1, 1, 14)),
         review(1, 1, 1, T(2020, 1, 3, 15), T(2020, 1, 3, 12)),  # due 49 h after: late
         review(2, 1, 2, T(2020, 1, 10, 12), T(2020, 1, 9, 12)),  # 7 days after review 1
         review(3, 1, 3, T(2020, 2, 8, 13), T(2020, 2, 7, 12))],  # 30 days + 1 h after review 2
        {"1", "3"},
    ),
    "ncms.detention.second_review": (
        [detention(1, T(2020, 1, 1, 14)), review(1, 1, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12)),
         detention(2, T(2020, 1, 1, 14)), review(2, 2, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12)),
         review(3, 2, 2, T(2020, 1, 10, 12), T(2020, 1, 10, 10)),
         detention(3, T(2020, 1, 1, 14), T(2020, 1, 5, 10)),
         review(4, 3, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12))],
        {"1"},
    ),
    "ncms.detention.later_reviews": (
        [detention(1, T(2020, 1, 1, 14)), review(1, 1, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12)),
         review(2, 1, 2, T(2020, 1, 10, 12), T(2020, 1, 10, 10)),
         detention(2, T(2020, 1, 1, 14), T(2020, 2, 1, 10)),
         review(3, 2, 1, T(2020, 1, 3, 14), T(2020, 1, 3, 12)),
         review(4, 2, 2, T(2020, 1, 10, 12), T(2020, 1, 10, 10))],
        {"1"},
    ),
    "cross.gcms.irb_decision.rekeyed_in_time": (
        [("control", "recon_nova_decision", {"decision_id": 1, "file_number": "0003-12345",
          "division": "ID", "outcome_code": "RMO", "decided_on": D(2020, 12, 23),
          "entered_at": T(2020, 12, 23, 20)}),
         ("control", "recon_nova_decision", {"decision_id": 2, "file_number": "0003-12346",
          "division": "ID", "outcome_code": "RMO", "decided_on": D(2020, 12, 23),
          "entered_at": T(2020, 12, 23, 20)}),
         # Christmas, Boxing Day (observed on the 28th) and New Year's Day: the fifth
         # business day after 23 December 2020 is 4 January 2021, in Ontario.
         ("control", "recon_gcms_decision", {"decision_ref": "G1", "irb_file_no": "0003-12345",
          "division": "ID", "received_via": "MANUAL", "entered_at": T(2021, 1, 4, 20)}),
         ("control", "recon_gcms_decision", {"decision_ref": "G2", "irb_file_no": "0003-12346",
          "division": "ID", "received_via": "MANUAL", "entered_at": T(2021, 1, 5, 15)})],
        {"G2"},
    ),
}  # fmt: skip


def _empty(connectors: Connectors) -> None:
    for database in ("nova", "gcms", "ncms", "control"):
        with connectors[database].begin() as conn:
            for table in reversed(metadata_for(database).sorted_tables):
                conn.execute(delete(table))


def failing_keys(connectors: Connectors, rule_name: str, rows: list[Any]) -> set[str]:
    """Type `rows` into empty databases and return the keys `rule_name` finds failing."""
    _empty(connectors)
    for database, table_name, row in rows:
        table = metadata_for(database).tables[table_name]
        values = row if database == "control" else _stamp(row, row.get("entered_by", "CBSA-001"))
        with connectors[database].begin() as conn:
            conn.execute(insert(table).values(**values))
    rule = next(r for r in all_rules() if r.name == rule_name)
    with connectors[rule.database].connect() as conn:
        _, found = arrow_io.fetch_raw(conn, query(rule, Scope("full", NIGHT)))
    return {str(row[0]) for row in found}


@pytest.mark.parametrize("rule_name", sorted(CASES))
def test_rule_finds_exactly_the_failing_keys(databases: Connectors, rule_name: str) -> None:
    rows, expected = CASES[rule_name]
    assert failing_keys(databases, rule_name, rows) == expected


def test_every_lifecycle_and_time_limit_rule_has_a_case() -> None:
    from expectations import lifecycle

    derived = {exclusion.rule_name for exclusion in lifecycle.EXCLUSIONS}
    timed = {rule.name for rule in all_rules() if "time_limit" in rule.tags}
    assert derived | timed <= set(CASES)
