"""One simulated day: the world, the ledger, and the day's random streams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemas.calendar import WORKDAY_MINUTES, at_local

if TYPE_CHECKING:
    import random

    from seed.ledger import Ledger
    from seed.params import WorldParameters
    from seed.people import PeoplePool
    from seed.world import World


@dataclass
class Day:
    """What every process needs to act on one day."""

    world: World
    ledger: Ledger
    date: dt.date
    params: WorldParameters
    people: PeoplePool
    scale: float
    _streams: dict[str, random.Random] = field(default_factory=dict)
    _opening: tuple[dt.date, dt.datetime] | None = None

    def rng(self, stream: str) -> random.Random:
        """The day's random stream for one process (same seed, same day: same draws)."""
        if stream not in self._streams:
            self._streams[stream] = self.world.rng(self.date, stream)
        return self._streams[stream]

    def moment(self, rng: random.Random, *, late: bool = False) -> dt.datetime:
        """A time in today's business hours (naive UTC); `late` keeps it in the afternoon."""
        if self._opening is None or self._opening[0] != self.date:
            self._opening = (self.date, at_local(self.date, 0))
        low = WORKDAY_MINUTES // 2 if late else 0
        return self._opening[1] + dt.timedelta(minutes=rng.randrange(low, WORKDAY_MINUTES))

    @property
    def two_way(self) -> bool:
        return self.world.options.interop_mode == "two_way"

    def later(self, days: int) -> dt.date:
        return self.date + dt.timedelta(days=days)

    def clerk(self, rng: random.Random, agency: str, region: str = "") -> str:
        """The user id of a clerk or officer of an agency (IRB, IRCC, CBSA)."""
        return f"{agency}{region}-{rng.randrange(1, 60):03d}"
