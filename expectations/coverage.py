# ruff: noqa: E501  (a table of facts: one fact a line reads better than wrapped)
"""The rule coverage matrix: every DOMAIN.md fact that constrains a record, where it is held, what checks it.

Each fact names every system that holds a copy of the dates or codes it
constrains, and there either the rules that check it or the reason none can.
docs/rules.md is generated from this table, the life-cycle declarations and
the rules themselves (`python -m expectations.coverage > docs/rules.md`); a
test fails when the file drifts or a fact names a rule that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations import lifecycle


@dataclass(frozen=True)
class Copy:
    """One system's copy of a fact: the rules that check it there, or why there are none."""

    system: str
    where: str
    rules: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Fact:
    section: str
    fact: str
    copies: tuple[Copy, ...]


_FEED_COPY = "a feed copy: checked on the typed original, and its delivery by cross.*.delivered"
_MANDATORY = "mandatory fields per schemas/guidelines.py (`*.mandatory` rules)"

FACTS: tuple[Fact, ...] = (
    # ---------------------------------------------------------------- chart
    Fact("Jurisdiction chart", "authority (MD or ID) per ground, status and modifiers", (
        Copy("gcms", "removal_order.issuing_authority",
             ("gcms.removal_order.issuing_authority.chart",
              "gcms.removal_order.issuing_authority.code")),
        Copy("ncms", "removal_case", reason="NCMS holds no issuing authority"),
        Copy("nova", "case_file (ID admissibility files)",
             reason="NOVA holds the ID's files, not the order's authority; an ID file exists "
                    "only for referred reports"),
    )),
    Fact("Jurisdiction chart", "order type per ground (IRPR 228-229), claimant modifier, s.42", (
        Copy("gcms", "removal_order.order_type",
             ("gcms.removal_order.order_type.chart", "gcms.removal_order.order_type.code")),
        Copy("ncms", "removal_case.order_type", ("ncms.removal_case.order_type.chart",),
             reason="NCMS holds no status or claim facts: checked against every type the "
                    "chart allows on the ground; agreement with GCMS's order needs a "
                    "reconciliation copy of GCMS orders in control (not built)"),
    )),
    Fact("Jurisdiction chart", "the chart turns on the client's status as GCMS holds it", (
        Copy("gcms", "removal_order.subject_status vs client.immigration_status",
             ("gcms.removal_order.subject_status.client",)),
    )),
    Fact("Jurisdiction chart", "unaccompanied minors and the vulnerable always go to the ID", (
        Copy("gcms", "removal_order.is_vulnerable", ("gcms.removal_order.issuing_authority.chart",)),
    )),
    Fact("Who grounds apply to",
         "s.36(2), 38, 39, 41(a) and 42 reach foreign nationals only; 41(b) permanent residents only", (
        Copy("gcms", "removal_order.irpa_ground + client.immigration_status",
             ("lifecycle.gcms.order_ground_not_for_permanent_residents",
              "lifecycle.gcms.order_ground_for_permanent_residents_only")),
        Copy("gcms", "inadmissibility_report.irpa_ground + client.immigration_status",
             ("lifecycle.gcms.report_ground_not_for_permanent_residents",
              "lifecycle.gcms.report_ground_for_permanent_residents_only")),
        Copy("ncms", "removal_case.irpa_ground", reason="NCMS holds no status"),
    )),
    # ---------------------------------------------------------------- orders
    Fact("Order types", "departure order: 30 days to leave, else a deportation order", (
        Copy("gcms", "removal_order.deemed_deportation_on",
             ("gcms.removal_order.deemed_deportation_after_30_days",
              "lifecycle.gcms.deemed_deportation_not_departure_order",
              "domain.gcms.departure_order.converted")),
        Copy("ncms", "removal_case.order_type",
             reason="NCMS records no conversion date"),
    )),
    Fact("Order types", "exclusion order: 1 year (5 for misrepresentation) before return; "
         "deportation: an ARC for life", (
        Copy("gcms", "removal_order", reason="no system records a return to Canada"),
    )),
    Fact("Order types", "an order is enforced when the departure is confirmed", (
        Copy("gcms", "departure_confirmation + removal_order.status",
             ("lifecycle.gcms.departure_confirmed_order_not_enforced",
              "gcms.departure_confirmation.after_order")),
        Copy("ncms", "removal_case.case_status / removed_on",
             ("lifecycle.ncms.removed_case_without_removal_date",
              "lifecycle.ncms.removed_while_detained")),
    )),
    # ---------------------------------------------------------------- time limits
    Fact("Time limits", "RAD appeal filed within 15 days of the RPD's reasons", (
        Copy("nova", "case_file.referred_on vs decision.reasons_on",
             ("nova.case_file.rad_filed_in_time", "nova.decision.reasons_on.not_future",
              "nova.decision.reasons_on.after_decision")),
        Copy("gcms", "irb_proceeding.filed_on", reason="the feed carries no reasons date"),
    )),
    Fact("Time limits", "RAD appeal perfected within 30 days", (
        Copy("nova", "filing APR vs NOA", ("nova.filing.rad_perfected_in_time",)),
        Copy("gcms", "irb_proceeding", reason="the feed carries no appeal record"),
    )),
    Fact("Time limits", "RAD decides within 90 days unless it holds a hearing", (
        Copy("nova", "decision.decided_on vs APR filing, hearing", ("nova.decision.rad_decided_in_time",)),
        Copy("gcms", "irb_decision", reason="perfection dates and hearings are not fed"),
    )),
    Fact("Time limits", "Federal Court leave applied for within 15 days", (
        Copy("gcms", "litigation.filed_on vs fed RAD irb_decision.decided_on",
             ("gcms.litigation.leave_sought_in_time",)),
        Copy("ncms", "legal_matter", reason=_FEED_COPY),
    )),
    Fact("Time limits", "litigation entered in GCMS promptly (entered late is an error)", (
        Copy("gcms", "litigation.entered_at vs filed_on", ("gcms.litigation.entered_on_time",)),
    )),
    Fact("Time limits", "a claimant's order in force 15 days after the RAD rejection, or when "
         "the RAD window closes", (
        Copy("gcms", "removal_order.in_force_on vs fed decisions",
             ("gcms.removal_order.in_force_after_appeal_window",)),
        Copy("ncms", "removal_case", reason="NCMS holds no in-force date"),
    )),
    Fact("Time limits", "PRRA application due within 15 days of notification", (
        Copy("gcms", "prra_application.applied_on vs notified_on",
             ("gcms.prra_application.applied_in_time",
              "gcms.prra_application.applied_after_notification")),
        Copy("ncms", "legal_matter (PRRA)", reason=_FEED_COPY),
    )),
    Fact("Time limits", "s.57 detention reviews: 48 hours, then 7 days, then every 30 days", (
        Copy("ncms", "detention, detention_review",
             ("ncms.detention.first_review", "ncms.detention.second_review",
              "ncms.detention.later_reviews", "ncms.detention_review.due_within_s57",
              "ncms.detention_review.on_time", "ncms.detention_review.after_arrest")),
        Copy("nova", "decision (detention-review files)",
             reason="NOVA's review decisions carry no detention times"),
    )),
    Fact("Time limits", "ID and IAD decisions re-keyed into GCMS within 2-5 business days", (
        Copy("gcms", "irb_decision (MANUAL) vs NOVA decision",
             ("cross.nova.decision.rekeyed", "cross.gcms.irb_decision.rekeyed_in_time",
              "cross.gcms.irb_decision.matches_nova")),
    )),
    Fact("Time limits", "criminal cases reviewed yearly, failed claimants every 3 years", (
        Copy("ncms", "removal_case.last_review_on",
             ("domain.ncms.removal_case.criminal_review",
              "domain.ncms.removal_case.failed_claimant_review")),
    )),
    Fact("Time limits", "s.48: an enforceable order is enforced as soon as possible", (
        Copy("ncms", "case_activity", ("domain.ncms.removal_case.dormant",)),
    )),
    # ---------------------------------------------------------------- stays
    Fact("Stays", "a TSR does not protect persons inadmissible under s.34-37", (
        Copy("gcms", "stay_of_removal.stay_type", ("lifecycle.gcms.tsr_stay_serious_ground",)),
        Copy("ncms", "case_impediment.impediment_code",
             ("lifecycle.ncms.tsr_impediment_serious_ground",)),
    )),
    Fact("Stays", "no removal while a stay is in effect", (
        Copy("gcms", "departure_confirmation vs stay_of_removal",
             ("gcms.departure_confirmation.no_active_stay",)),
        Copy("ncms", "removal_case inventory vs case_impediment",
             ("lifecycle.ncms.ready_with_open_impediment",)),
    )),
    # ---------------------------------------------------------------- identifiers and codes
    Fact("Identifiers", "UCI: 0000-0000 or 00-0000-0000", (
        Copy("nova", "party.uci", ("nova.party.uci.format",)),
        Copy("gcms", "inadmissibility_report.uci, removal_order.uci",
             ("gcms.inadmissibility_report.uci.format", "gcms.removal_order.uci.format")),
        Copy("ncms", "removal_case.uci",
             ("ncms.removal_case.uci.format", "cross.ncms.removal_case.uci_in_gcms")),
    )),
    Fact("Identifiers", "IRB file numbers: TB1-12345, or 0001-/0003-/0018- and digits", (
        Copy("nova", "case_file.file_number", ("nova.case_file.file_number.format",)),
        Copy("gcms", "report referral, irb_decision, litigation",
             ("gcms.inadmissibility_report.referral_file_no.format",
              "gcms.irb_decision.irb_file_no.format", "gcms.litigation.irb_file_no.format")),
    )),
    Fact("Code sets", "outcomes per division, grounds, order types, inventories, priorities, "
         "impediments, warrants, arrest reasons, facilities", (
        Copy("nova", "decision.outcome_code",
             ("nova.decision.outcome_code.code", "nova.decision.outcome_code.division")),
        Copy("gcms", "grounds, order types, authorities, outcomes, warrant types",
             ("gcms.removal_order.irpa_ground.code", "gcms.irb_decision.outcome.code",
              "gcms.warrant.warrant_type.code")),
        Copy("ncms", "inventory, priority, impediments, warrants, detention codes",
             ("ncms.removal_case.inventory.code", "ncms.removal_case.priority.code",
              "ncms.case_impediment.impediment_code.code", "ncms.warrant.warrant_type.code",
              "ncms.detention.arrest_reason.code", "ncms.detention.facility_type.code")),
    )),
    Fact("Code sets", "priorities follow from ground and claim history", (
        Copy("ncms", "removal_case.priority", ("ncms.removal_case.priority.ground",)),
    )),
    Fact("Entry guidelines", "mandatory fields", (
        Copy("nova", "every table", reason=_MANDATORY),
        Copy("gcms", "every table", reason=_MANDATORY),
        Copy("ncms", "every table", reason=_MANDATORY),
    )),
)  # fmt: skip

