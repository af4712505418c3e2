"""One statement cache per process: a new engine reuses what another compiled, and is right."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import CacheStats

from casesync.database import init_all
from connectors import Connectors
from connectors.base import SharedStatementCache
from schemas import nova

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

TYPED = dt.datetime(2021, 3, 1, 10, 0)


def _parties(settings: Settings, count: int) -> tuple[CacheStats, int]:
    """Type `count` parties into a world; (the cache outcome of a count query, the count)."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.nova.begin() as conn:
            for i in range(count):
                conn.execute(
                    insert(nova.Party).values(
                        party_id=i + 1, uci=f"{1000 + i:04d}-0000", family_name="Test",
                        given_names="Party", entered_at=TYPED, updated_at=TYPED,
                        entered_by="TEST",
                    )
                )  # fmt: skip
        with connectors.nova.connect() as conn:
            # a statement no other test runs, built anew here: only the cache can share it
            query = select(func.count(nova.Party.party_id)).where(nova.Party.uci.like("1%-0000"))
            result = conn.execute(query)
            return result.context.cache_hit, int(result.scalar_one())
    finally:
        connectors.dispose()


def test_a_new_engine_reuses_the_statements_another_compiled(
    make_settings: Callable[..., Settings],
) -> None:
    first, second = make_settings(), make_settings()
    for world in (first, second):
        init_all(world)
    outcome, count = _parties(first, 2)
    assert count == 2
    assert outcome is CacheStats.CACHE_MISS  # compiled the first time, on the first world's engine
    outcome, count = _parties(second, 5)  # other engines, other databases
    assert outcome is CacheStats.CACHE_HIT
    assert count == 5  # the shared statement reads its own database


def test_a_statement_compiled_for_one_backend_is_never_served_to_the_other() -> None:
    query = select(nova.Party.party_id).where(nova.Party.uci == "1234-5678")
    key = query._generate_cache_key()
    assert key is not None
    lite, pg = sqlite.dialect(), postgresql.dialect()
    for dialect in (lite, pg):
        dialect.server_version_info = (3, 40, 0)
    cache = SharedStatementCache()  # not the process's: nothing here may reach a real engine
    cache[(lite, key.key, (), False, False)] = "compiled for SQLite"
    assert cache.get((sqlite.dialect(), key.key, (), False, False)) is None  # no version
    other = sqlite.dialect()
    other.server_version_info = (3, 40, 0)
    assert cache.get((other, key.key, (), False, False)) == "compiled for SQLite"  # same setup
    assert cache.get((pg, key.key, (), False, False)) is None
