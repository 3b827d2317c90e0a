"""How many actors a cluster holds at the per-actor amounts."""

from __future__ import annotations

import math


def default_pool_size(cpus: float, gpus: float, cpus_per_actor: float, gpus_per_actor: float) -> int:
    """As many actors as the cluster's CPUs and GPUs hold at the per-actor amounts (at least 1).

    Fractions divide with a tolerance: 1 GPU / 0.1 is 10 actors, where ``1 // 0.1`` is 9.0.
    """
    count = _fits(cpus, cpus_per_actor) if cpus_per_actor > 0 else max(int(cpus), 1)
    if gpus_per_actor > 0:
        count = min(count, _fits(gpus, gpus_per_actor))
    return max(count, 1)


def _fits(total: float, each: float) -> int:
    return int(math.floor(total / each + 1e-9))
