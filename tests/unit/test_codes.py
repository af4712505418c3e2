"""The jurisdiction chart, row by row, and the identifier formats.

The expected values are written out here from the reference's chart and IRPR
228-229 (DOMAIN.md), independently of schemas/codes.py, so that a wrong row in
codes.py fails a test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from schemas import codes
from schemas.codes import Authority as A
from schemas.codes import OrderType as T
from schemas.codes import Status as S

if TYPE_CHECKING:
    from collections.abc import Sequence

pytestmark = pytest.mark.unit

# The reference's chart has 21 rows; each is a case (ground, facts) -> (authority, type).
ChartCase = tuple[str, str, S, str | None, A, T | None]
REFERENCE_CHART: list[ChartCase] = [
    ("s.34 security", "34", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.35(1)(a) war crimes", "35(1)(a)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.35(1)(b) senior official", "35(1)(b)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.35(1)(c) sanctions", "35(1)(c)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.35(1)(d) SEMA", "35(1)(d)", S.FOREIGN_NATIONAL, None, A.MD, T.DEPORTATION),
    ("s.35(1)(e) JVCFOA", "35(1)(e)", S.FOREIGN_NATIONAL, None, A.MD, T.DEPORTATION),
    ("s.36(1)(a) foreign national", "36(1)(a)", S.FOREIGN_NATIONAL, None, A.MD, T.DEPORTATION),
    ("s.36(1)(a) permanent resident", "36(1)(a)", S.PERMANENT_RESIDENT, None, A.ID, T.DEPORTATION),
    ("s.36(1)(b) convicted outside", "36(1)(b)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.36(1)(c) act outside", "36(1)(c)", S.PERMANENT_RESIDENT, None, A.ID, T.DEPORTATION),
    ("s.36(2)(a) convicted in Canada", "36(2)(a)", S.FOREIGN_NATIONAL, None, A.MD, T.DEPORTATION),
    ("s.36(2)(b) convicted outside", "36(2)(b)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.36(2)(c) act outside", "36(2)(c)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.36(2)(d) offence on entry", "36(2)(d)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.37 organized criminality", "37", S.PERMANENT_RESIDENT, None, A.ID, T.DEPORTATION),
    ("s.38 health", "38", S.FOREIGN_NATIONAL, None, A.ID, T.EXCLUSION),
    ("s.40(1)(a) misrepresentation", "40(1)(a)", S.FOREIGN_NATIONAL, None, A.ID, T.EXCLUSION),
    ("s.40(1)(c) vacation", "40(1)(c)", S.PROTECTED_PERSON, None, A.MD, T.DEPORTATION),
    ("s.40.1 cessation", "40.1", S.PROTECTED_PERSON, None, A.MD, T.DEPARTURE),
    ("s.41 non-compliance", "41(a)", S.FOREIGN_NATIONAL, "overstay", A.MD, T.EXCLUSION),
    ("s.42 family member", "42", S.FOREIGN_NATIONAL, None, A.MD, None),
]

# Rows DOMAIN.md adds or splits beyond the reference's 21.
DOMAIN_ADDITIONS: list[ChartCase] = [
    ("s.39 financial", "39", S.FOREIGN_NATIONAL, None, A.ID, T.EXCLUSION),
    ("s.40(1)(b) misrepresentation", "40(1)(b)", S.PERMANENT_RESIDENT, None, A.ID, T.EXCLUSION),
    ("s.40(1)(d) misrepresentation", "40(1)(d)", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION),
    ("s.41 returned without ARC", "41(a)", S.FOREIGN_NATIONAL, "no_arc", A.MD, T.DEPORTATION),
    ("s.41 no-show", "41(a)", S.FOREIGN_NATIONAL, "no_show", A.MD, T.EXCLUSION),
    ("s.41 no visa", "41(a)", S.FOREIGN_NATIONAL, "no_visa", A.MD, T.EXCLUSION),
    ("s.41(b) residency", "41(b)", S.PERMANENT_RESIDENT, None, A.MD, T.DEPARTURE),
]


def _ids(rows: Sequence[tuple[object, ...]]) -> list[str]:
    return [str(row[0]) for row in rows]


def test_reference_chart_has_21_rows() -> None:
    assert len(REFERENCE_CHART) == 21
    covered = {row[1] for row in REFERENCE_CHART + DOMAIN_ADDITIONS}
    named = {ground for row in codes.JURISDICTION_CHART for ground in row.grounds}
    assert covered == named - {"multiple"}


@pytest.mark.parametrize(
    ("row", "ground", "status", "kind", "authority", "order_type"),
    REFERENCE_CHART + DOMAIN_ADDITIONS,
    ids=_ids(REFERENCE_CHART + DOMAIN_ADDITIONS),
)
def test_chart_row(
    row: str, ground: str, status: S, kind: str | None, authority: A, order_type: T | None
) -> None:
    family = T.EXCLUSION if order_type is None else None
    result = codes.jurisdiction(
        ground, status=status, non_compliance=kind, family_order_type=family
    )
    assert result.authority is authority, row
    assert result.order_type is (order_type or family), row


@pytest.mark.parametrize("family", list(T))
def test_family_member_takes_the_family_members_order_type(family: T) -> None:
    assert codes.jurisdiction("42", family_order_type=family).order_type is family


def test_family_member_without_principal_is_an_error() -> None:
    with pytest.raises(codes.JurisdictionError):
        codes.jurisdiction("42")


@pytest.mark.parametrize(
    ("ground", "kind", "expected"),
    [
        ("41(a)", "no_show", T.DEPARTURE),
        ("41(a)", "no_visa", T.DEPARTURE),
        ("41(a)", "overstay", T.DEPARTURE),
        ("41(a)", "other", T.EXCLUSION),  # not one of the three claimant cases
        ("41(a)", "no_arc", T.DEPORTATION),
        ("38", None, T.DEPARTURE),
        ("39", None, T.DEPARTURE),
        ("40(1)(a)", None, T.EXCLUSION),  # misrepresentation keeps its exclusion order
        ("36(2)(a)", None, T.DEPORTATION),
    ],
)
def test_refugee_claimant_modifier(ground: str, kind: str | None, expected: T) -> None:
    assert codes.jurisdiction(ground, non_compliance=kind, is_claimant=True).order_type is expected


@pytest.mark.parametrize("ground", ["41(a)", "36(2)(a)", "40.1", "35(1)(d)"])
def test_vulnerable_persons_always_go_to_the_id(ground: str) -> None:
    status = S.PROTECTED_PERSON if ground == "40.1" else S.FOREIGN_NATIONAL
    assert codes.jurisdiction(ground, status=status, is_vulnerable=True).authority is A.ID


def test_unknown_ground_is_an_error() -> None:
    with pytest.raises(codes.JurisdictionError):
        codes.jurisdiction("99(z)")


@pytest.mark.parametrize("ground", [g.code for g in codes.GROUNDS])
def test_every_ground_has_a_chart_row(ground: str) -> None:
    """Every ground a report can allege finds the chart row this file expects for it."""
    expected: list[ChartCase] = [
        row for row in REFERENCE_CHART + DOMAIN_ADDITIONS if row[1] == ground
    ]
    if ground == "multiple":  # several grounds alleged: referred to the ID, deportation
        expected = [("multiple", "multiple", S.FOREIGN_NATIONAL, None, A.ID, T.DEPORTATION)]
    assert expected, f"no expected chart row written here for ground {ground}"
    for name, _, status, kind, authority, order_type in expected:
        row = codes.chart_row(ground, status, kind)
        assert ground in row.grounds, name
        assert row.authority is authority, name
        assert row.order_type is order_type, name


@pytest.mark.parametrize("uci", ["1234-5678", "12-3456-7890"])
def test_well_formed_uci(uci: str) -> None:
    assert codes.is_uci(uci)


@pytest.mark.parametrize(
    "uci", ["12345678", "123-45678", "12-34567890", "1234-567", "", None, "ABCD-EFGH"]
)
def test_malformed_uci(uci: str | None) -> None:
    assert not codes.is_uci(uci)


@pytest.mark.parametrize(
    "number", ["TB1-12345", "MC0-00001", "VA9-99999", "0003-1234567", "0018-12345"]
)
def test_well_formed_irb_file_number(number: str) -> None:
    assert codes.is_irb_file_number(number)


@pytest.mark.parametrize(
    "number", ["TB1-1234", "XB1-12345", "TB-12345", "0002-1234567", "TB1 12345", ""]
)
def test_malformed_irb_file_number(number: str) -> None:
    assert not codes.is_irb_file_number(number)


def test_outcome_codes_are_unique_per_system() -> None:
    for attribute in ("nova", "gcms", "ncms"):
        values = [getattr(outcome, attribute) for outcome in codes.OUTCOMES]
        assert len(values) == len(set(values)), attribute


def test_priority_follows_ground_and_claim_history() -> None:
    assert codes.expected_priority("34", failed_claimant=True, irregular_migrant=True) is (
        codes.Priority.SERIOUS_INADMISSIBILITY
    )
    assert codes.expected_priority("41(a)", failed_claimant=True, irregular_migrant=True) is (
        codes.Priority.IRREGULAR_FAILED_CLAIMANT
    )
    assert codes.expected_priority("41(a)", failed_claimant=True, irregular_migrant=False) is (
        codes.Priority.FAILED_CLAIMANT
    )
    assert codes.expected_priority("40(1)(a)", failed_claimant=False, irregular_migrant=False) is (
        codes.Priority.OTHER
    )
