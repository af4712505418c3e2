"""The jurisdiction chart and the priority rule as SQL, generated from schemas/codes.py.

The validations compare each removal order (and each NCMS case) with what the
chart says; these expressions are the chart itself, rendered for the
database, so the chart is written once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, or_

from schemas.codes import (
    CLAIMANT_DEPARTURE_GROUNDS,
    CLAIMANT_DEPARTURE_NON_COMPLIANCE,
    GROUNDS,
    JURISDICTION_CHART,
    Authority,
    ChartRow,
    NonCompliance,
    OrderType,
    Priority,
)


def _row_condition(row: ChartRow, ground: Any, status: Any, non_compliance: Any) -> Any:
    parts = [ground.in_(sorted(row.grounds))]
    if row.status is not None:
        parts.append(status.in_(sorted(s.value for s in row.status)))
    if row.non_compliance is not None:
        kind = func.coalesce(non_compliance, literal(NonCompliance.OTHER.value))
        parts.append(kind.in_(sorted(k.value for k in row.non_compliance)))
    return and_(*parts)


def expected_authority(ground: Any, status: Any, non_compliance: Any, vulnerable: Any) -> Any:
    """Who must issue the order: the chart's authority, or the ID for a vulnerable person."""
    whens = [(vulnerable.is_(True), literal(Authority.ID.value))]
    whens += [
        (_row_condition(row, ground, status, non_compliance), literal(row.authority.value))
        for row in JURISDICTION_CHART
    ]
    return case(*whens, else_=None)


def expected_order_type(
    ground: Any, status: Any, non_compliance: Any, claimant: Any, family_order_type: Any
) -> Any:
    """The order type the chart gives, with the refugee-claimant modifier and s.42."""
    claimant_departure = and_(
        claimant.is_(True),
        or_(
            ground.in_(sorted(CLAIMANT_DEPARTURE_GROUNDS)),
            and_(
                ground == "41(a)",
                func.coalesce(non_compliance, literal(NonCompliance.OTHER.value)).in_(
                    sorted(k.value for k in CLAIMANT_DEPARTURE_NON_COMPLIANCE)
                ),
            ),
        ),
    )
    whens = []
    for row in JURISDICTION_CHART:
        condition = _row_condition(row, ground, status, non_compliance)
        if row.order_type is None:
            whens.append((condition, family_order_type))
        elif row.order_type is OrderType.EXCLUSION:
            whens.append(
                (
                    condition,
                    case(
                        (claimant_departure, literal(OrderType.DEPARTURE.value)),
                        else_=literal(OrderType.EXCLUSION.value),
                    ),
                )
            )
        else:
            whens.append((condition, literal(row.order_type.value)))
    return case(*whens, else_=None)


SERIOUS_GROUNDS = tuple(sorted(g.code for g in GROUNDS if g.serious))


def expected_priority(ground: Any, failed_claimant: Any, irregular: Any) -> Any:
    """The priority a case must carry (codes.expected_priority, in SQL)."""
    failed = func.coalesce(failed_claimant, literal(False)).is_(True)
    return case(
        (ground.in_(SERIOUS_GROUNDS), literal(Priority.SERIOUS_INADMISSIBILITY.value)),
        (
            and_(failed, func.coalesce(irregular, literal(False)).is_(True)),
            literal(Priority.IRREGULAR_FAILED_CLAIMANT.value),
        ),
        (failed, literal(Priority.FAILED_CLAIMANT.value)),
        else_=literal(Priority.OTHER.value),
    )
