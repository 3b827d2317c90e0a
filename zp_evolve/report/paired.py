"""Paired comparisons of two methods over (task, seed) pairs, with bootstrap confidence intervals."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``a - b`` over the pairs both methods have, and its percentile bootstrap CI."""

    mean: float
    low: float
    high: float
    pairs: int
    wins: int
    losses: int


def paired_bootstrap(
    a: Mapping[tuple, float], b: Mapping[tuple, float], *, resamples: int = 10_000, level: float = 0.95, seed: int = 0
) -> PairedDifference | None:
    """``a - b`` over the keys (e.g. ``(task, seed)``) present in both; ``None`` when none are.

    The pairs are resampled with replacement ``resamples`` times; the interval is the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the resampled means.
    """
    keys = sorted(set(a) & set(b))
    if not keys:
        return None
    diffs = [a[k] - b[k] for k in keys]
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    low = means[int((1 - level) / 2 * (resamples - 1))]
    high = means[int((1 + level) / 2 * (resamples - 1))]
    return PairedDifference(
        mean=statistics.fmean(diffs), low=low, high=high, pairs=n,
        wins=sum(d > 1e-12 for d in diffs), losses=sum(d < -1e-12 for d in diffs),
    )  # fmt: skip


def mean_over(values: Mapping[tuple, float], keys: Sequence[tuple] | None = None) -> float | None:
    """The mean of ``values`` (over ``keys`` when given)."""
    chosen = [values[k] for k in (keys if keys is not None else values) if k in values]
    return statistics.fmean(chosen) if chosen else None
