"""Identifiers as each system issues them: UCIs, IRB file numbers, NCMS case numbers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from schemas.codes import DIVISION_FILE_LETTER, ID_FILE_PREFIX, Division

_UCI8 = 10**8
_UCI10 = 10**9
#: Persons entered in GCMS from this year get 10-digit UCIs.
TEN_DIGIT_FROM_YEAR = 2013


def format_uci(number: int, ten_digits: bool) -> str:
    """A UCI written 0000-0000 or 00-0000-0000."""
    if ten_digits:
        digits = f"{1_100_000_000 + number % _UCI10:010d}"
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    digits = f"{number % _UCI8:08d}"
    return f"{digits[:4]}-{digits[4:]}"


@dataclass
class Numbering:
    """Every counter the simulated systems draw their numbers from (part of the world state)."""

    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def next(self, name: str, start: int = 1) -> int:
        """The next number of sequence `name`, starting at `start`."""
        value = self.counters.get(name, start - 1) + 1
        self.counters[name] = value
        return value

    def uci(self, year: int) -> str:
        """A new UCI; the sequence is scrambled (x 7919, a prime) so UCIs look random."""
        n = self.next("uci")
        return format_uci(n * 7919 + 1_234_567, year >= TEN_DIGIT_FROM_YEAR)

    def irb_file(self, division: Division, region: str, year: int) -> str:
        """A NOVA file number: TB1-12345, or 0003-1234567 for the ID."""
        if division is Division.ID:
            prefix = ID_FILE_PREFIX[region]
            return f"{prefix}-{self.next('irb:' + prefix, 1_000_000):07d}"
        prefix = f"{region}{DIVISION_FILE_LETTER[division]}{year % 10}"
        return f"{prefix}-{self.next('irb:' + prefix) % 100_000:05d}"

    def ncms_case(self, region: str, year: int) -> str:
        """An NCMS case number, REGION-YYYY-NNNNNN."""
        return f"{region}-{year}-{self.next(f'ncms:{region}:{year}'):06d}"

    def court_file(self, year: int) -> str:
        """A Federal Court file number, IMM-1234-20."""
        return f"IMM-{self.next(f'court:{year}'):d}-{year % 100:02d}"

    def warrant(self) -> str:
        return f"W{self.next('warrant', 10_000_000):08d}"
