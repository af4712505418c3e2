"""The nightly report in headless Chromium, the work queue, masking, fixes leaving the queue.

The world: a few hundred files over six nights, with blanks typed each night
(client given names in GCMS, case priorities in NCMS); nights 1-5 validated
with SQL and the last night with Great Expectations (Data Docs).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, insert, select, update

from casesync.report import build_report, report_dir
from casesync.validation import validate
from connectors import Connectors
from schemas import gcms, ncms, nova
from schemas.control import Finding, Quarantine, SyncRun
from tests.conftest import settings_env
from tests.integration.test_report_cdp import Browser
from tests.integration.test_report_world import (
    SCREENSHOTS_DIR,
    night,
    planted_world,
    typed_in,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

DAYS = 6
LAST = night(DAYS - 1)
SCREENSHOTS = SCREENSHOTS_DIR


@pytest.fixture(scope="module")
def world(module_world: Callable[..., Settings]) -> Settings:
    settings = module_world()
    planted_world(settings, days=DAYS + 1, synced=DAYS)  # the last day is the next night's
    for offset in range(DAYS - 1):
        validate(settings, night=night(offset), engine="sql")
    _plant_personal_findings(settings)
    validate(settings, night=LAST, engine="gx")
    return settings


def _plant_personal_findings(settings: Settings) -> None:
    """Findings and a quarantined record that quote a name and a birth date (a rule on names)."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.gcms.connect() as conn:
            person = conn.execute(
                select(gcms.Client.uci, gcms.Client.surname, gcms.Client.date_of_birth)
                .where(gcms.Client.surname.is_not(None), gcms.Client.date_of_birth.is_not(None))
                .order_by(gcms.Client.uci)
                .limit(1)
            ).one()
        common = {
            "scope": f"night:{night(DAYS - 2).isoformat()}", "night": night(DAYS - 2),
            "system": "gcms", "table_name": "client", "record_key": person.uci,
            "severity": "error", "message": "test rule on a person's details",
            "first_seen_on": night(DAYS - 2), "last_seen_on": night(DAYS - 2), "state": "new",
        }  # fmt: skip
        with connectors.control.begin() as conn:
            conn.execute(
                insert(Finding),
                [
                    {**common, "rule": "test.client.surname", "field": "surname",
                     "value": person.surname},
                    {**common, "rule": "test.client.date_of_birth", "field": "date_of_birth",
                     "value": person.date_of_birth.isoformat()},
                ],
            )  # fmt: skip
            conn.execute(
                insert(Quarantine).values(
                    batch_id="test", interface="nova_to_gcms", night=LAST, stream="parties",
                    record_key="P-1", rule="date",
                    reason=f"birth_on '{person.date_of_birth.isoformat()}' is not a date",
                    payload="{}",
                )
            )  # fmt: skip
    finally:
        connectors.dispose()


@pytest.fixture(scope="module")
def report(world: Settings) -> dict[str, Any]:
    return build_report(world, LAST)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    opened = Browser()
    yield opened
    opened.close()


