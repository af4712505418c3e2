"""Simulated time: Toronto business hours, business days, and the night intervals.

Business days skip weekends and statutory holidays: the federal ones and
those of the office's province (the `holidays` package).

Timestamps in the databases are naive UTC. A *night* D is named by the date
its data interval starts: an interface with cutoff 02:00 covers
[D 02:00, D+1 02:00) America/Toronto, so everything typed during day D's
business hours falls in night D.
"""

from __future__ import annotations

import datetime as dt
import functools
from types import MappingProxyType
from typing import Final
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


#: The province whose statutory holidays an IRB regional office keeps (with the
#: federal ones): the first letter of an IRB file number names the region.
IRB_REGION_PROVINCE: Final = MappingProxyType({"T": "ON", "M": "QC", "V": "BC"})
#: ID file-number prefixes (0001-, 0003-, 0018-) by the province of their registry.
_ID_PREFIX_PROVINCE: Final = MappingProxyType({"0001": "BC", "0003": "ON", "0018": "QC"})
#: Years the business-day calendar covers (simulated worlds and their history).
CALENDAR_YEARS: Final = range(2005, 2041)


def province_of_irb_file(file_number: str | None) -> str | None:
    """The province of the IRB office that holds a file (TB1-12345: Toronto, ON)."""
    if not file_number:
        return None
    prefix = _ID_PREFIX_PROVINCE.get(file_number[:4])
    return prefix or IRB_REGION_PROVINCE.get(file_number[:1])


@functools.cache
def statutory_holidays(province: str | None = None) -> frozenset[dt.date]:
    """Federal statutory holidays, and those of `province` when one is given."""
    import holidays

    categories = (holidays.PUBLIC, holidays.GOVERNMENT)
    federal = holidays.country_holidays("CA", years=CALENDAR_YEARS, categories=categories)
    days = set(federal)
    if province is not None:
        days |= set(holidays.country_holidays("CA", subdiv=province, years=CALENDAR_YEARS))
    return frozenset(days)


def is_business_day(day: dt.date, province: str | None = None) -> bool:
    """Monday to Friday, and not a federal (or the province's) statutory holiday."""
    return day.weekday() < 5 and day not in statutory_holidays(province)


def add_business_days(day: dt.date, count: int, province: str | None = None) -> dt.date:
    """The date `count` business days after `day`."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if is_business_day(current, province):
            remaining -= 1
    return current


def business_days_between(start: dt.date, end: dt.date, province: str | None = None) -> int:
    """Business days in (start, end]."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_business_day(current, province):
            count += 1
    return count


def next_business_day(day: dt.date, province: str | None = None) -> dt.date:
    """`day` itself when it is a business day, else the next one."""
    while not is_business_day(day, province):
        day += dt.timedelta(days=1)
    return day
