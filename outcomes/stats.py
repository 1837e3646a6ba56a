"""The statistics behind every outcome figure: a rate's 95% Wilson interval and the difference
of two rates (before and after a change) with Newcombe's interval built from the two Wilson
intervals (method 10 of Newcombe 1998), which stays honest at small counts and near 0% or 100%.

A verdict needs MIN_CALLS calls on each side; below that a page says "too few calls yet".
"""

from dataclasses import dataclass
from math import sqrt

Z95 = 1.959963984540054  # the two-sided 95% normal quantile
MIN_CALLS = 30

BETTER, WORSE, UNCLEAR, TOO_FEW = "better", "worse", "no clear change yet", "too few calls yet"


@dataclass(frozen=True)
class Rate:
    """k of n, with its 95% interval; `share` etc. are None when n is 0."""

    k: int
    n: int

    @property
    def share(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.k, self.n) if self.n else None

    @property
    def enough(self) -> bool:
        return self.n >= MIN_CALLS


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials (n > 0)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"Need 0 <= k <= n and n > 0, got k={k}, n={n}.")
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Change:
    """A rate before and after a change: the difference (after − before) with its 95% interval,
    and the verdict in words. `higher_is_better` is False for the outcomes nobody wants (no job
    matched, failed, caller hung up)."""

    before: Rate
    after: Rate
    higher_is_better: bool = True

    @property
    def difference(self) -> float | None:
        if not (self.before.n and self.after.n):
            return None
        return self.after.share - self.before.share

    @property
    def interval(self) -> tuple[float, float] | None:
        if not (self.before.n and self.after.n):
            return None
        p1, p2 = self.before.share, self.after.share
        l1, u1 = self.before.interval
        l2, u2 = self.after.interval
        d = p2 - p1
        return (
            d - sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
            d + sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2),
        )

    @property
    def verdict(self) -> str:
        """better / worse when the 95% interval of the difference excludes 0, else "no clear
        change yet"; "too few calls yet" below MIN_CALLS on either side."""
        if not (self.before.enough and self.after.enough):
            return TOO_FEW
        low, high = self.interval
        if low > 0:
            return BETTER if self.higher_is_better else WORSE
        if high < 0:
            return WORSE if self.higher_is_better else BETTER
        return UNCLEAR
