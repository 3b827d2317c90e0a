"""Splitting a batch of evaluation requests into chunks of similar cost.

Scoring a prompt costs about (examples in the split) x (prompt length): every example
is one forward pass over the rendered prompt. Requests are grouped by task and split
(so a worker can batch one task's examples across prompts), then cut into contiguous
chunks of about equal total cost. Chunks go out largest first, so the last chunk to
finish is a small one (the LPT rule), and results are put back by request index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Sequence


@dataclass(frozen=True)
class Chunk:
    """Request indices (into the batch) sent to one actor call, and their total cost."""

    number: int
    indices: tuple[int, ...]
    cost: float


def request_cost(examples: int, prompt_chars: int) -> float:
    """Estimated work to score one prompt: examples x prompt length (both at least 1)."""
    return float(max(examples, 1) * max(prompt_chars, 1))


def plan_chunks(
    costs: Sequence[float],
    groups: Sequence[Hashable],
    *,
    num_chunks: int,
    max_size: int | None = None,
) -> list[Chunk]:
    """Partition request indices into about ``num_chunks`` chunks of balanced cost.

    Args:
        costs: the estimated cost of each request.
        groups: a key per request (e.g. ``(task, split)``); requests of a group stay together
            as far as the balance allows.
        num_chunks: the number of chunks aimed at (more when ``max_size`` forces it).
        max_size: at most this many requests per chunk.

    Returns:
        Chunks ordered by decreasing cost (ties by number), covering every index exactly once.
    """
    if len(costs) != len(groups):
        raise ValueError("costs and groups must have the same length")
    count = len(costs)
    if count == 0:
        return []
    if num_chunks < 1:
        raise ValueError("num_chunks must be at least 1")
    if max_size is not None and max_size < 1:
        raise ValueError("max_size must be at least 1")
    if max_size is not None:
        num_chunks = max(num_chunks, math.ceil(count / max_size))
    num_chunks = min(num_chunks, count)
    group_order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    order = sorted(range(count), key=lambda i: (group_order[groups[i]], -costs[i], i))
    target = sum(costs) / num_chunks

    pieces: list[list[int]] = []
    current: list[int] = []
    current_cost = 0.0
    for position, index in enumerate(order):
        remaining_items = count - position
        remaining_chunks = num_chunks - len(pieces)
        full = max_size is not None and len(current) >= max_size
        # Close the chunk at the cut closest to the target, but never leave fewer
        # items than chunks still to fill.
        over = current and current_cost + costs[index] / 2 > target and remaining_chunks > 1
        forced = current and remaining_items < remaining_chunks
        if full or over or forced:
            pieces.append(current)
            current, current_cost = [], 0.0
        current.append(index)
        current_cost += costs[index]
    pieces.append(current)
    chunks = [Chunk(n, tuple(sorted(p)), float(sum(costs[i] for i in p))) for n, p in enumerate(pieces)]
    return sorted(chunks, key=lambda c: (-c.cost, c.number))
