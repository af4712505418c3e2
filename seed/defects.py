"""The manual-entry defect injector: realistic typing errors, each recorded in ground truth.

A typed entry offers the injector the errors that could happen to it
(candidates). Whether an entry carries an error is a Bernoulli draw at the
world's defect rate; which one is decided by quota, so every class gets its
share even when its opportunities are rare. A class that falls a whole defect
behind its share is planted at its next opportunity, which keeps every class
present in small worlds while the overall share stays at the rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random
    from collections.abc import Callable


class DefectClass(StrEnum):
    """The planted manual-entry error classes."""

    MISSING_MANDATORY = "missing_mandatory"
    MALFORMED_UCI = "malformed_uci"
    MALFORMED_IRB_FILE = "malformed_irb_file"
    UNKNOWN_CODE = "unknown_code"
    DATE_OUT_OF_ORDER = "date_out_of_order"
    FUTURE_DATE = "future_date"
    WRONG_AUTHORITY = "wrong_authority"
    WRONG_ORDER_TYPE = "wrong_order_type"
    REKEY_MISMATCH = "rekey_mismatch"
    DUPLICATE_CLIENT = "duplicate_client"
    ORPHAN_REFERENCE = "orphan_reference"
    REMOVAL_DURING_STAY = "removal_during_stay"
    DETENTION_REVIEW_OVERDUE = "detention_review_overdue"
    PRIORITY_INCONSISTENT = "priority_inconsistent"
    LITIGATION_LATE = "litigation_late"
    # Life-cycle states that cannot hold together (expectations/lifecycle.py).
    FINALIZED_FILE_WITHOUT_DECISION = "finalized_file_without_decision"
    DEPARTURE_CONFIRMED_ORDER_NOT_ENFORCED = "departure_confirmed_order_not_enforced"
    DEEMED_DEPORTATION_NOT_DEPARTURE_ORDER = "deemed_deportation_not_departure_order"
    TSR_STAY_SERIOUS_GROUND = "tsr_stay_serious_ground"
    ORDER_GROUND_NOT_FOR_PERMANENT_RESIDENTS = "order_ground_not_for_permanent_residents"
    ORDER_GROUND_FOR_PERMANENT_RESIDENTS_ONLY = "order_ground_for_permanent_residents_only"
    REPORT_GROUND_NOT_FOR_PERMANENT_RESIDENTS = "report_ground_not_for_permanent_residents"
    REPORT_GROUND_FOR_PERMANENT_RESIDENTS_ONLY = "report_ground_for_permanent_residents_only"
    GCMS_WARRANT_EXECUTED_AND_CANCELLED = "gcms_warrant_executed_and_cancelled"
    NCMS_WARRANT_EXECUTED_AND_CANCELLED = "ncms_warrant_executed_and_cancelled"
    TSR_IMPEDIMENT_SERIOUS_GROUND = "tsr_impediment_serious_ground"
    WANTED_WITHOUT_OPEN_WARRANT = "wanted_without_open_warrant"
    ENDED_CASE_OPEN_WARRANT = "ended_case_open_warrant"
    READY_WITH_OPEN_IMPEDIMENT = "ready_with_open_impediment"
    REMOVED_WHILE_DETAINED = "removed_while_detained"
    OPEN_CASE_CLOSED_INVENTORY = "open_case_closed_inventory"
    ENDED_CASE_OPEN_INVENTORY = "ended_case_open_inventory"
    OPEN_CASE_WITH_CLOSING_DATE = "open_case_with_closing_date"
    REMOVED_CASE_WITHOUT_REMOVAL_DATE = "removed_case_without_removal_date"
    # A copy that disagrees with the record it copies.
    STATUS_MISMATCH = "status_mismatch"
    NCMS_ORDER_TYPE = "ncms_order_type"
    # Time limits (expectations/time_limits.py) and re-keying deadlines.
    REASONS_FUTURE = "reasons_future"
    REASONS_BEFORE_DECISION = "reasons_before_decision"
    RAD_FILING_WINDOW = "rad_filing_window"
    RAD_PERFECTING_LATE = "rad_perfecting_late"
    RAD_DECISION_LATE = "rad_decision_late"
    PRRA_APPLIED_BEFORE_NOTICE = "prra_applied_before_notice"
    PRRA_APPLIED_LATE = "prra_applied_late"
    LEAVE_SOUGHT_LATE = "leave_sought_late"
    IN_FORCE_TOO_EARLY = "in_force_too_early"
    CONVERTED_EARLY = "converted_early"
    REVIEW_DUE_LATE = "review_due_late"
    REKEYED_LATE = "rekeyed_late"
    NOT_REKEYED = "not_rekeyed"


#: Relative frequency of each class among planted errors (blank fields and
#: mistyped identifiers are the most common slips).
CLASS_WEIGHTS: dict[DefectClass, float] = {
    DefectClass.MISSING_MANDATORY: 3.0,
    DefectClass.MALFORMED_UCI: 2.0,
    DefectClass.MALFORMED_IRB_FILE: 1.0,
    DefectClass.UNKNOWN_CODE: 1.5,
    DefectClass.DATE_OUT_OF_ORDER: 1.0,
    DefectClass.FUTURE_DATE: 1.0,
    DefectClass.WRONG_AUTHORITY: 0.7,
    DefectClass.WRONG_ORDER_TYPE: 0.7,
    DefectClass.REKEY_MISMATCH: 1.0,
    DefectClass.DUPLICATE_CLIENT: 1.0,
    DefectClass.ORPHAN_REFERENCE: 1.0,
    DefectClass.REMOVAL_DURING_STAY: 0.5,
    DefectClass.DETENTION_REVIEW_OVERDUE: 1.0,
    DefectClass.PRIORITY_INCONSISTENT: 1.0,
    DefectClass.LITIGATION_LATE: 1.0,
}
#: The life-cycle, copy and time-limit classes: rarer slips, each half a share.
CLASS_WEIGHTS.update({c: 0.5 for c in DefectClass if c not in CLASS_WEIGHTS})
_WEIGHT_TOTAL = sum(CLASS_WEIGHTS.values())


@dataclass(frozen=True, slots=True)
class Candidate:
    """An error that could be made on one entry.

    `field` is the column it corrupts and `value` produces the wrong value;
    `field` None means the error is not a column of this row (a duplicate
    client, an entry typed late, a stay end never recorded) and `value` is
    unused.
    """

    defect_class: DefectClass
    field: str | None
    value: Callable[[random.Random], Any] | None = None


class DefectInjector:
    """Decides which typed entries carry an error, and which error."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.typed = 0
        self.planted: dict[DefectClass, int] = dict.fromkeys(DefectClass, 0)
        self.offered: dict[DefectClass, int] = dict.fromkeys(DefectClass, 0)

    @property
    def planted_total(self) -> int:
        return sum(self.planted.values())

    def _owed(self, defect_class: DefectClass) -> float:
        share = CLASS_WEIGHTS[defect_class] / _WEIGHT_TOTAL
        return share * self.rate * self.typed - self.planted[defect_class]

    def choose(self, rng: random.Random, candidates: list[Candidate]) -> Candidate | None:
        """Count one typed entry; return the error to make on it, if any."""
        self.typed += 1
        for candidate in candidates:
            self.offered[candidate.defect_class] += 1
        if self.rate <= 0 or not candidates:
            return None
        best = max(candidates, key=lambda c: self._owed(c.defect_class))
        behind = self._owed(best.defect_class) >= 1.0
        draw = rng.random() < self.rate and self.planted_total < self.rate * self.typed + 1
        if not (behind or draw):
            return None
        self.planted[best.defect_class] += 1
        return best


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A corrupted value whose defect belongs to another row (a duplicate client record).

    `field` and `shown` name the other row's field to fix and what it shows, when
    they are not the corrupted field and value (a file finalized over a decision
    typed as not final).
    """

    value: Any
    table: str
    key: str
    field: str | None = None
    shown: Any = None


# ---------------------------------------------------------------- corruptions


def malformed_uci(correct: str) -> Callable[[random.Random], str]:
    """A UCI typed wrong: a digit dropped, the hyphen moved or lost, a letter O for a zero."""

    def corrupt(rng: random.Random) -> str:
        digits = correct.replace("-", "")
        kind = rng.randrange(4)
        if kind == 0:
            return correct[:-1]
        if kind == 1:
            return digits
        if kind == 2:
            return f"{digits[:3]}-{digits[3:]}"
        return correct.replace("0", "O", 1) if "0" in correct else correct + "9"

    return corrupt


def transposed_uci(correct: str, taken: set[str]) -> Callable[[random.Random], str]:
    """A well-formed UCI with two adjacent digits swapped (or one changed) that nobody holds."""

    def corrupt(rng: random.Random) -> str:
        chars = list(correct)
        positions = [i for i, ch in enumerate(chars) if ch.isdigit()]
        for _ in range(40):
            i = rng.choice(positions[:-1])
            j = positions[positions.index(i) + 1]
            swapped = chars.copy()
            swapped[i], swapped[j] = swapped[j], swapped[i]
            candidate = "".join(swapped)
            if candidate != correct and candidate not in taken:
                return candidate
        changed = chars.copy()
        changed[positions[-1]] = str((int(chars[positions[-1]]) + 1 + rng.randrange(8)) % 10)
        candidate = "".join(changed)
        return candidate if candidate not in taken else correct[:-2] + "00"

    return corrupt


def malformed_irb_file(correct: str) -> Callable[[random.Random], str]:
    """An IRB file number typed wrong: a digit short, no hyphen, a letter for a digit."""

    def corrupt(rng: random.Random) -> str:
        kind = rng.randrange(3)
        if kind == 0:  # a digit short (an ID number takes 5-8 digits: a letter O instead)
            return correct[:-1] if correct[0].isalpha() else "O" + correct[1:]
        if kind == 1:
            return correct.replace("-", "", 1)
        return correct.replace("-", " ", 1)

    return corrupt


def shifted_date(correct: dt.date | None, low: int, high: int) -> Callable[[random.Random], Any]:
    """A date moved by low..high days (negative: earlier)."""

    def corrupt(rng: random.Random) -> dt.date | None:
        if correct is None:
            return None
        return correct + dt.timedelta(days=rng.randint(low, high))

    return corrupt


def one_of(values: list[Any]) -> Callable[[random.Random], Any]:
    """One of a fixed list of wrong values."""

    def corrupt(rng: random.Random) -> Any:
        return rng.choice(values)

    return corrupt


def blank() -> Callable[[random.Random], None]:
    """A mandatory field left empty."""

    def corrupt(_rng: random.Random) -> None:
        return None

    return corrupt
