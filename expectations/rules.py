"""Validation rules as data: what is checked, where, how bad a failure is, and why.

A rule names the table whose records fail it, the key that identifies each
failing record, the field an analyst must look at, a one-line description,
a severity, and the defect class it is meant to catch (for scoring). Its
check is either a column check (not null, a pattern, a code set, a pair of
columns in order) or a query returning the failing records. The same rule is
run by Great Expectations (expectations/gx.py) and, for the benchmark, as
hand-written SQL (expectations/sql.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_

from schemas.calendar import night_interval

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Select

#: The latest cutoff of the one-way interfaces: a night's checks run after it.
LAST_CUTOFF = dt.time(2, 30)


class Severity(StrEnum):
    ERROR = "error"  # a record is wrong and must be fixed
    WARNING = "warning"  # a file needs attention (inventory health), nothing is mistyped


@dataclass(frozen=True)
class Scope:
    """What a validation covers: one night's changes, or everything up to a night.

    `night` is the night validated (for a full validation, the latest night
    loaded). Each system's rows are in the night when their `updated_at` falls
    in the night's interval (cut at 02:00); `as_of` is when the checks are
    made: after the night's last feed.
    """

    kind: str  # night or full
    night: dt.date

    @property
    def name(self) -> str:
        return "full" if self.kind == "full" else f"night:{self.night.isoformat()}"

    def window(self, cutoff: dt.time = dt.time(2, 0)) -> tuple[dt.datetime, dt.datetime]:
        return night_interval(self.night, cutoff)

    @property
    def as_of(self) -> dt.datetime:
        return self.window(LAST_CUTOFF)[1]

    def changed(self, column: Any, cutoff: dt.time = dt.time(2, 0)) -> Any:
        """Rows this scope covers, by a timestamp (`updated_at`, or when a feed item changed)."""
        start, end = self.window(cutoff)
        if self.kind == "full":
            return column < end
        return and_(column >= start, column < end)

    def matured(self, column: Any, delay: dt.timedelta) -> Any:
        """Rows whose deadline (`column` + delay) passed: tonight (night) or by now (full)."""
        start, end = self.window()
        if self.kind == "full":
            return column < end - delay
        return and_(column >= start - delay, column < end - delay)


@dataclass(frozen=True)
class NotNull:
    column: str


@dataclass(frozen=True)
class Matches:
    column: str
    pattern: str


@dataclass(frozen=True)
class InSet:
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class InOrder:
    """`later` must not be before `earlier` (both columns of the same row)."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Query:
    """A query (built per scope) returning failing records as key, value[, related_key, office]."""

    build: Callable[[Scope], Select]


Check = NotNull | Matches | InSet | InOrder | Query


@dataclass(frozen=True)
class Rule:
    """One validation rule."""

    name: str
    description: str
    system: str  # the database the failing records live in
    table: str
    key: str
    field: str | None
    check: Check
    severity: Severity = Severity.ERROR
    defect_class: str | None = None
    #: Column checks: only hand-typed rows (feed rows are the interfaces' business).
    hand_typed: bool = True
    #: Column checks: an extra SQL condition on the rows checked (e.g. final decisions only).
    where: str | None = None
    #: Query checks: which database the query runs on (default: `system`).
    runs_on: str | None = None
    #: Query checks: the other record each failure concerns.
    related: tuple[str, str] | None = None
    #: Column holding the office, for reports by office.
    office: str | None = None
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)
    #: What a correct entry looks like, in one line, for the analyst fixing the record.
    correct_entry: str = ""

    @property
    def database(self) -> str:
        return self.runs_on or self.system

    @property
    def column(self) -> str | None:
        check = self.check
        if isinstance(check, (NotNull, Matches, InSet)):
            return check.column
        if isinstance(check, InOrder):
            return check.later
        return None
