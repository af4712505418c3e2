"""Findings: one row per failing record per rule per validation, in the control database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert

from schemas.control import Finding

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from expectations.rules import Rule, Scope


@dataclass
class RuleOutcome:
    """What one rule found (or why it could not run)."""

    rule: Rule
    failures: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures

    def summary(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "severity": self.rule.severity.value,
            "failures": len(self.failures),
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }


def finding_rows(scope: Scope, outcome: RuleOutcome) -> list[dict[str, Any]]:
    rule = outcome.rule
    related_system, related_table = rule.related or (None, None)
    rows = []
    seen = set()
    for key, value, related_key, office in outcome.failures:
        if key in seen:  # one finding per record per rule
            continue
        seen.add(key)
        rows.append(
            {
                "scope": scope.name,
                "night": scope.night if scope.kind == "night" else None,
                "system": rule.system,
                "table_name": rule.table,
                "record_key": str(key),
                "field": rule.field,
                "value": None if value is None else str(value)[:500],
                "rule": rule.name,
                "severity": rule.severity.value,
                "office_code": office,
                "message": rule.description,
                "related_system": related_system if related_key is not None else None,
                "related_table": related_table if related_key is not None else None,
                "related_key": related_key,
            }
        )
    return rows


def replace(conn: Connection, scope: Scope, outcomes: list[RuleOutcome]) -> int:
    """Replace the scope's findings with these (a rerun of a night gives the same rows)."""
    conn.execute(delete(Finding).where(Finding.scope == scope.name))
    rows = [row for outcome in outcomes for row in finding_rows(scope, outcome)]
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(Finding), rows[start : start + 20_000])
    return len(rows)
