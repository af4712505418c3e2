"""A small world with entry errors planted night by night (no tests here: helpers for the report,
work-queue and life-cycle tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from casesync.seeding import parse_options, seed
from casesync.sync import nightly
from connectors import Connectors
from expectations.rules import Scope
from schemas import gcms, ncms

if TYPE_CHECKING:
    from casesync.settings import Settings

START = dt.date(2020, 1, 6)
#: Browser screenshots are kept in the project's var/ (ignored by git) for a person to look at.
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def night(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


def typed_in(offset: int, minutes: int = 60) -> dt.datetime:
    """A moment inside a night's interval (naive UTC, as the systems stamp rows)."""
    start, _ = Scope("night", night(offset)).window()
    return start + dt.timedelta(minutes=minutes)


def planted_world(
    settings: Settings,
    *,
    files: int = 400,
    days: int = 6,
    per_night: int = 4,
    synced: int | None = None,
) -> None:
    """Seed, plant blanks typed in each night (client given names, case priorities), sync.

    `synced` nights are run (default: every simulated day), the rest left for the test.
    """
    seed(
        settings,
        parse_options(
            files=files, days=days, start=START.isoformat(), defect_rate=0.0, seed=21,
            mode="one_way",
        ),
    )  # fmt: skip
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.gcms.begin() as conn:
            clients = (
                conn.execute(
                    select(gcms.Client.uci)
                    .where(
                        gcms.Client.entered_by.not_like("FEED:%"),
                        gcms.Client.given_name.is_not(None),
                    )
                    .order_by(gcms.Client.uci)
                    .limit(per_night * days)
                )
                .scalars()
                .all()
            )
            for index, uci in enumerate(clients):
                conn.execute(
                    update(gcms.Client)
                    .where(gcms.Client.uci == uci)
                    .values(given_name=None, updated_at=typed_in(index // per_night))
                )
        with connectors.ncms.begin() as conn:
            cases = (
                conn.execute(
                    select(ncms.RemovalCase.case_no)
                    .where(
                        ncms.RemovalCase.entered_by.not_like("FEED:%"),
                        ncms.RemovalCase.office_code.is_not(None),
                        ncms.RemovalCase.case_status == "OPEN",
                    )
                    .order_by(ncms.RemovalCase.case_no)
                    .limit(per_night * days)
                )
                .scalars()
                .all()
            )
            for index, case_no in enumerate(cases):
                conn.execute(
                    update(ncms.RemovalCase)
                    .where(ncms.RemovalCase.case_no == case_no)
                    .values(priority=None, updated_at=typed_in(index // per_night))
                )
    finally:
        connectors.dispose()
    nightly(settings, START, night((days if synced is None else synced) - 1))
