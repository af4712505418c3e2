"""The rule declarations: the coverage matrix, the life cycle, time limits, business days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from expectations import coverage, lifecycle
from expectations.runner import all_rules
from schemas import codes
from schemas.calendar import add_business_days, business_days_between, is_business_day

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_declarations() -> None:
    assert DOCS.read_text() == coverage.render(), (
        "docs/rules.md drifted: run `python -m expectations.coverage > docs/rules.md`"
    )


def test_every_rule_the_matrix_cites_exists() -> None:
    names = {rule.name for rule in all_rules()}
    assert coverage.referenced_rules() - names == set()


def test_every_copy_has_rules_or_a_reason() -> None:
    for fact in coverage.FACTS:
        for copy in fact.copies:
            assert copy.rules or copy.reason, (fact.fact, copy.system)


def test_every_declared_state_takes_part_in_a_rule() -> None:
    used = {e.first.name for e in lifecycle.EXCLUSIONS} | {
        e.second.name for e in lifecycle.EXCLUSIONS
    }
    names = {rule.name for rule in all_rules()}
    assert {state.name for state in lifecycle.STATES} - used == set()
    assert {e.rule_name for e in lifecycle.EXCLUSIONS} <= names


def test_every_time_limit_of_the_code_sets_is_cited_by_a_rule() -> None:
    """Each *_DAYS / *_HOURS / *_YEARS constant of schemas/codes.py appears in a rule's text."""
    limits = {
        name: value
        for name, value in vars(codes).items()
        if name.isupper()
        and name.endswith(("_DAYS", "_HOURS", "_YEARS"))
        and isinstance(value, int)
    }
    # Limits no system records the dates of (coverage.FACTS gives the reason).
    unrecorded = {"EXCLUSION_BAR_YEARS", "EXCLUSION_BAR_YEARS_MISREPRESENTATION"}
    texts = " ".join(rule.description for rule in all_rules())
    missing = {
        name for name, value in limits.items() if name not in unrecorded and str(value) not in texts
    }
    assert missing == set()


def test_every_rule_says_what_a_correct_entry_looks_like() -> None:
    for rule in all_rules():
        assert rule.correct_entry.strip(), rule.name
        assert "\n" not in rule.correct_entry, rule.name


def test_business_days_skip_federal_and_provincial_holidays() -> None:
    # 23 Dec 2020: Christmas, Boxing Day (observed Monday 28th) and New Year's Day.
    assert add_business_days(dt.date(2020, 12, 23), 5, "ON") == dt.date(2021, 1, 4)
    # Saint-Jean-Baptiste (24 June) is a holiday in Quebec, not in Ontario.
    assert not is_business_day(dt.date(2020, 6, 24), "QC")
    assert is_business_day(dt.date(2020, 6, 24), "ON")
    # Remembrance Day is a federal holiday.
    assert not is_business_day(dt.date(2020, 11, 11))
    assert business_days_between(dt.date(2020, 12, 23), dt.date(2021, 1, 4), "ON") == 5


def test_grounds_for_permanent_residents() -> None:
    assert not codes.ground_applies("36(2)(a)", "PR")
    assert codes.ground_applies("36(1)(a)", "PR")
    assert not codes.ground_applies("41(b)", "FN")
    assert codes.ground_applies("41(b)", "PR")
    assert not codes.ground_applies("42", "PP")


def test_the_injector_can_plant_a_violation_of_every_error_rule() -> None:
    """Every error rule names the class of error it catches, and the injector plants it.

    The delivery rules (a record the interfaces did not carry) are the exception:
    their defects are made by the interfaces' quarantine, not typed by a clerk.
    """
    from seed.defects import CLASS_WEIGHTS, DefectClass

    planted = {c.value for c in DefectClass}
    unplantable = [
        rule.name
        for rule in all_rules()
        if rule.severity == "error"
        and rule.defect_class not in planted
        and not rule.name.endswith(".delivered")
    ]
    assert unplantable == []
    assert set(CLASS_WEIGHTS) == set(DefectClass)
    # And no class is planted that no rule is meant to find.
    meant = {rule.defect_class for rule in all_rules()}
    assert sorted(planted - meant) == []


def test_every_defect_class_name_fits_the_ground_truth_column() -> None:
    from sqlalchemy import String

    from schemas.ground_truth import PlantedDefect
    from seed.defects import DefectClass

    column = PlantedDefect.__table__.c.defect_class.type
    assert isinstance(column, String) and column.length is not None
    assert max(len(c.value) for c in DefectClass) <= column.length
