"""Feed rows are stamped with the end of their record's night: the vectorised look-up
against a plain-Python oracle over many times, daylight-saving changes included."""

from __future__ import annotations

import bisect
import datetime as dt
import random

import pyarrow as pa
import pytest

from connectors.capture import night_ends
from schemas.calendar import night_interval

pytestmark = pytest.mark.unit


def _oracle(text: str | None, cutoff: dt.time) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    day = moment.date() - dt.timedelta(days=2)
    ends = [night_interval(day + dt.timedelta(days=i), cutoff)[1] for i in range(5)]
    return ends[bisect.bisect_right(ends, moment)].isoformat(" ", "microseconds")


@pytest.mark.parametrize("cutoff", [dt.time(2, 0), dt.time(2, 30)], ids=["nova", "gcms"])
def test_night_ends_equal_the_oracle(cutoff: dt.time) -> None:
    rng = random.Random(11)
    start = dt.datetime(2012, 1, 1)
    times: list[str | None] = [
        (start + dt.timedelta(seconds=rng.randint(0, 400_000_000))).isoformat(" ", "microseconds")
        for _ in range(5_000)
    ]
    edges = [
        night_interval(dt.date(2020, 3, 8), cutoff)[1],
        night_interval(dt.date(2020, 11, 1), cutoff)[1],
    ]
    for edge in edges:  # at, just before and just after the cutoff, on DST days
        times += [str(edge + dt.timedelta(microseconds=d)) for d in (-1, 0, 1)]
    times += [None, "not a time", "2020-01-06T10:00:00"]
    stamped = night_ends(pa.array(times, type=pa.string()), cutoff).to_pylist()
    assert stamped == [_oracle(t, cutoff) for t in times]
