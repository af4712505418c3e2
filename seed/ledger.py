"""Typed rows on their way to the databases: buffered, stamped, and sometimes wrong.

Every entry a clerk or officer makes goes through `Ledger.enter` (a new row)
or `Ledger.amend` (an update). Entries are buffered per table and written in
bulk by a `Sink` (connectors provide one per deployment). An error planted in
a field stays there: later amendments never silently correct it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Protocol

from schemas import metadata_for
from seed.defects import Candidate, Elsewhere

if TYPE_CHECKING:
    import datetime as dt
    import random

    from seed.world import World


class Sink(Protocol):
    """Where the ledger writes: bulk inserts and keyed updates per table."""

    def insert(self, database: str, table: str, rows: list[dict[str, Any]]) -> None: ...

    def update(self, database: str, table: str, rows: list[dict[str, Any]]) -> None: ...

    def commit(self) -> None: ...

    def finish(self) -> None: ...


def _primary_keys() -> dict[tuple[str, str], tuple[str, ...]]:
    keys = {}
    for database in ("nova", "gcms", "ncms", "ground_truth"):
        for name, table in metadata_for(database).tables.items():
            keys[(database, name)] = tuple(column.name for column in table.primary_key.columns)
    return keys


PRIMARY_KEYS = _primary_keys()
#: Tables in foreign-key order (parents first), per database.
TABLE_ORDER = {
    (database, table.name): index
    for database in ("nova", "gcms", "ncms", "ground_truth")
    for index, table in enumerate(metadata_for(database).sorted_tables)
}


class Ledger:
    """Buffers typed rows and planted defects until the next flush."""

    def __init__(self, world: World, *, flush_rows: int = 50_000) -> None:
        self._world = world
        self.injector = world.injector
        self.flush_rows = flush_rows
        self._inserts: dict[tuple[str, str], dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._updates: dict[tuple[str, str], dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._sticky = world.sticky
        self._pending = 0
        self.defect_day: dt.date | None = None
        self.written: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------------ writing
    def _key(self, system: str, table: str, row: dict[str, Any]) -> Any:
        columns = PRIMARY_KEYS[(system, table)]
        return row[columns[0]] if len(columns) == 1 else tuple(row[c] for c in columns)

    def enter(
        self,
        system: str,
        table: str,
        row: dict[str, Any],
        *,
        at: dt.datetime,
        by: str,
        rng: random.Random | None = None,
        candidates: list[Candidate] | None = None,
    ) -> Candidate | None:
        """Type a new row. With `candidates` it is a hand-typed entry that may carry an error."""
        row["entered_at"] = at
        row["updated_at"] = at
        row["entered_by"] = by
        key = self._key(system, table, row)
        planted = None
        if candidates is not None and rng is not None:
            planted = self.injector.choose(rng, candidates)
            if planted is not None and planted.field is not None and planted.value is not None:
                correct = row.get(planted.field)
                value = planted.value(rng)
                self.hold(system, table, key, planted.field)
                if isinstance(value, Elsewhere):
                    row[planted.field] = value.value
                    self.touch(system, table, key)
                    shown = value.value if value.field is None else value.shown
                    self.record(
                        system, value.table, value.key, planted, shown, correct, at,
                        field=value.field,
                    )  # fmt: skip
                else:
                    row[planted.field] = value
                    self.record(system, table, str(key), planted, value, correct, at)
        self._inserts[(system, table)][key] = row
        self._pending += 1
        return planted

    def amend(
        self,
        system: str,
        table: str,
        key: Any,
        fields: dict[str, Any],
        *,
        at: dt.datetime,
        rng: random.Random | None = None,
        candidates: list[Candidate] | None = None,
    ) -> Candidate | None:
        """Update an existing row (typed later); planted fields keep their wrong value.

        With `candidates` the update is a hand-typed entry that may carry an error:
        a candidate's field gets its wrong value (a field the update leaves alone
        is typed wrong alongside it), and keeps it.
        """
        planted = None
        if candidates is not None and rng is not None:
            if self.planted_on(system, table, key):
                candidates = []  # one error at a time: a second could hide the first
            planted = self.injector.choose(rng, candidates)
        if planted is None or planted.field is None or planted.value is None or rng is None:
            self._update(system, table, key, fields, at)
            return planted
        correct = fields.get(planted.field)
        value = planted.value(rng)
        self._update(system, table, key, {**fields, planted.field: value}, at)
        self.hold(system, table, key, planted.field)
        self.record(system, table, str(key), planted, value, correct, at)
        return planted

    def hold(self, system: str, table: str, key: Any, *fields: str) -> None:
        """Keep fields as they are now: later updates of them are never typed (a step skipped)."""
        for name in fields:
            self._sticky.add((system, table, key, name))

    def _update(
        self, system: str, table: str, key: Any, fields: dict[str, Any], at: dt.datetime
    ) -> None:
        changes = {
            name: value
            for name, value in fields.items()
            if (system, table, key, name) not in self._sticky
        }
        pending = self._inserts[(system, table)].get(key)
        if pending is not None:
            pending.update(changes)
            pending["updated_at"] = max(pending["updated_at"], at)
            return
        update = self._updates[(system, table)].setdefault(key, {})
        update.update(changes)
        update["updated_at"] = max(update.get("updated_at", at), at)
        self._pending += 1

    def corrupt_later(
        self,
        system: str,
        table: str,
        key: Any,
        field: str,
        value: Any,
        correct: Any,
        planted: Candidate,
        at: dt.datetime,
    ) -> None:
        """Make a planted error in an existing row (for errors typed after the fact)."""
        self.amend(system, table, key, {field: value}, at=at)
        self.hold(system, table, key, field)
        self.record(system, table, str(key), planted, value, correct, at)

    def record(
        self,
        system: str,
        table: str,
        key: str,
        planted: Candidate,
        value: Any,
        correct: Any,
        at: dt.datetime,
        field: str | None = None,
    ) -> None:
        """Write one planted defect to ground truth."""
        day = self.defect_day or at.date()
        row = {
            "defect_id": self._world.next_defect_id,
            "day": day,
            "system": system,
            "table_name": table,
            "record_key": key,
            "field": field if field is not None else planted.field,
            "defect_class": planted.defect_class.value,
            "planted_value": None if value is None else str(value),
            "correct_value": None if correct is None else str(correct),
        }
        self._world.next_defect_id += 1
        self._world.planted_records.add((system, table, key))
        recorded = self._world.recorded
        recorded[planted.defect_class.value] = recorded.get(planted.defect_class.value, 0) + 1
        self._inserts[("ground_truth", "planted_defect")][row["defect_id"]] = row
        self._pending += 1

    def touch(self, system: str, table: str, key: Any) -> None:
        """Mark a record a planted defect depends on: no other error is planted on it."""
        self._world.planted_records.add((system, table, str(key)))

    def planted_on(self, system: str, table: str, key: Any) -> bool:
        """True when the record already carries a planted defect."""
        return (system, table, str(key)) in self._world.planted_records

    def is_sticky(self, system: str, table: str, key: Any, field: str) -> bool:
        return (system, table, key, field) in self._sticky

    # ------------------------------------------------------------------ flushing
    @property
    def pending(self) -> int:
        return self._pending

    def flush(self, sink: Sink, *, force: bool = True) -> None:
        """Write buffered inserts, then updates, through the sink."""
        if not force and self._pending < self.flush_rows:
            return
        for (system, table), rows in sorted(
            self._inserts.items(), key=lambda kv: TABLE_ORDER[kv[0]]
        ):
            if rows:
                sink.insert(system, table, list(rows.values()))
                self.written[f"{system}.{table}"] += len(rows)
        for (system, table), updates in self._updates.items():
            if not updates:
                continue
            columns = PRIMARY_KEYS[(system, table)]
            batch = []
            for key, fields in updates.items():
                values = key if isinstance(key, tuple) else (key,)
                batch.append({**dict(zip(columns, values, strict=True)), **fields})
            sink.update(system, table, batch)
        self._inserts.clear()
        self._updates.clear()
        self._pending = 0
        sink.commit()


def feed_stamp(row: dict[str, Any], at: dt.datetime, source_at: dt.datetime, by: str) -> None:
    """Stamp a row a feed loaded (history written by the simulator for nights before casesync)."""
    row["entered_at"] = at
    row["updated_at"] = at
    row["entered_by"] = by
    row["source_updated_at"] = source_at
