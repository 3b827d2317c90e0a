"""T5's span-corruption objective (Raffel et al. 2020, section 3.1.4), on token ids.

About ``noise_density`` of the tokens are masked, in spans of mean length
``mean_span_length``; each masked span becomes one sentinel in the input, and the
target lists the sentinels, each followed by the tokens it hid. This is the paper's
MLM (appendix A.4) for encoder-decoder models, both when pretraining from scratch and
as the auxiliary loss of multitask training.

Pure Python over lists of ids, seeded by an explicit ``random.Random``: cheap next to
a forward pass, and deterministic on resume.
"""

from __future__ import annotations

import random
from typing import Sequence


def _segment(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` items into ``parts`` non-empty segments at random."""
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def noise_mask(
    length: int, noise_density: float, mean_span_length: float, rng: random.Random, *, max_spans: int = 100
) -> list[bool]:
    """Which of ``length`` tokens to mask: T5's ``random_spans_noise_mask``, interleaving
    non-noise and noise spans, starting with non-noise; at most ``max_spans`` spans."""
    if length < 2:
        return [False] * length
    noise = min(max(int(round(length * noise_density)), 1), length - 1)
    spans = max(min(int(round(noise / mean_span_length)), noise, length - noise, max_spans), 1)
    noise_lengths = _segment(noise, spans, rng)
    keep_lengths = _segment(length - noise, spans, rng)
    mask: list[bool] = []
    for keep, hide in zip(keep_lengths, noise_lengths):
        mask.extend([False] * keep)
        mask.extend([True] * hide)
    return mask


def corrupt(
    ids: Sequence[int],
    sentinels: Sequence[int],
    *,
    noise_density: float,
    mean_span_length: float,
    rng: random.Random,
) -> tuple[list[int], list[int]]:
    """``(inputs, targets)``: masked spans replaced by sentinels in the inputs; the targets
    hold each sentinel followed by the tokens it replaced, then a closing sentinel.

    ``sentinels`` are the ids of ``<extra_id_0>``, ``<extra_id_1>``... in that order.
    No end-of-sequence id is added: the caller appends its tokenizer's.
    """
    # One sentinel is kept back to close the targets, as T5 does.
    mask = noise_mask(len(ids), noise_density, mean_span_length, rng, max_spans=len(sentinels) - 1)
    inputs: list[int] = []
    targets: list[int] = []
    span = -1
    for index, (token, masked) in enumerate(zip(ids, mask)):
        if masked and (index == 0 or not mask[index - 1]):
            span += 1
            inputs.append(sentinels[span])
            targets.append(sentinels[span])
        (targets if masked else inputs).append(token)
    if span >= 0:
        targets.append(sentinels[span + 1])
    return inputs, targets
