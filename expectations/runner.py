"""Run the suites for a scope: refresh reconciliation, run each rule, keep the findings."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from connectors import arrow_io
from expectations import cross, domain, gcms, ncms, nova
from expectations.findings import RuleOutcome
from expectations.sql import query

if TYPE_CHECKING:
    from connectors import Connectors
    from expectations.rules import Rule, Scope

#: Every suite, one module per dataset.
SUITES = {
    "nova": nova.suite,
    "gcms": gcms.suite,
    "ncms": ncms.suite,
    "cross": cross.suite,
    "domain": domain.suite,
}


def all_rules() -> list[Rule]:
    """Every rule of every suite."""
    return [rule for suite in SUITES.values() for rule in suite()]


def problem(exc: BaseException) -> str:
    """One line saying why a rule could not run."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"


def run_sql(connectors: Connectors, rules: list[Rule], scope: Scope) -> list[RuleOutcome]:
    """Each rule as one hand-written SQL query (the benchmark baseline, and a fallback).

    The rules of one database run on one connection, in one read transaction (one
    snapshot): a rule that fails is rolled back and the next one starts afresh; a
    database that cannot be reached fails its rules only.
    """
    outcomes = {id(rule): RuleOutcome(rule) for rule in rules}
    by_database: dict[str, list[Rule]] = {}
    for rule in rules:
        by_database.setdefault(rule.database, []).append(rule)
    for database, group in by_database.items():
        left = list(group)
        try:
            with connectors[database].connect() as conn:
                while left:
                    rule = left.pop(0)
                    outcome = outcomes[id(rule)]
                    started = time.perf_counter()
                    try:
                        _, rows = arrow_io.fetch_raw(conn, query(rule, scope), literal=True)
                        outcome.failures = [tuple(row) for row in rows]
                    except (SQLAlchemyError, OSError, ValueError) as exc:
                        outcome.error = problem(exc)
                        conn.rollback()
                    outcome.seconds = time.perf_counter() - started
        except (SQLAlchemyError, OSError) as exc:  # the database itself: its rules left
            for rule in left:
                outcomes[id(rule)].error = problem(exc)
    return [outcomes[id(rule)] for rule in rules]
