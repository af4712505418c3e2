"""Validation: zero errors on a clean world, the planted defects found, every record, bad rules."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, text, update

from casesync.seeding import parse_options, seed
from casesync.sync import nightly
from casesync.validation import ValidationFailed, score, validate
from connectors import Connectors
from expectations.rules import Query
from expectations.runner import all_rules
from schemas import gcms, ncms
from schemas.control import Finding
from seed.defects import DefectClass
from tests.conftest import copy_world, drop_world, invoke, settings_env

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)


def _world(settings: Settings, *, files: int, days: int, rate: float, seed_value: int) -> dt.date:
    options = parse_options(
        files=files,
        days=days,
        start=START.isoformat(),
        defect_rate=rate,
        seed=seed_value,
        mode="one_way",
    )
    seed(settings, options)
    last = START + dt.timedelta(days=days - 1)
    nightly(settings, START, last)
    return last


@pytest.fixture(scope="module")
def clean(module_world: Callable[..., Settings]) -> tuple[Settings, dt.date]:
    settings = module_world()
    return settings, _world(settings, files=2500, days=40, rate=0.0, seed_value=8)


@pytest.fixture(scope="module")
def defective(module_world: Callable[..., Settings]) -> tuple[Settings, dict[str, Any]]:
    settings = module_world()
    _world(settings, files=6000, days=120, rate=0.02, seed_value=5)
    result = validate(settings)
    return settings, result


def test_a_clean_synced_world_has_no_error_findings(clean: tuple[Settings, dt.date]) -> None:
    settings, last = clean
    full = validate(settings)
    assert full["errors"] == 0, full["failed_rules"]
    assert full["rules_errored"] == 0
    for night, engine in ((START, "sql"), (START + dt.timedelta(days=17), "sql"), (last, "gx")):
        nightly_result = validate(settings, night=night, engine=engine)
        assert nightly_result["errors"] == 0, (night, nightly_result["failed_rules"])
    # The inventory-health warnings still fire on the back-filled files.
    assert full["warnings"] > 0


def test_every_planted_class_is_found_with_high_recall_and_precision(
    defective: tuple[Settings, dict[str, Any]],
) -> None:
    settings, result = defective
    assert result["rules_errored"] == 0
    scored = score(settings)
    assert set(scored["classes"]) >= {
        "missing_mandatory",
        "malformed_uci",
        "malformed_irb_file",
        "unknown_code",
        "date_out_of_order",
        "future_date",
        "wrong_authority",
        "wrong_order_type",
        "rekey_mismatch",
        "duplicate_client",
        "orphan_reference",
        "removal_during_stay",
        "detention_review_overdue",
        "priority_inconsistent",
        "litigation_late",
    }
    planted_classes = {defect_class.value for defect_class in DefectClass}
    for name, entry in scored["classes"].items():
        if name in planted_classes:
            assert entry["planted"] > 0, name
            assert entry["recall"] >= 0.99, (name, entry)
        # A rule whose class the injector does not plant yet still raises no false alarm.
        assert entry["precision"] >= 0.99, (name, entry)
    assert scored["clean_findings"] == 0


def test_findings_are_one_row_per_record_per_rule(
    defective: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = defective
    connectors = Connectors.from_settings(settings)
    with connectors.control.connect() as conn:
        total = conn.execute(
            select(func.count()).select_from(Finding).where(Finding.scope == "full")
        ).scalar()
        distinct = conn.execute(
            select(func.count()).select_from(
                select(Finding.rule, Finding.system, Finding.table_name, Finding.record_key)
                .where(Finding.scope == "full")
                .distinct()
                .subquery()
            )
        ).scalar()
        sample = conn.execute(
            select(Finding).where(Finding.rule == "gcms.removal_order.issuing_authority.chart")
        ).first()
    connectors.dispose()
    assert total is not None and total == distinct and total > 0
    assert sample is not None
    assert sample.field == "issuing_authority" and sample.severity == "error"
    assert "jurisdiction" in sample.message or "chart" in sample.message


def test_more_than_200_failures_all_come_back(
    clean: tuple[Settings, dt.date], tmp_path_factory: pytest.TempPathFactory, backend: str
) -> None:
    """GX returns 200 examples by default; casesync keeps every failing record.

    It works on a copy: the clean world stays clean for the tests after it.
    """
    original, last = clean
    settings = copy_world(original, tmp_path_factory.mktemp("blanked"), backend)
    changed = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(6))  # 01:00 Toronto
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.gcms.connect() as conn:
            ucis = (
                conn.execute(select(gcms.Client.uci).order_by(gcms.Client.uci).limit(260))
                .scalars()
                .all()
            )
        with connectors.ncms.connect() as conn:
            cases = (
                conn.execute(
                    select(ncms.RemovalCase.case_no).order_by(ncms.RemovalCase.case_no).limit(230)
                )
                .scalars()
                .all()
            )
        assert (len(ucis), len(cases)) == (260, 230)
        with connectors.gcms.begin() as conn:
            conn.execute(
                update(gcms.Client)
                .where(gcms.Client.uci.in_(ucis))
                .values(surname=None, updated_at=changed)
            )
        with connectors.ncms.begin() as conn:
            for index, case_no in enumerate(cases):
                conn.execute(
                    update(ncms.RemovalCase)
                    .where(ncms.RemovalCase.case_no == case_no)
                    .values(uci=f"99-{index:04d}-9999", updated_at=changed)
                )
        result = validate(settings)
        assert result["failed_rules"]["gcms.client.surname.mandatory"] == 260
        assert result["failed_rules"]["cross.ncms.removal_case.uci_in_gcms"] == 230
        with connectors.control.connect() as conn:
            found = set(
                conn.execute(
                    select(Finding.record_key).where(
                        Finding.rule == "gcms.client.surname.mandatory", Finding.scope == "full"
                    )
                ).scalars()
            )
        assert found == set(ucis)
    finally:
        connectors.dispose()
        drop_world(settings, backend)


def test_a_rule_that_cannot_run_is_reported_and_the_others_run(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    _world(settings, files=800, days=3, rate=0.0, seed_value=2)
    connectors = Connectors.from_settings(settings)
    with connectors.gcms.begin() as conn:
        conn.execute(text("DROP TABLE litigation"))
    connectors.dispose()
    with pytest.raises(ValidationFailed) as raised:
        validate(settings)
    message = str(raised.value)
    assert "gcms.litigation.court_file_no.mandatory" in message
    assert "litigation" in message.lower()
    connectors = Connectors.from_settings(settings)
    with connectors.control.connect() as conn:
        runs = conn.execute(text("SELECT status, rules_errored FROM validation_run")).all()
    connectors.dispose()
    assert runs and runs[-1].status == "errored" and runs[-1].rules_errored >= 4
    done = subprocess.run(
        [sys.executable, "-m", "casesync", "validate", "--full", "--engine", "sql"],
        capture_output=True,
        text=True,
        env=settings_env(settings),
        timeout=600,
        check=False,
    )
    assert done.returncode == 2
    assert "could not run" in done.stderr and "Traceback" not in done.stderr


def test_data_docs_are_written(clean: tuple[Settings, dt.date]) -> None:
    """One offline site per night: a suite page and a validation page for every suite."""
    settings, last = clean
    result = validate(settings, night=last)
    site = settings.data_docs_dir / f"night-{last.isoformat()}"
    index = site / "index.html"
    assert result["data_docs"] == index.as_uri()
    page = index.read_text()
    linked = set(re.findall(r'href="([^"#?]+\.html)"', page))
    assert linked, "the index links no page"
    assert [link for link in linked if not (site / link).is_file()] == []
    suites = {
        Path(link).stem.rsplit("_", 1)[0] for link in linked if link.startswith("expectations/")
    }
    validated = {p.name.rsplit("_", 1)[0] for p in (site / "validations").iterdir()}
    assert validated == suites
    expected = {f"{r.system}_{r.table}" for r in all_rules() if not isinstance(r.check, Query)}
    expected |= {f"{r.database}_queries" for r in all_rules() if isinstance(r.check, Query)}
    assert expected <= suites, expected - suites
    assert {p.name for p in (site / "validations").rglob("*.html")}, "no validation page"
    # Offline: no page loads a script or a stylesheet from the network.
    for html in site.rglob("*.html"):
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', html.read_text())
        assert remote == [], (html.name, remote[:3])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate"], "exactly one of --night"),
        (["validate", "--full", "--night", "2020-01-06"], "exactly one of --night"),
        (["validate", "--full", "--engine", "spark"], "--engine must be gx or sql"),
    ],
)
def test_validate_rejects_bad_options(settings: Settings, args: list[str], message: str) -> None:
    done = invoke(settings, *args)
    assert done.exit_code == 2 and message in done.output, done.output
