"""Deterministic apportionment: draw categories so their shares track the targets.

A quota sampler picks, each time, the category furthest behind its target
share (largest remainder). After n draws every category's count is within one
of n x share, so a small simulated world reproduces the reference's shares as
closely as a large one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class QuotaSampler(Generic[K]):
    """Draws keys in proportion to weights, deterministically."""

    def __init__(self, weights: Mapping[K, float]) -> None:
        total = float(sum(weights.values()))
        if total <= 0:
            raise ValueError("quota weights must sum to more than zero")
        self.shares = {key: weight / total for key, weight in weights.items() if weight > 0}
        self.counts: dict[K, int] = dict.fromkeys(self.shares, 0)
        self.drawn = 0

    def _order(self) -> list[K]:
        n = self.drawn + 1
        return sorted(self.shares, key=lambda k: self.counts[k] - self.shares[k] * n)

    def draw(self, allowed: Iterable[K] | None = None) -> K:
        """The key furthest behind its share (among `allowed`, when given)."""
        permitted = None if allowed is None else set(allowed)
        for key in self._order():
            if permitted is None or key in permitted:
                self.take(key)
                return key
        raise LookupError("no permitted key to draw")

    def ranked(self) -> list[K]:
        """Keys from furthest behind to furthest ahead (for fallbacks)."""
        return self._order()

    def take(self, key: K) -> None:
        """Count a draw of `key` made by the caller."""
        self.counts[key] = self.counts.get(key, 0) + 1
        self.drawn += 1


class RateQuota:
    """Decides yes/no so that the share of yeses tracks `rate` (e.g. a conversion rate)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.trials = 0
        self.yeses = 0

    def decide(self) -> bool:
        self.trials += 1
        if self.yeses + 0.5 < self.rate * self.trials:
            self.yeses += 1
            return True
        return False
