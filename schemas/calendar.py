"""Simulated time: Toronto business hours, business days, and the night intervals.

Timestamps in the databases are naive UTC. A *night* D is named by the date
its data interval starts: an interface with cutoff 02:00 covers
[D 02:00, D+1 02:00) America/Toronto, so everything typed during day D's
business hours falls in night D.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TORONTO = ZoneInfo("America/Toronto")
UTC = dt.UTC

#: Business hours in which clerks and officers type entries (local time).
WORKDAY_START = dt.time(8, 0)
WORKDAY_END = dt.time(17, 0)


def local_to_utc(moment: dt.datetime) -> dt.datetime:
    """A naive Toronto wall-clock time as naive UTC."""
    return moment.replace(tzinfo=TORONTO).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(moment: dt.datetime) -> dt.datetime:
    """A naive UTC time as naive Toronto wall-clock time."""
    return moment.replace(tzinfo=UTC).astimezone(TORONTO).replace(tzinfo=None)


def at_local(day: dt.date, minutes_after_start: int) -> dt.datetime:
    """Naive UTC of a moment `minutes_after_start` into day's business hours (clamped)."""
    span = _workday_minutes() - 1
    minutes = max(0, min(span, minutes_after_start))
    start = dt.datetime.combine(day, WORKDAY_START)
    return local_to_utc(start + dt.timedelta(minutes=minutes))


def _workday_minutes() -> int:
    start = dt.datetime.combine(dt.date.min, WORKDAY_START)
    end = dt.datetime.combine(dt.date.min, WORKDAY_END)
    return int((end - start).total_seconds() // 60)


WORKDAY_MINUTES = _workday_minutes()


def night_interval(
    night: dt.date, cutoff: dt.time = dt.time(2, 0)
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in naive UTC of night `night` for an interface cut at `cutoff` local."""
    start = local_to_utc(dt.datetime.combine(night, cutoff))
    end = local_to_utc(dt.datetime.combine(night + dt.timedelta(days=1), cutoff))
    return start, end


def night_of(moment_utc: dt.datetime, cutoff: dt.time = dt.time(2, 0)) -> dt.date:
    """The night whose interval holds a naive UTC moment."""
    local = utc_to_local(moment_utc)
    day = local.date()
    return day if local.time() >= cutoff else day - dt.timedelta(days=1)


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday (statutory holidays are not modelled)."""
    return day.weekday() < 5


def add_business_days(day: dt.date, count: int) -> dt.date:
    """The date `count` business days after `day`."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days in (start, end]."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if is_business_day(start + dt.timedelta(days=weeks * 7 + offset)):
            count += 1
    return count


def next_business_day(day: dt.date) -> dt.date:
    """`day` itself when it is a business day, else the next one."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day
