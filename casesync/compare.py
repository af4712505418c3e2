"""`casesync compare-modes`: the same seeded world run in one_way and in two_way mode.

Each mode gets its own SQLite world under `<home>/<mode>/`, seeded with the
same options (so the same people, files and events), then every night run
in order. The figures, per mode:

- `rekeying_defects`: defects planted in entries re-keyed by hand into GCMS
  (warrants, departure confirmations, re-keyed IRB decisions);
- `median_lag_days_to_gcms`: days from an NCMS event the two-way interface
  carries (a warrant issued, executed or cancelled; a removal case triaged,
  reviewed or closed; an R240(3) departure) to GCMS holding it; an event GCMS
  never receives counts as waiting until the end of the run
  (`never_reached_gcms` says how many);
- `median_lag_days_to_ncms`: days from an IRB final decision (NOVA) to NCMS;
- `not_actioned_cases`: NCMS removal cases whose warrant or R240(3)
  departure GCMS lacks or holds differently (the data a case is actioned on);
- `conflicts`: raised, by kind and by field.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from connectors import Connectors
from schemas import gcms, ncms, nova
from schemas.control import Conflict
from schemas.ground_truth import PlantedDefect

if TYPE_CHECKING:
    from pathlib import Path

    from casesync.settings import Settings

#: GCMS tables whose hand-typed rows re-key what another system already holds.
REKEYED = (("gcms", "warrant"), ("gcms", "departure_confirmation"), ("gcms", "irb_decision"))
MODES = ("one_way", "two_way")


def compare_modes(
    home: Path,
    *,
    files: int,
    days: int,
    seed_value: int,
    start: str = "2020-01-06",
    defect_rate: float = 0.02,
    progress: Any = None,
) -> dict[str, Any]:
    """Seed and run the world in both modes; the figures side by side."""
    from casesync import sync

    out: dict[str, Any] = {}
    with sync.two_way_trial():
        for mode in MODES:
            out[mode] = _run_mode(home, mode, files, days, seed_value, start, defect_rate,
                                  progress)  # fmt: skip
    out["world"] = {"files": files, "days": days, "seed": seed_value, "start": start,
                    "defect_rate": defect_rate}  # fmt: skip
    return out


def _run_mode(
    home: Path, mode: str, files: int, days: int, seed_value: int, start: str,
    defect_rate: float, progress: Any,
) -> dict[str, Any]:  # fmt: skip
    """Seed the world in one mode, run every night in order, and measure it."""
    from casesync import sync
    from casesync.seeding import parse_options, seed
    from casesync.settings import Settings

    where = home / mode
    where.mkdir(parents=True, exist_ok=True)
    urls = {f"{name}_url": f"sqlite:///{where / name}.db" for name in _URLS}
    settings = Settings(home=where, interop_mode=mode, **urls)  # type: ignore[arg-type]
    started = time.perf_counter()
    options = parse_options(
        files=files, days=days, start=start, defect_rate=defect_rate, seed=seed_value,
        mode=mode,
    )  # fmt: skip
    seed(settings, options, replace=True)
    first = options.start
    for offset in range(days):
        sync.run_night(settings, first + dt.timedelta(days=offset))
        if progress:
            progress(mode, offset + 1, days)
    figures = measure(settings, first + dt.timedelta(days=max(days, 1)), since=first)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


_URLS = ("nova", "gcms", "ncms", "control", "ground_truth")


def measure(settings: Settings, end: dt.date, *, since: dt.date) -> dict[str, Any]:
    """The comparison's figures for one world (events of the simulated days, `since` on)."""
    connectors = Connectors.from_settings(settings)
    try:
        to_gcms, never = _lags_to_gcms(connectors, end, since)
        return {
            "rekeying_defects": _rekeying_defects(connectors),
            "median_lag_days_to_gcms": _median(to_gcms),
            "never_reached_gcms": never,
            "ncms_events": len(to_gcms),
            "median_lag_days_to_ncms": _median(_lags_to_ncms(connectors)),
            "not_actioned_cases": _not_actioned(connectors),
            "conflicts": _conflicts(connectors),
        }
    finally:
        connectors.dispose()


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _days(later: dt.datetime, earlier: dt.datetime) -> float:
    return max((later - earlier).total_seconds() / 86400.0, 0.0)


def _rekeying_defects(connectors: Connectors) -> int:
    d = PlantedDefect
    with connectors.ground_truth.connect() as conn:
        rows = conn.execute(
            select(d.system, d.table_name, func.count()).group_by(d.system, d.table_name)
        ).all()
    return sum(int(n) for system, table, n in rows if (system, table) in REKEYED)


