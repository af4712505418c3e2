"""The CBSA office of each finding's file, so analysts can filter the work queue to theirs.

Most rules do not select an office: a finding is about a NOVA decision, a GCMS
order, an NCMS warrant. The office of its file is the NCMS removal case's
office: for an NCMS row, through its case; for any row that names a client
(a UCI), or a NOVA row whose party does, through the client's removal case
(the one most recently updated). A record whose person has no removal case in
NCMS has no CBSA office yet, and its finding says none.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, select

from schemas import metadata_for, ncms, nova

if TYPE_CHECKING:
    from connectors import Connectors
    from expectations.findings import RuleOutcome

_CHUNK = 500


def fill(connectors: Connectors, outcomes: list[RuleOutcome]) -> int:
    """Give every failure without an office its file's office; returns how many got one."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for outcome in outcomes:
        for key, _value, _related, office in outcome.failures:
            if office is None:
                wanted[(outcome.rule.system, outcome.rule.table)].add(str(key))
    if not wanted:
        return 0
    office_of: dict[tuple[str, str, str], str] = {}
    ucis: dict[tuple[str, str, str], str] = {}
    for (system, table_name), keys in wanted.items():
        found_offices, found_ucis = _lookup(connectors, system, table_name, sorted(keys))
        office_of.update({(system, table_name, k): v for k, v in found_offices.items()})
        ucis.update({(system, table_name, k): v for k, v in found_ucis.items()})
    by_uci = _offices_by_uci(connectors, sorted(set(ucis.values())))
    for record, uci in ucis.items():
        if record not in office_of and uci in by_uci:
            office_of[record] = by_uci[uci]
    filled = 0
    for outcome in outcomes:
        rule = outcome.rule
        updated = []
        for key, value, related, office in outcome.failures:
            if office is None:
                office = office_of.get((rule.system, rule.table, str(key)))
                filled += office is not None
            updated.append((key, value, related, office))
        outcome.failures = updated
    return filled


def _lookup(
    connectors: Connectors, system: str, table_name: str, keys: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(record -> office) where the row names its case, and (record -> UCI) where it names one."""
    meta = metadata_for(system) if system in ("nova", "gcms", "ncms") else None
    if meta is None or table_name not in meta.tables:
        return {}, {}
    table = meta.tables[table_name]
    primary = list(table.primary_key.columns)
    if len(primary) != 1:
        return {}, {}
    (pk,) = primary
    values: list[Any] = keys
    if isinstance(pk.type, Integer):
        values = [int(k) for k in keys if k.lstrip("-").isdigit()]
    case, party, case_file = ncms.RemovalCase.__table__, nova.Party.__table__, None
    if system == "ncms" and "case_no" in table.c and table is not case:
        query = select(pk, case.c.office_code).join(case, case.c.case_no == table.c.case_no)
        return _pairs(connectors, system, query, pk, values), {}
    if system == "ncms" and table is case:
        return _pairs(connectors, system, select(pk, case.c.office_code), pk, values), {}
    if "uci" in table.c:
        return {}, _pairs(connectors, system, select(pk, table.c.uci), pk, values)
    if system == "nova":
        case_file = nova.CaseFile.__table__
        if "party_id" in table.c:
            query = select(pk, party.c.uci).join(party, party.c.party_id == table.c.party_id)
        elif "file_number" in table.c:
            query = (
                select(pk, party.c.uci)
                .join(case_file, case_file.c.file_number == table.c.file_number)
                .join(party, party.c.party_id == case_file.c.party_id)
            )
        else:
            return {}, {}
        return {}, _pairs(connectors, system, query, pk, values)
    return {}, {}


def _pairs(
    connectors: Connectors, system: str, query: Any, pk: Any, values: list[Any]
) -> dict[str, str]:
    found: dict[str, str] = {}
    with connectors[system].connect() as conn:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            for key, value in conn.execute(query.where(pk.in_(chunk))):
                if value is not None:
                    found[str(key)] = str(value)
    return found


def _offices_by_uci(connectors: Connectors, ucis: list[str]) -> dict[str, str]:
    """Each client's office: that of the removal case updated last."""
    case = ncms.RemovalCase.__table__
    found: dict[str, str] = {}
    with connectors.ncms.connect() as conn:
        for start in range(0, len(ucis), _CHUNK):
            rows = conn.execute(
                select(case.c.uci, case.c.office_code)
                .where(case.c.uci.in_(ucis[start : start + _CHUNK]))
                .order_by(case.c.updated_at, case.c.case_no)
            )
            for uci, office in rows:
                if office is not None:
                    found[uci] = office
    return found
