"""The SQL rendering of the jurisdiction chart agrees with codes.jurisdiction, case by case.

On the backend under test: the rules run this SQL on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Boolean, Column, MetaData, String, Table, insert, select

from connectors import Connectors, dialect
from expectations.chart_sql import expected_authority, expected_order_type, expected_priority
from schemas.codes import (
    GROUND_CODES,
    JurisdictionError,
    NonCompliance,
    OrderType,
    Status,
    jurisdiction,
)
from schemas.codes import (
    expected_priority as python_priority,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from casesync.settings import Settings
    from connectors.base import Connector

pytestmark = pytest.mark.integration


@pytest.fixture
def database(settings: Settings) -> Iterator[Connector]:
    """One empty database of the backend under test (the control database's URL)."""
    dialect.ensure_database(dialect.normalize_url(settings.url("control")))
    connectors = Connectors.from_settings(settings)
    yield connectors.control
    connectors.dispose()


def test_sql_chart_matches_python_chart_for_every_combination(database: Connector) -> None:
    meta = MetaData()
    facts = Table(
        "facts",
        meta,
        Column("ground", String),
        Column("status", String),
        Column("nc", String),
        Column("claimant", Boolean),
        Column("vulnerable", Boolean),
        Column("family", String),
    )
    kinds = [None, *(k.value for k in NonCompliance)]
    rows = [
        {"ground": g, "status": s.value, "nc": k, "claimant": c, "vulnerable": v, "family": f}
        for g, s, k, c, v, f in itertools.product(
            GROUND_CODES,
            list(Status),
            kinds,
            (False, True),
            (False, True),
            [t.value for t in OrderType],
        )
        if (k is None or g == "41(a)")
    ]
    query = select(
        facts,
        expected_authority(facts.c.ground, facts.c.status, facts.c.nc, facts.c.vulnerable).label(
            "a"
        ),
        expected_order_type(
            facts.c.ground, facts.c.status, facts.c.nc, facts.c.claimant, facts.c.family
        ).label("t"),
    )
    with database.begin() as conn:
        meta.create_all(conn)
        conn.execute(insert(facts), rows)
        results = conn.execute(query).mappings().all()
    compared = 0
    for row in results:
        try:
            expected = jurisdiction(
                row["ground"],
                status=row["status"],
                non_compliance=row["nc"],
                is_claimant=row["claimant"],
                is_vulnerable=row["vulnerable"],
                family_order_type=row["family"],
            )
        except JurisdictionError:
            assert row["a"] is None or row["t"] is None
            continue
        assert (row["a"], row["t"]) == (expected.authority.value, expected.order_type.value), dict(
            row
        )
        compared += 1
    assert compared > 1000


def test_sql_priority_matches_python_priority(database: Connector) -> None:
    meta = MetaData()
    cases = Table(
        "cases",
        meta,
        Column("ground", String),
        Column("failed", Boolean),
        Column("irregular", Boolean),
    )
    rows = [
        {"ground": g, "failed": f, "irregular": i}
        for g, f, i in itertools.product(GROUND_CODES, (False, True), (False, True))
    ]
    with database.begin() as conn:
        meta.create_all(conn)
        conn.execute(insert(cases), rows)
        found = (
            conn.execute(
                select(
                    cases,
                    expected_priority(cases.c.ground, cases.c.failed, cases.c.irregular).label("p"),
                )
            )
            .mappings()
            .all()
        )
    assert len(found) == len(rows) > 50
    for row in found:
        assert (
            row["p"]
            == python_priority(
                row["ground"], failed_claimant=row["failed"], irregular_migrant=row["irregular"]
            ).value
        )