def _lags_to_gcms(connectors: Connectors, end: dt.date, since: dt.date) -> tuple[list[float], int]:
    """Per NCMS event of the simulated days (warrant, case version, R240(3)): days to GCMS."""
    horizon = dt.datetime.combine(end, dt.time(12))
    first = dt.datetime.combine(since, dt.time(0))
    w, c = ncms.Warrant, ncms.RemovalCase
    with connectors.ncms.connect() as conn:
        warrants = {
            r[0]: r[1]
            for r in conn.execute(select(w.warrant_no, w.updated_at).where(w.updated_at >= first))
        }
        cases = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                select(c.case_no, c.updated_at, c.removal_confirmation, c.removed_on).where(
                    c.updated_at >= first
                )
            )
        }
    gw, ge, gd = gcms.Warrant, gcms.EnforcementCase, gcms.DepartureConfirmation
    with connectors.gcms.connect() as conn:
        in_gcms = {r[0]: r[1] for r in conn.execute(select(gw.warrant_no, gw.updated_at))}
        fed = {r[0]: r[1] for r in conn.execute(select(ge.case_no, ge.updated_at))}
        departed = {
            r[0]: r[1]
            for r in conn.execute(
                select(gd.ncms_case_no, gd.entered_at).where(gd.ncms_case_no.is_not(None))
            )
        }
    lags: list[float] = []
    never = 0
    for key, changed in warrants.items():
        arrived = in_gcms.get(key)
        never += arrived is None
        lags.append(_days(arrived or horizon, changed))
    for key, (changed, method, _) in cases.items():
        arrived = fed.get(key)
        never += arrived is None
        lags.append(_days(arrived or horizon, changed))
        if method == "R240(3)":
            confirmed = departed.get(key)
            never += confirmed is None
            lags.append(_days(confirmed or horizon, changed))
    return lags, never


def _lags_to_ncms(connectors: Connectors) -> list[float]:
    """Per IRB final decision: days from NOVA's entry to NCMS's copy (irb_outcome)."""
    d = nova.Decision
    with connectors.nova.connect() as conn:
        decided = {
            f"N{r[0]}": r[1]
            for r in conn.execute(select(d.decision_id, d.entered_at).where(d.is_final.is_(True)))
        }
    with connectors.ncms.connect() as conn:
        arrived = {
            r[0]: r[1]
            for r in conn.execute(select(ncms.IrbOutcome.source_ref, ncms.IrbOutcome.entered_at))
        }
    return [_days(arrived[k], t) for k, t in decided.items() if k in arrived]


def _not_actioned(connectors: Connectors) -> int:
    """NCMS cases whose warrant or R240(3) departure GCMS lacks or holds differently."""
    w, c = ncms.Warrant, ncms.RemovalCase
    with connectors.ncms.connect() as conn:
        warrants = {
            r[0]: (r[1], tuple(r[2:]))
            for r in conn.execute(
                select(w.warrant_no, w.case_no, w.warrant_type, w.cancelled_on,
                       w.cancellation_reason, w.executed_on)
            )
        }  # fmt: skip
        r240 = {
            r[0]: r[1]
            for r in conn.execute(
                select(c.case_no, c.removed_on).where(c.removal_confirmation == "R240(3)")
            )
        }
    gw, gd = gcms.Warrant, gcms.DepartureConfirmation
    with connectors.gcms.connect() as conn:
        held = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                select(gw.warrant_no, gw.warrant_type, gw.cancelled_on, gw.cancellation_reason,
                       gw.executed_on)
            )
        }  # fmt: skip
        confirmed = {
            r[0]: r[1]
            for r in conn.execute(select(gd.ncms_case_no, gd.departed_on))
            if r[0] is not None
        }
    wrong = {case for key, (case, values) in warrants.items() if held.get(key) != values}
    wrong |= {case for case, removed in r240.items() if confirmed.get(case) != removed}
    return len(wrong)


def _conflicts(connectors: Connectors) -> dict[str, Any]:
    with connectors.control.connect() as conn:
        rows = conn.execute(
            select(Conflict.kind, Conflict.target_table, Conflict.field, func.count()).group_by(
                Conflict.kind, Conflict.target_table, Conflict.field
            )
        ).all()
    kinds: Counter[str] = Counter()
    fields: dict[str, int] = {}
    for kind, table, name, count in rows:
        kinds[str(kind)] += int(count)
        fields[f"{table}.{name}"] = int(count)
    return {"total": sum(kinds.values()), "by_kind": dict(kinds), "by_field": fields}
