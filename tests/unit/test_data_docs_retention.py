"""Data Docs are kept per night, for the last CASESYNC_DATA_DOCS_NIGHTS nights only."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from casesync.settings import Settings
from casesync.validation import prune_data_docs

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def test_only_the_latest_nights_sites_are_kept(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, data_docs_nights=30)
    nights = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(35)]
    for night in nights:
        (settings.data_docs_dir / f"night-{night}").mkdir(parents=True)
    (settings.data_docs_dir / f"full-{nights[2]}").mkdir()
    (settings.data_docs_dir / f"full-{nights[-1]}").mkdir()
    (settings.data_docs_dir / "notes").mkdir()  # not a site: left alone
    removed = prune_data_docs(settings)
    left = sorted(p.name for p in settings.data_docs_dir.iterdir())
    assert sorted(p.name for p in removed) == sorted(
        [f"night-{n}" for n in nights[:5]] + [f"full-{nights[2]}"]
    )
    assert left == sorted([f"night-{n}" for n in nights[5:]] + [f"full-{nights[-1]}", "notes"])
    assert prune_data_docs(settings) == []