#: Pairs of copies that must agree, across systems.
AGREEMENTS: tuple[tuple[str, str, str], ...] = (
    ("NOVA RPD/RAD filings and decisions", "GCMS irb_proceeding, irb_decision (feed)",
     "cross.claims_and_appeals.delivered, cross.final_decisions.delivered"),
    ("NOVA ID/IAD decisions", "GCMS irb_decision (keyed)",
     "cross.gcms.irb_decision.matches_nova, cross.nova.decision.rekeyed, "
     "cross.gcms.irb_decision.rekeyed_in_time"),
    ("GCMS RPD/RAD decisions, litigation, PRRA, travel documents",
     "NCMS irb_outcome, legal_matter, travel_doc_info (feed)", "cross.*.delivered"),
    ("GCMS client (UCI)", "NCMS removal_case.uci", "cross.ncms.removal_case.uci_in_gcms"),
    ("GCMS client status", "GCMS removal_order.subject_status",
     "gcms.removal_order.subject_status.client"),
    ("GCMS removal_order (ground, type, made on)", "NCMS removal_case (typed copy)",
     "none: needs a reconciliation copy of GCMS orders in control (only the chart's "
     "type set is checked, ncms.removal_case.order_type.chart)"),
    ("NCMS warrant", "GCMS warrant (re-keyed one-way)",
     "none: needs a reconciliation copy of both warrant tables in control; each copy's "
     "own states are checked (lifecycle.*.warrant_executed_and_cancelled)"),
)  # fmt: skip


