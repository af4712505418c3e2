"""Every rule as plain SQL: the failing records, key by key.

Column checks become `SELECT key, value FROM table WHERE <in scope> AND NOT
<check>`; query checks are already queries. Great Expectations runs the same
rules (expectations/gx.py); this rendering is the benchmark's hand-written
baseline and what GX's row-level queries are built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, cast, literal, select, text

from expectations.rules import InOrder, InSet, Matches, NotNull, Query, Rule, Scope
from schemas import metadata_for

if TYPE_CHECKING:
    from sqlalchemy import Select, Table


def in_scope(rule: Rule, table: Table, scope: Scope) -> list[Any]:
    """The conditions that pick the rows a column check covers."""
    conditions = [scope.changed(table.c.updated_at)]
    if rule.hand_typed and "entered_by" in table.c:
        conditions.append(table.c.entered_by.not_like("FEED:%"))
    if rule.where:
        conditions.append(text(rule.where))
    return conditions


def failing(rule: Rule, check: Any, table: Table) -> Any:
    """The condition a failing row meets."""
    if isinstance(check, NotNull):
        return table.c[check.column].is_(None)
    if isinstance(check, Matches):
        column = table.c[check.column]
        return and_(column.is_not(None), ~column.regexp_match(check.pattern))
    if isinstance(check, InSet):
        column = table.c[check.column]
        return and_(column.is_not(None), column.not_in(check.values))
    if isinstance(check, InOrder):
        earlier, later = table.c[check.earlier], table.c[check.later]
        return and_(earlier.is_not(None), later.is_not(None), later < earlier)
    raise TypeError(f"{rule.name}: not a column check")


def query(rule: Rule, scope: Scope) -> Select:
    """The failing records of `rule` in `scope`: key, value, related_key, office."""
    if isinstance(rule.check, Query):
        built = rule.check.build(scope).subquery()
        columns = built.c
        return select(
            cast(columns.key, String).label("key"),
            cast(columns.value, String).label("value")
            if "value" in columns
            else literal(None).label("value"),
            cast(columns.related_key, String).label("related_key")
            if "related_key" in columns
            else literal(None, String).label("related_key"),
            columns.office.label("office")
            if "office" in columns
            else literal(None, String).label("office"),
        )
    table = metadata_for(rule.system).tables[rule.table]
    office = (
        table.c[rule.office].label("office")
        if rule.office
        else literal(None, String).label("office")
    )
    column = rule.column
    return select(
        cast(table.c[rule.key], String).label("key"),
        cast(table.c[column], String).label("value")
        if column
        else literal(None, String).label("value"),
        literal(None, String).label("related_key"),
        office,
    ).where(*in_scope(rule, table, scope), failing(rule, rule.check, table))