def _open_findings_sql(settings: Settings, as_of: dt.date) -> set[tuple[str, str, str, str]]:
    """The oracle: identities whose latest observation by the night is not resolved by then."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            rows = conn.execute(
                select(
                    Finding.rule, Finding.system, Finding.table_name, Finding.record_key,
                    Finding.last_seen_on, Finding.resolved_on, Finding.finding_id,
                ).where(Finding.last_seen_on <= as_of)
            ).all()  # fmt: skip
    finally:
        connectors.dispose()
    latest: dict[tuple[str, str, str, str], Any] = {}
    for row in rows:
        ident = (row.rule, row.system, row.table_name, row.record_key)
        if ident not in latest or (row.last_seen_on, row.finding_id) > (
            latest[ident].last_seen_on,
            latest[ident].finding_id,
        ):
            latest[ident] = row
    return {i for i, r in latest.items() if r.resolved_on is None or r.resolved_on > as_of}


def _queue(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("work-queue-*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert path.name == f"work-queue-{row['region']}.csv"
                rows.append(row)
    return rows


def _identities(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(r["rule"], r["system"], r["table"], r["record_key"]) for r in rows]


def _personal_values(settings: Settings) -> set[str]:
    """Every name (4+ letters) and birth date the three systems hold."""
    connectors = Connectors.from_settings(settings)
    values: set[str] = set()
    columns = {
        "nova": (nova.Party.family_name, nova.Party.given_names, nova.Party.birth_on),
        "gcms": (gcms.Client.surname, gcms.Client.given_name, gcms.Client.date_of_birth),
        "ncms": (
            ncms.RemovalCase.subject_surname,
            ncms.RemovalCase.subject_given_name,
            ncms.RemovalCase.birth_on,
        ),
    }
    try:
        for database, chosen in columns.items():
            with connectors[database].connect() as conn:
                for row in conn.execute(select(*chosen)):
                    values.update(str(v) for v in row if v is not None and len(str(v)) >= 4)
    finally:
        connectors.dispose()
    return values


def _vocabulary() -> set[str]:
    """Words the page prints whatever the data: office names, rule texts, the template."""
    from casesync.report.render import TEMPLATES
    from expectations.runner import all_rules
    from schemas.codes import OFFICES

    texts = [office.name for office in OFFICES]
    texts += [f"{r.description} {getattr(r, 'correct_entry', '')}" for r in all_rules()]
    texts += [path.read_text() for path in TEMPLATES.glob("*")]
    return set(re.findall(r"[\w'-]+", " ".join(texts)))


def _unmasked(text: str, values: set[str]) -> list[str]:
    words = set(re.findall(r"[\w'-]+", text)) - _vocabulary()
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", text))
    return sorted(v for v in values if v in words or v in dates or (" " in v and v in text))


def test_work_queue_rows_equal_the_open_findings(world: Settings, report: dict[str, Any]) -> None:
    rows = _queue(report_dir(world, LAST))
    identities = _identities(rows)
    assert len(identities) == len(set(identities)), "one row per finding"
    assert set(identities) == _open_findings_sql(world, LAST)
    assert report["open"] == len(rows) > 0
    assert {r["severity"] for r in rows} <= {"error", "warning"}
    assert all(r["correct_entry"] for r in rows)
    for region_file in report_dir(world, LAST).glob("work-queue-*.csv"):
        ranks = [
            ({"P1-SI": 0, "P1-IMFC": 1, "P2": 2, "P3": 3}.get(r["priority"], 4),
             {"error": 0, "warning": 1}[r["severity"]], -int(r["age_days"]))
            for r in _queue(region_file.parent)
            if f"work-queue-{r['region']}.csv" == region_file.name
        ]  # fmt: skip
        assert ranks == sorted(ranks), f"{region_file.name} is in priority, severity, age order"


def test_names_and_birth_dates_are_masked(world: Settings, report: dict[str, Any]) -> None:
    folder = report_dir(world, LAST)
    values = _personal_values(world)
    assert values
    page = html.unescape((folder / "index.html").read_text())
    queue_text = "".join(p.read_text() for p in folder.glob("work-queue-*.csv"))
    assert _unmasked(page, values) == []
    assert _unmasked(queue_text, values) == []
    planted = [r for r in _queue(folder) if r["rule"].startswith("test.client.")]
    assert len(planted) == 2 and all("*" in r["current_value"] for r in planted)
    assert "'****-**-**' is not a date" in page


def test_the_report_in_headless_chromium(
    world: Settings, report: dict[str, Any], browser: Browser
) -> None:
    page = report_dir(world, LAST) / "index.html"
    visit = browser.visit(page, screenshot=SCREENSHOTS / f"report-{LAST}.png")
    assert visit.errors == []
    assert visit.off_file_system == [] and visit.blocked == []
    assert visit.requests and visit.requests[0] == page.resolve().as_uri()
    shown = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#summary .card [data-figure]')]"
        ".map(e => [e.dataset.figure, Number(e.textContent)]))"
    )
    connectors = Connectors.from_settings(world)
    try:
        with connectors.control.connect() as conn:
            quarantined = conn.execute(
                select(func.count()).select_from(Quarantine).where(Quarantine.night == LAST)
            ).scalar()
            runs = {
                r.interface: r
                for r in conn.execute(
                    select(SyncRun).where(SyncRun.night == LAST, SyncRun.status == "succeeded")
                    .order_by(SyncRun.run_id)
                )
            }  # fmt: skip
            new_tonight = conn.execute(
                select(func.count()).select_from(Finding).where(
                    Finding.last_seen_on == LAST, Finding.state == "new"
                )
            ).scalar_one()  # fmt: skip
    finally:
        connectors.dispose()
    open_now = _open_findings_sql(world, LAST)
    assert shown["open"] == len(open_now)
    assert shown["open-error"] + shown["open-warning"] == len(open_now)
    assert shown["quarantined"] == quarantined == 1
    assert shown["new"] == new_tonight > 0
    carried = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#interfaces tr[data-interface]')]"
        ".map(r => [r.dataset.interface, Number(r.querySelector('[data-figure=extracted]')"
        ".textContent)]))"
    )
    assert carried == {name: run.extracted for name, run in runs.items()} and carried
    charts = browser.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(s => ({"
        "title: s.querySelector('title').textContent,"
        "marks: s.querySelectorAll('[data-value]').length,"
        "positive: [...s.querySelectorAll('[data-value]')]"
        ".filter(e => +e.dataset.value > 0).length,"
        "drawn: s.getBoundingClientRect().width}))"
    )
    assert len(charts) >= 5
    for chart in charts:
        assert chart["marks"] > 0 and chart["positive"] > 0 and chart["drawn"] > 100, chart
    trend = browser.evaluate(
        "[...document.querySelectorAll('#trend circle[data-series=error]')]"
        ".map(c => Number(c.dataset.value))"
    )
    assert len(trend) == 30 and trend[-1] == shown["open-error"]
    text = browser.evaluate("document.body.innerText")
    assert _unmasked(text, _personal_values(world)) == []
    assert (SCREENSHOTS / f"report-{LAST}.png").stat().st_size > 10_000


def test_data_docs_work_offline_in_headless_chromium(
    world: Settings, report: dict[str, Any], browser: Browser
) -> None:
    """The night's Data Docs, every asset from the site itself: the tables are filled."""
    site = world.data_docs_dir / f"night-{LAST.isoformat()}"
    link = browser_link(report_dir(world, LAST) / "index.html", "#data-docs")
    assert link == (site / "index.html").resolve()
    pages = [site / "index.html", next(site.glob("validations/gcms_client*/**/*.html"))]
    personal = _personal_values(world)
    for number, page in enumerate(pages):
        visit = browser.visit(page, screenshot=SCREENSHOTS / f"data-docs-{LAST}-{number}.png")
        assert visit.errors == [], visit.errors
        assert visit.off_file_system == [] and visit.blocked == []
        assert len(visit.requests) > 10, "the page loaded its scripts and styles (from disk)"
        state = browser.evaluate(
            "({jquery: typeof jQuery, table: typeof (window.jQuery && jQuery.fn.bootstrapTable),"
            " wrapped: document.querySelectorAll('.bootstrap-table').length,"
            " rows: Math.max(0, ...[...document.querySelectorAll('table tbody')]"
            ".map(b => b.querySelectorAll('tr').length)),"
            " icons: getComputedStyle(document.querySelector('i.fas, i.fa, i.far')"
            " || document.body).fontFamily})"
        )
        assert state["jquery"] == state["table"] == "function", state
        assert state["wrapped"] > 0 and state["rows"] > 0, state
        assert "Font Awesome" in state["icons"], state
        shown = browser.evaluate("document.body.innerText")
        assert _unmasked(shown, personal) == [], page.name
    assert "given_name" in shown, "the client suite's page lists its expectations"


