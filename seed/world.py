"""The true world the simulator advances: people, enforcement files, and what is scheduled.

This is the truth. Clerks and officers type it into NOVA, GCMS and NCMS (with
errors, see defects.py); nothing here is ever read back from the databases.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from schemas.codes import Inventory, Priority
from seed.defects import DefectInjector
from seed.ids import Numbering


@dataclass(slots=True)
class Person:
    """Someone known to the systems."""

    person_id: int
    uci: str
    surname: str
    given_name: str
    birth_on: dt.date
    sex: str
    citizenship: str
    language: str
    status: str  # FN, PR, PP
    province: str
    address: tuple[str, str, str, str]
    irregular: bool = False
    vulnerable: bool = False
    party_id: int | None = None  # NOVA party, once the IRB knows the person


@dataclass(slots=True)
class Detention:
    detention_id: int
    reason: str
    arrested_at: dt.datetime
    facility: str
    review_seq: int = 0
    next_review_due: dt.datetime | None = None
    release_at: dt.datetime | None = None  # planned
    id_file: str | None = None  # NOVA detention review file


@dataclass(slots=True)
class Case:
    """An enforcement file: from the s.44 report to removal or closure (NCMS case)."""

    case_no: str
    person_id: int
    office: str
    officer: str | None
    opened_on: dt.date
    ground: str
    non_compliance: str | None
    report_id: int
    is_claimant: bool = False
    claim_file: str | None = None
    rad_file: str | None = None
    id_file: str | None = None
    failed_claimant: bool = False
    order_id: int | None = None
    order_type: str | None = None
    authority: str | None = None
    made_on: dt.date | None = None
    in_force_on: dt.date | None = None
    order_status: str | None = None
    priority: str = Priority.OTHER
    inventory: str = Inventory.MONITORING
    status: str = "OPEN"
    impediments: dict[str, int] = field(default_factory=dict)  # code -> impediment_id
    stays: dict[str, int] = field(default_factory=dict)  # active stay type -> stay_id
    ended_stays: list[int] = field(default_factory=list)
    warrant: str | None = None
    detention: Detention | None = None
    dormant: bool = False
    serious: bool = False
    family_order_type: str | None = None  # s.42: the family member's order type
    passport_td: int | None = None  # GCMS travel document on file (negative: requested)
    departure_deadline: dt.date | None = None
    refused_on: dt.date | None = None  # the last negative RPD or RAD decision
    refused_decision: int | None = None  # its NOVA decision


@dataclass(slots=True)
class Options:
    """What a world was seeded with."""

    files: int
    days: int
    start: dt.date
    defect_rate: float
    seed: int
    interop_mode: str = "one_way"


class Agenda:
    """Events scheduled for future days, popped in (day, insertion) order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self._seq = 0

    def add(self, day: dt.date, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (day.toordinal(), self._seq, kind, args))

    def pop_day(self, day: dt.date) -> list[tuple[str, tuple[Any, ...]]]:
        """Every event due on or before `day` (late ones run today), in order."""
        ordinal = day.toordinal()
        due = []
        while self._heap and self._heap[0][0] <= ordinal:
            _, _, kind, args = heapq.heappop(self._heap)
            due.append((kind, args))
        return due

    def __len__(self) -> int:
        return len(self._heap)


class CaptureAgenda(Agenda):
    """The agenda while history is written: follow-ups are held per case, to keep or drop.

    History is dated in the past; when it is done, `release_into` moves every
    follow-up to the real agenda, those already due landing in the first weeks.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_case: dict[str, list[tuple[dt.date, str, tuple[Any, ...]]]] = {}

    def add(self, day: dt.date, kind: str, *args: Any) -> None:
        key = args[0] if args and isinstance(args[0], str) else ""
        self._by_case.setdefault(key, []).append((day, kind, args))

    def discard_kind(self, case_no: str, *kinds: str) -> None:
        """Drop a case's pending follow-ups of these kinds (the history decides them)."""
        events = self._by_case.get(case_no)
        if events:
            self._by_case[case_no] = [e for e in events if e[1] not in kinds]

    def take(self, case_no: str, kind: str) -> list[tuple[Any, ...]]:
        """Remove and return the arguments of a case's pending follow-ups of one kind."""
        events = self._by_case.get(case_no, [])
        taken = [e[2] for e in events if e[1] == kind]
        self._by_case[case_no] = [e for e in events if e[1] != kind]
        return taken

    def take_everywhere(self, kind: str) -> list[tuple[dt.date, tuple[Any, ...]]]:
        """Every case's pending follow-ups of one kind, with their days."""
        taken = []
        for key, events in self._by_case.items():
            if any(e[1] == kind for e in events):
                taken += [(e[0], e[2]) for e in events if e[1] == kind]
                self._by_case[key] = [e for e in events if e[1] != kind]
        return taken

    def release_into(self, agenda: Agenda, start: dt.date, rng: random.Random) -> None:
        for key in self._by_case:
            for day, kind, args in self._by_case[key]:
                if day < start:
                    day = start + dt.timedelta(days=rng.randint(0, 30))
                agenda.add(day, kind, *args)
        self._by_case.clear()


