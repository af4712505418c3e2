"""Scoring: the findings against the defects the simulator planted.

A finding matches a planted defect when it names the planted record, or when
its related record is the planted one (a rule about two records flags the
pair; either may be the one typed wrong). Recall of a class: the share of its
planted defects that a rule meant for that class found. Precision of a class:
the share of its rules' findings that match some planted defect.
`clean_findings` counts error findings that match no planted defect.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from expectations.runner import all_rules
from schemas.control import Finding
from schemas.ground_truth import PlantedDefect

if TYPE_CHECKING:
    from connectors import Connectors


def score(connectors: Connectors, *, scope: str | None = None) -> dict[str, Any]:
    """Recall and precision per defect class, and the error findings no defect explains.

    `scope` limits the findings to one validation (full, or night:YYYY-MM-DD);
    by default every finding counts, whatever validation made it.
    """
    with connectors.ground_truth.connect() as conn:
        planted = conn.execute(
            select(
                PlantedDefect.system,
                PlantedDefect.table_name,
                PlantedDefect.record_key,
                PlantedDefect.defect_class,
            )
        ).all()
    query = select(
        Finding.rule, Finding.severity, Finding.system, Finding.table_name, Finding.record_key,
        Finding.related_system, Finding.related_table, Finding.related_key,
    )  # fmt: skip
    if scope:
        query = query.where(Finding.scope == scope)
    with connectors.control.connect() as conn:
        findings = conn.execute(query).all()
    rule_class = {rule.name: rule.defect_class for rule in all_rules()}
    planted_keys: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for system, table, key, defect_class in planted:
        planted_keys[(system, table, key)].add(defect_class)

    found_records: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    per_class_findings: dict[str, list[bool]] = defaultdict(list)
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: {"findings": 0, "unmatched": 0})
    clean = 0
    for rule, severity, system, table, key, r_system, r_table, r_key in findings:
        records: list[tuple[str, str, str]] = [(system, table, key)]
        if r_key is not None and r_system is not None and r_table is not None:
            records.append((r_system, r_table, r_key))
        matched = [record for record in records if record in planted_keys]
        klass = rule_class.get(rule)
        per_rule[rule]["findings"] += 1
        if not matched:
            per_rule[rule]["unmatched"] += 1
            if severity == "error":
                clean += 1
        if klass is not None:
            per_class_findings[klass].append(bool(matched))
            for record in matched:
                found_records[klass].add(record)

    classes = {}
    totals = {"planted": 0, "found": 0, "findings": 0, "true": 0}
    by_class: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for system, table, key, defect_class in planted:
        by_class[defect_class].append((system, table, key))
    for klass in sorted(set(by_class) | set(per_class_findings)):
        records = by_class.get(klass, [])
        found = sum(1 for record in records if record in found_records[klass])
        matches = per_class_findings.get(klass, [])
        classes[klass] = {
            "planted": len(records),
            "found": found,
            "recall": round(found / len(records), 4) if records else None,
            "precision": round(sum(matches) / len(matches), 4) if matches else None,
        }
        totals["planted"] += len(records)
        totals["found"] += found
        totals["findings"] += len(matches)
        totals["true"] += sum(matches)
    return {
        "classes": classes,
        "overall": {
            "recall": round(totals["found"] / totals["planted"], 4) if totals["planted"] else None,
            "precision": round(totals["true"] / totals["findings"], 4)
            if totals["findings"]
            else None,
        },
        "clean_findings": clean,
        "rules": {rule: counts for rule, counts in sorted(per_rule.items())},
    }
