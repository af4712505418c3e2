"""`casesync trace KEY`: one record inserted, corrected, replayed and flagged, step by step."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from casesync.seeding import parse_options, seed
from casesync.sync import run_night
from casesync.trace import trace
from casesync.validation import validate
from connectors import Connectors
from schemas import gcms, nova
from schemas.calendar import night_interval
from tests.conftest import invoke, type_claim

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)


def _night(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def _typed_in(night: dt.date) -> dt.datetime:
    return night_interval(night)[0] + dt.timedelta(hours=12)


@pytest.fixture(scope="module")
def traced(module_world: Callable[..., Settings]) -> tuple[Settings, int]:
    """A decision typed, carried, corrected (to a code of another division), replayed, flagged."""
    settings = module_world()
    seed(
        settings,
        parse_options(
            files=80, days=3, start=START.isoformat(), defect_rate=0.0, seed=9, mode="one_way"
        ),
    )
    connectors = Connectors.from_settings(settings)
    try:
        _, decision_id = type_claim(connectors, 21, _typed_in(_night(0)))
        run_night(settings, _night(0))
        with connectors.nova.begin() as conn:  # a clerk types a RAD outcome on an RPD decision
            conn.execute(
                update(nova.Decision)
                .where(nova.Decision.decision_id == decision_id)
                .values(outcome_code="CNF", updated_at=_typed_in(_night(1)))
            )
        run_night(settings, _night(1))
        with connectors.gcms.begin() as conn:  # someone edits GCMS's copy by hand
            conn.execute(
                update(gcms.IrbDecision)
                .where(gcms.IrbDecision.decision_ref == f"N{decision_id}")
                .values(outcome="RPD-POS")
            )
        run_night(settings, _night(1), interface="nova_to_gcms", replay=True)
        validate(settings, night=_night(1), engine="sql")
    finally:
        connectors.dispose()
    return settings, decision_id


def test_a_trace_shows_each_step_with_its_time_and_change(traced: tuple[Settings, int]) -> None:
    settings, decision_id = traced
    result = trace(settings, f"N{decision_id}")
    steps = [s for s in result["carried"] if s["stream"] == "final_decisions"]
    assert [(s["action"], s["run_kind"]) for s in steps] == [
        ("inserted", "run"),
        ("updated", "run"),
        ("updated", "replay"),
    ]
    assert all(s["batch_applied_at"] and s["run_started_at"] for s in steps)
    assert steps[1]["changed"]["outcome_code"] == {"before": "REJ", "after": "CNF"}
    assert result["copies"]["nova.decision"]["outcome_code"] == "CNF"
    assert result["copies"]["gcms.irb_decision"]["outcome"] == "RAD-CNF"
    assert any(s["interface"] == "gcms_to_ncms" for s in result["carried"])
    flagged = {f["rule"] for f in result["findings"]}
    assert flagged, result["findings"]
    assert trace(settings, str(decision_id))["carried"] == result["carried"]  # by source key


def test_trace_on_the_command_line(traced: tuple[Settings, int]) -> None:
    settings, decision_id = traced
    done = invoke(settings, "trace", f"N{decision_id}", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["key"] == f"N{decision_id}"
    shown = invoke(settings, "trace", f"N{decision_id}")
    assert "outcome_code 'REJ' -> 'CNF'" in shown.output
    assert "replay" in shown.output
    missing = invoke(settings, "trace", "N0")
    assert missing.exit_code == 2
    assert "no record 'N0'" in missing.output