@dataclass
class World:
    """The whole simulated truth, picklable between days."""

    options: Options
    numbering: Numbering = field(default_factory=Numbering)
    persons: dict[int, Person] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    case_of_person: dict[int, str] = field(default_factory=dict)
    agenda: Agenda = field(default_factory=Agenda)
    #: Removal-ready cases by priority, and other pools processes draw from.
    pools: dict[str, dict[str, None]] = field(default_factory=lambda: defaultdict(dict))
    officers: dict[str, list[str]] = field(default_factory=dict)  # office -> officer ids
    caseload: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    officer_max: dict[str, int] = field(default_factory=dict)
    known_ucis: set[str] = field(default_factory=set)
    #: (surname, given name, birth date, citizenship) of everyone: no two people share one.
    identities: set[tuple[str, str, dt.date, str]] = field(default_factory=set)
    #: People IRCC knows (a GCMS client) who have no enforcement file yet.
    known_clients: list[int] = field(default_factory=list)
    #: s.42 cases: the family member's GCMS order id.
    principal_orders: dict[str, int] = field(default_factory=dict)
    #: When each NOVA file was referred or filed (for the clerk's date slips).
    file_referred: dict[str, dt.date] = field(default_factory=dict)
    perfected: dict[str, dt.date] = field(default_factory=dict)  # RAD file -> appeal record filed
    notices: dict[str, int] = field(default_factory=dict)  # RAD file -> its notice of appeal
    #: Records that carry a planted defect (an error that needs another record clean to
    #: show is not planted beside one).
    planted_records: set[tuple[str, str, str]] = field(default_factory=set)
    until: dt.date | None = None  # the last day the current simulation runs to
    unended: dict[str, int] = field(default_factory=dict)  # case -> impediment never ended
    held_wanted: set[str] = field(default_factory=set)  # cases NCMS keeps wanted, no warrant
    #: GCMS litigation records typed so far, and IAD appeal files by case.
    litigation_typed: set[int] = field(default_factory=set)
    iad_files: dict[str, str] = field(default_factory=dict)
    #: Open detentions: id -> (case number or None, person id); those with no case.
    open_detentions: dict[int, tuple[str | None, int]] = field(default_factory=dict)
    loose_detentions: dict[int, Detention] = field(default_factory=dict)
    #: Open NCMS travel-document requests by case.
    td_requests: dict[str, int] = field(default_factory=dict)
    day: dt.date | None = None  # last day simulated
    #: The defect injector's tallies, planted fields that stay wrong, and ground-truth ids.
    injector: DefectInjector = field(default_factory=lambda: DefectInjector(0.0))
    sticky: set[tuple[str, str, Any, str]] = field(default_factory=set)
    next_defect_id: int = 1
    #: Planted defects written to ground truth, by class.
    recorded: dict[str, int] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    samplers: dict[str, Any] = field(default_factory=dict)

    def rng(self, day: dt.date, stream: str) -> random.Random:
        """A random stream for one process on one day: same seed and day, same draws."""
        return random.Random(f"{self.options.seed}:{day.isoformat()}:{stream}")

    def count(self, table: str, key: str, n: int = 1) -> None:
        """Tally an event for the calibration summary."""
        bucket = self.counters[table]
        bucket[key] = bucket.get(key, 0) + n

    # -- pools: ordered sets (dicts) so draws are deterministic --
    def pool_add(self, pool: str, case_no: str) -> None:
        self.pools[pool][case_no] = None

    def pool_remove(self, pool: str, case_no: str) -> None:
        self.pools[pool].pop(case_no, None)

    def pool_pick(self, pool: str, rng: random.Random) -> str | None:
        """A random member of a pool (None when empty); draws near the front (oldest)."""
        members = self.pools.get(pool)
        if not members:
            return None
        window = min(len(members), 64)
        index = rng.randrange(window)
        for position, case_no in enumerate(members):
            if position == index:
                return case_no
        return None

    def take_known_client(self, rng: random.Random) -> Person | None:
        """A person GCMS already knows, now the subject of a report (None if there is none)."""
        if not self.known_clients:
            return None
        index = rng.randrange(len(self.known_clients))
        self.known_clients[index], self.known_clients[-1] = (
            self.known_clients[-1],
            self.known_clients[index],
        )
        return self.persons[self.known_clients.pop()]

    def person_of(self, case: Case) -> Person:
        return self.persons[case.person_id]
