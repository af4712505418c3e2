"""Every error finding names the CBSA office of its file, so analysts can filter to theirs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from casesync.seeding import parse_options, seed
from casesync.sync import nightly
from casesync.validation import validate
from connectors import Connectors
from schemas import metadata_for, ncms, nova
from schemas.control import Finding

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)


def _uci_of(connectors: Connectors, system: str, table_name: str, key: str) -> str | None:
    """The client a finding's record names, read directly (the test's own look-up)."""
    table = metadata_for(system).tables[table_name]
    (pk,) = table.primary_key.columns
    value: object = int(key) if key.isdigit() and str(pk.type) == "INTEGER" else key
    with connectors[system].connect() as conn:
        if "uci" in table.c:
            return conn.execute(select(table.c.uci).where(pk == value)).scalar()
        if system == "nova" and "file_number" in table.c:
            return conn.execute(
                select(nova.Party.uci)
                .join(nova.CaseFile, nova.CaseFile.party_id == nova.Party.party_id)
                .where(nova.CaseFile.file_number == table.c.file_number, pk == value)
            ).scalar()
    return None


def test_error_findings_carry_the_office_of_their_file(
    module_world: Callable[..., Settings],
) -> None:
    settings = module_world()
    seed(
        settings,
        parse_options(
            files=1500, days=4, start=START.isoformat(), defect_rate=0.5, seed=8, mode="one_way"
        ),
    )
    nightly(settings, START, START + dt.timedelta(days=3))
    validate(settings, engine="sql")
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            errors = conn.execute(
                select(
                    Finding.system, Finding.table_name, Finding.record_key, Finding.office_code
                ).where(Finding.severity == "error", Finding.scope == "full")
            ).all()
        with connectors.ncms.connect() as conn:
            offices = {
                uci: office
                for uci, office in conn.execute(
                    select(ncms.RemovalCase.uci, ncms.RemovalCase.office_code).order_by(
                        ncms.RemovalCase.updated_at, ncms.RemovalCase.case_no
                    )
                )
            }
        checked = 0
        for system, table_name, key, office in errors:
            if system == "ncms" or table_name not in metadata_for(system).tables:
                continue
            uci = _uci_of(connectors, system, table_name, key)
            if uci in offices:
                assert office == offices[uci], (system, table_name, key)
                checked += 1
    finally:
        connectors.dispose()
    assert errors and checked >= 5, (len(errors), checked)
    with_office = sum(1 for *_, office in errors if office)
    assert with_office >= checked