#: Measured once at the issue's scale (too heavy for CI), SQLite, engine sql, 2-core machine.
MEASUREMENTS = """## Measured at 22,000 files and 120 days

Commands (SQLite; `CASESYNC_HOME` a scratch directory):

```bash
casesync seed --files 22000 --days 120 --defect-rate 0.06 --seed 1 --json
casesync nightly --from 2020-01-06 --to 2020-05-04
casesync validate --full --engine sql
casesync score --json
```

- Clean world (`--defect-rate 0`, the same commands): 0 error findings, every rule
  above included (2,208 inventory-health warnings); 81 s in all.
- Defects planted over every declared rule (rate 0.06, seed 1: 943 planted in 16,263
  typed entries, 49 classes): recall 1.0 and precision 1.0 for every class planted,
  and 0 error findings that match no planted defect. "Opportunities" counts the
  entries on which the class's error could have been made (`opportunities` in
  `casesync seed --json`); a class is planted when it falls behind its share.

| defect class | opportunities | planted | found | recall | precision |
|---|---|---|---|---|---|
| converted_early | 134 | 14 | 14 | 1.000 | 1.000 |
| date_out_of_order | 2,395 | 28 | 28 | 1.000 | 1.000 |
| deemed_deportation_not_departure_order | 133 | 14 | 14 | 1.000 | 1.000 |
| departure_confirmed_order_not_enforced | 388 | 14 | 14 | 1.000 | 1.000 |
| detention_review_overdue | 57 | 28 | 28 | 1.000 | 1.000 |
| duplicate_client | 109 | 28 | 28 | 1.000 | 1.000 |
| ended_case_open_inventory | 1,497 | 14 | 14 | 1.000 | 1.000 |
| ended_case_open_warrant | 8 | 3 | 3 | 1.000 | 1.000 |
| finalized_file_without_decision | 1,451 | 15 | 15 | 1.000 | 1.000 |
| future_date | 2,563 | 28 | 28 | 1.000 | 1.000 |
| gcms_warrant_executed_and_cancelled | 46 | 13 | 13 | 1.000 | 1.000 |
| in_force_too_early | 400 | 14 | 14 | 1.000 | 1.000 |
| leave_sought_late | 48 | 13 | 13 | 1.000 | 1.000 |
| litigation_late | 81 | 20 | 20 | 1.000 | 1.000 |
| malformed_irb_file | 211 | 28 | 28 | 1.000 | 1.000 |
| malformed_uci | 1,988 | 56 | 56 | 1.000 | 1.000 |
| missing_mandatory | 8,855 | 98 | 98 | 1.000 | 1.000 |
| ncms_order_type | 38 | 14 | 14 | 1.000 | 1.000 |
| ncms_warrant_executed_and_cancelled | 46 | 13 | 13 | 1.000 | 1.000 |
| not_rekeyed | 102 | 12 | 12 | 1.000 | 1.000 |
| open_case_closed_inventory | 1,497 | 15 | 15 | 1.000 | 1.000 |
| open_case_with_closing_date | 1,497 | 14 | 14 | 1.000 | 1.000 |
| order_ground_for_permanent_residents_only | 597 | 14 | 14 | 1.000 | 1.000 |
| order_ground_not_for_permanent_residents | 16 | 11 | 11 | 1.000 | 1.000 |
| orphan_reference | 723 | 28 | 28 | 1.000 | 1.000 |
| priority_inconsistent | 723 | 28 | 28 | 1.000 | 1.000 |
| prra_applied_before_notice | 252 | 14 | 14 | 1.000 | 1.000 |
| prra_applied_late | 252 | 14 | 14 | 1.000 | 1.000 |
| rad_decision_late | 260 | 14 | 14 | 1.000 | 1.000 |
| rad_filing_window | 250 | 14 | 14 | 1.000 | 1.000 |
| rad_perfecting_late | 333 | 14 | 14 | 1.000 | 1.000 |
| ready_with_open_impediment | 2,143 | 27 | 27 | 1.000 | 1.000 |
| reasons_before_decision | 142 | 13 | 13 | 1.000 | 1.000 |
| reasons_future | 142 | 13 | 13 | 1.000 | 1.000 |
| rekey_mismatch | 105 | 28 | 28 | 1.000 | 1.000 |
| rekeyed_late | 102 | 12 | 12 | 1.000 | 1.000 |
| removal_during_stay | 68 | 14 | 14 | 1.000 | 1.000 |
| removed_case_without_removal_date | 378 | 14 | 14 | 1.000 | 1.000 |
| report_ground_for_permanent_residents_only | 692 | 14 | 14 | 1.000 | 1.000 |
| report_ground_not_for_permanent_residents | 31 | 13 | 13 | 1.000 | 1.000 |
| review_due_late | 57 | 13 | 13 | 1.000 | 1.000 |
| status_mismatch | 613 | 14 | 14 | 1.000 | 1.000 |
| tsr_impediment_serious_ground | 155 | 14 | 14 | 1.000 | 1.000 |
| tsr_stay_serious_ground | 76 | 14 | 14 | 1.000 | 1.000 |
| unknown_code | 3,546 | 42 | 42 | 1.000 | 1.000 |
| wanted_without_open_warrant | 82 | 13 | 13 | 1.000 | 1.000 |
| wrong_authority | 613 | 19 | 19 | 1.000 | 1.000 |
| wrong_order_type | 613 | 19 | 19 | 1.000 | 1.000 |
| removed_while_detained | 0 | 0 | 0 | - | - |

Two classes get fewer than 10 opportunities at this size, because the world rarely
makes the state they corrupt: a case that ends while its warrant is open (8 in 120
days) and the removal of a person still detained (none). At 220,000 files and 120
days (the same commands, `--files 220000`; 9 min 30 s, peak 730 MiB): 9,543 defects
planted over all 49 classes, recall 1.0 and precision 1.0 for each, 0 error findings
that match no planted defect; `ended_case_open_warrant` planted 40 times; the removal
of a detained person came up once (its defect is written on the case and on the
detention: 2).
"""


