"""`casesync validate` and `casesync score`: the checks analysts work from."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from casesync.database import require_current
from casesync.errors import CasesyncError
from casesync.settings import DATABASES
from connectors import Connectors
from schemas import metadata_for
from schemas.control import SyncRun, ValidationRun

if TYPE_CHECKING:
    from pathlib import Path

    from casesync.settings import Settings
    from expectations.findings import Versions
    from expectations.rules import Rule, Scope


class ValidationFailed(CasesyncError):
    """Rules that could not run (the others ran; their findings are kept)."""


def latest_night(connectors: Connectors, interfaces: list[str]) -> dt.date:
    """The latest night every interface has run successfully."""
    nights = []
    with connectors.control.connect() as conn:
        for name in interfaces:
            newest = (
                select(SyncRun.night)
                .where(SyncRun.interface == name, SyncRun.status == "succeeded")
                .order_by(SyncRun.night.desc())
                .limit(1)
            )
            night = conn.execute(newest).scalar()
            if night is None:
                raise CasesyncError(f"{name} has never run: sync a night before validating")
            nights.append(night)
    return min(nights)


def data_docs_dir(settings: Settings, scope: Scope) -> Path:
    """Where a validation's Data Docs site goes: one per night (and per full validation's night)."""
    return settings.data_docs_dir / f"{scope.kind}-{scope.night.isoformat()}"


def prune_data_docs(settings: Settings) -> list[Path]:
    """Remove the Data Docs sites of all but the latest `data_docs_nights` nights."""
    import re

    sites: dict[str, list[Path]] = {}
    if settings.data_docs_dir.exists():
        for site in settings.data_docs_dir.iterdir():
            found = re.fullmatch(r"(?:night|full)-(\d{4}-\d{2}-\d{2})", site.name)
            if site.is_dir() and found:
                sites.setdefault(found.group(1), []).append(site)
    removed = []
    for night in sorted(sites)[: -settings.data_docs_nights]:
        for site in sites[night]:
            shutil.rmtree(site, ignore_errors=True)
            removed.append(site)
    return removed


def record_versions(connectors: Connectors, scope: Scope) -> Versions:
    """For the finding life cycle: the current `updated_at` of records of a rule's table."""

    def versions(rule: Rule, keys: list[str]) -> dict[str, dt.datetime | None]:
        table = metadata_for(rule.system).tables.get(rule.table)
        if table is None or "updated_at" not in table.c or rule.key not in table.c:
            return {}
        column = table.c[rule.key]
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = str
        found: dict[str, dt.datetime | None] = {}
        with connectors[rule.system].connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = [python_type(key) for key in keys[start : start + 500]]
                rows = conn.execute(select(column, table.c.updated_at).where(column.in_(chunk)))
                found.update({str(key): changed for key, changed in rows})
        return found

    return versions


def validate(
    settings: Settings, *, night: dt.date | None = None, engine: str = "gx"
) -> dict[str, Any]:
    """Validate one night's changes (`night`), or everything (`night` None); keep the findings."""
    from casesync.sync import active_interfaces
    from expectations import findings, offices, reconcile, runner
    from expectations.rules import Scope

    connectors = Connectors.from_settings(settings)
    started = time.perf_counter()
    try:
        require_current(connectors, DATABASES)
        names = [i.name for i in active_interfaces(settings)]
        scope = Scope("night", night) if night else Scope("full", latest_night(connectors, names))
        refreshed, unread = reconcile.refresh(connectors)
        rules = runner.all_rules()
        docs = None
        checked = time.perf_counter()
        if engine == "gx":
            from expectations.gx import run_gx

            docs_dir = data_docs_dir(settings, scope)
            shutil.rmtree(docs_dir, ignore_errors=True)  # this validation's own site only
            outcomes, run = run_gx(connectors, rules, scope, docs_dir)
            rule_seconds = time.perf_counter() - checked
            docs = run.build_docs()
            prune_data_docs(settings)
        else:
            outcomes = runner.run_sql(connectors, rules, scope)
            rule_seconds = time.perf_counter() - checked
        offices.fill(connectors, outcomes)  # every finding names its file's office
        with connectors.control.begin() as conn:
            written = findings.record(conn, scope, outcomes, record_versions(connectors, scope))
        errors = {o.rule.name: o.error for o in outcomes if o.error}
        errors.update({f"reconcile:{name}": why for name, why in unread.items()})
        by_severity = Counter(o.rule.severity.value for o in outcomes for _ in o.failures)
        summary = {
            "scope": scope.name,
            "engine": engine,
            "rules": len(rules),
            "rules_failed": sum(1 for o in outcomes if o.failures),
            "rules_errored": len(errors),
            "findings": written,
            "errors": by_severity.get("error", 0),
            "warnings": by_severity.get("warning", 0),
            "seconds": round(time.perf_counter() - started, 3),
            "rule_seconds": round(rule_seconds, 3),
            "docs_seconds": round(time.perf_counter() - checked - rule_seconds, 3) if docs else 0.0,
            "refreshed": sum(refreshed.values()),
            "data_docs": docs,
            "failed_rules": {o.rule.name: len(o.failures) for o in outcomes if o.failures},
            "rule_errors": errors,
        }
        with connectors.control.begin() as conn:
            conn.execute(
                insert(ValidationRun).values(
                    scope=scope.name,
                    night=scope.night,
                    status="errored" if errors else "succeeded",
                    rules_run=len(rules),
                    rules_failed=summary["rules_failed"],
                    rules_errored=len(errors),
                    findings=written,
                    seconds=summary["seconds"],
                    started_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    summary=json.dumps(summary, default=str),
                )
            )
    finally:
        connectors.dispose()
    if errors:
        listed = "; ".join(f"{name}: {why}" for name, why in errors.items())
        raise ValidationFailed(
            f"{len(errors)} rule(s) could not run ({listed}); the other rules ran"
        )
    return summary


def score(settings: Settings, *, scope: str | None = None) -> dict[str, Any]:
    """Findings against the planted defects, per class."""
    import re

    from casesync.errors import BadInput
    from expectations.scoring import score as compute

    day = r"\d{4}-\d{2}-\d{2}"
    if scope is not None and not re.fullmatch(rf"full(:{day})?|night:{day}", scope):
        raise BadInput(f"--scope must be full, full:YYYY-MM-DD or night:YYYY-MM-DD (got {scope!r})")

    connectors = Connectors.from_settings(settings)
    try:
        require_current(connectors, ("control", "ground_truth"))
        return compute(connectors, scope=scope)
    finally:
        connectors.dispose()