def browser_link(page: Path, selector: str) -> Path:
    """Where a link of a report page points (resolved against the page)."""
    target = re.search(
        r'<a href="([^"]+)" id="' + re.escape(selector.lstrip("#")) + '"', page.read_text()
    )
    assert target is not None, selector
    return (page.parent / target.group(1)).resolve()


def test_a_corrected_record_is_resolved_and_leaves_the_queue(
    world: Settings, report: dict[str, Any]
) -> None:
    """Correct a queued record, run the next night: its finding is resolved and off the queue."""
    before = _queue(report_dir(world, LAST))
    target = next(r for r in before if r["rule"] == "ncms.removal_case.priority.mandatory")
    following = LAST + dt.timedelta(days=1)
    connectors = Connectors.from_settings(world)
    try:
        with connectors.ncms.begin() as conn:
            conn.execute(
                update(ncms.RemovalCase)
                .where(ncms.RemovalCase.case_no == target["record_key"])
                .values(priority="P3", updated_at=typed_in(DAYS, minutes=20))
            )
    finally:
        connectors.dispose()
    from casesync.sync import nightly

    nightly(world, following, following)
    validate(world, night=following, engine="sql")
    after_report = build_report(world, following)
    after = _queue(report_dir(world, following))
    ident = (target["rule"], "ncms", "removal_case", target["record_key"])
    assert ident not in set(_identities(after))
    assert set(_identities(after)) == _open_findings_sql(world, following)
    assert after_report["resolved"] >= 1
    figures = json.loads((report_dir(world, following) / "figures.json").read_text())
    assert figures["resolved"] == after_report["resolved"]
    # The earlier night's queue still lists it: reports are kept per night.
    assert ident in set(_identities(_queue(report_dir(world, LAST))))


def test_report_command_writes_the_night(world: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "casesync", "report", "--night", LAST.isoformat(), "--json"],
        capture_output=True, text=True, env=settings_env(world), timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["report"]) == report_dir(world, LAST) / "index.html"
    assert result["work_queues"] and all(Path(p).exists() for p in result["work_queues"])
    bad = subprocess.run(
        [sys.executable, "-m", "casesync", "report", "--night", "2020-13-01"],
        capture_output=True, text=True, env=settings_env(world), timeout=300, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "is not a date on the calendar" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