def render() -> str:
    """docs/rules.md, from the facts, the life-cycle declarations and every rule."""
    from expectations.runner import all_rules

    rules = {rule.name: rule for rule in all_rules()}
    out = [
        "# Rule coverage matrix",
        "",
        "Generated by `python -m expectations.coverage > docs/rules.md` from",
        "`expectations/coverage.py`, `expectations/lifecycle.py` and the rules themselves;",
        "`tests/unit/test_rules_coverage.py` fails when this file drifts.",
        "",
        "## DOMAIN.md facts, every copy, and what checks it",
        "",
        "| topic | fact | system | where | rules (or why none) |",
        "|---|---|---|---|---|",
    ]
    for fact in FACTS:
        for copy in fact.copies:
            checks = ", ".join(f"`{name}`" for name in copy.rules)
            why = f"{checks}; {copy.reason}" if checks and copy.reason else checks or copy.reason
            out.append(f"| {fact.section} | {fact.fact} | {copy.system} | {copy.where} | {why} |")
    out += ["", "## Copies across systems that must agree", "",
            "| holder | copy | rules |", "|---|---|---|"]  # fmt: skip
    out += [f"| {a} | {b} | {c} |" for a, b, c in AGREEMENTS]
    out += ["", "## Life-cycle states", "", "| state | system | record | meaning |",
            "|---|---|---|---|"]  # fmt: skip
    out += [
        f"| `{s.name}` | {s.system} | {s.model.__tablename__} | {s.label} |"
        for s in lifecycle.STATES
    ]
    out += ["", "## States that cannot hold together", "",
            "| rule | first state | second state | same record? |", "|---|---|---|---|"]  # fmt: skip
    out += [
        f"| `{e.rule_name}` | `{e.first.name}` | `{e.second.name}` | "
        f"{'yes' if e.link is None else 'linked record'} |"
        for e in lifecycle.EXCLUSIONS
    ]
    out += ["", "## Every rule", "",
            "| rule | severity | class | checks | a correct entry |", "|---|---|---|---|---|"]  # fmt: skip
    for name, rule in rules.items():
        out.append(
            f"| `{name}` | {rule.severity.value} | {rule.defect_class or '-'} | "
            f"{rule.description} | {rule.correct_entry} |"
        )
    return "\n".join(out) + "\n\n" + MEASUREMENTS


def referenced_rules() -> set[str]:
    """Every rule name the matrix cites."""
    return {name for fact in FACTS for copy in fact.copies for name in copy.rules}


if __name__ == "__main__":
    print(render(), end="")
