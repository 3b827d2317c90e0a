"""Token-level items and the batching both scorers share: length-sorted, padding-bounded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Sequence

import torch


@dataclass
class TokenItem:
    """One query in token ids: the context (or encoder source) and each candidate's answer ids."""

    task: str
    context: list[int]
    candidates: list[list[int]] = field(default_factory=list)
    group: str = ""  # rows of one (task, prompt) share this, so their common prefix can be shared


def batches(
    lengths: Sequence[int], groups: Sequence[object], *, batch_size: int, max_batch_tokens: int
) -> Iterator[list[int]]:
    """Indices in batches sorted by (group, length), each at most ``batch_size`` rows and
    ``max_batch_tokens`` padded tokens. Sorting by length keeps padding small; groups
    (e.g. with or without soft prompts) never share a batch.
    """
    order = sorted(range(len(lengths)), key=lambda i: (str(groups[i]), lengths[i]))
    batch: list[int] = []
    for index in order:
        longest = max([lengths[i] for i in batch] + [lengths[index]])
        same_group = not batch or groups[batch[0]] == groups[index]
        if batch and (not same_group or len(batch) >= batch_size or longest * (len(batch) + 1) > max_batch_tokens):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


def common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix all ``rows`` share, leaving each row at least one token."""
    if not rows:
        return 0
    limit = min(len(r) for r in rows) - 1
    first = rows[0]
    for n in range(max(limit, 0)):
        token = first[n]
        if any(r[n] != token for r in rows):
            return n
    return max(limit, 0)


def pad_right(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids, mask)`` of shape (B, T), right-padded."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


def pad_left(rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids, mask)`` of shape (B, T), left-padded (for generation)."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


def finish(scores: list[float], lengths: Sequence[int], length_normalize: bool) -> list[float]:
    """Sum of answer-token log-probabilities, or their mean when ``length_normalize``."""
    if not length_normalize:
        return scores
    return [s / max(n, 1) for s, n in zip(scores, lengths)]
