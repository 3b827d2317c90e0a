"""Label scores as probabilities, and several prompts combined into one predictor.

A classification prediction is a mapping ``label -> score`` where scores are
log-likelihoods of the label's verbalizer. Prompts differ in how much probability
they give to the answer slot as a whole, so raw scores of two prompts are not on one
scale; each prediction is first normalised over its labels (a log-softmax), and an
ensemble is the mean of those normalised log-probabilities (used by GPS's
``selection.answer: ensemble`` and ``zp-evolve predict --top K``).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence


def normalised_label_scores(scores: Mapping[str, float]) -> dict[str, float]:
    """``scores`` as log-probabilities over the labels (a log-softmax; sums to 1 in probability)."""
    finite = [v for v in scores.values() if math.isfinite(v)]
    if not finite:
        return {label: -math.log(len(scores)) if scores else 0.0 for label in scores}
    top = max(finite)
    log_total = top + math.log(sum(math.exp(v - top) for v in finite))
    return {label: (v - log_total if math.isfinite(v) else -math.inf) for label, v in scores.items()}


def ensemble_label_scores(predictions: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of the members' normalised log-probabilities, per label.

    Every member must score the same labels (one example under several prompts).
    """
    if not predictions:
        raise ValueError("an ensemble needs at least one member")
    labels = list(predictions[0])
    for member in predictions[1:]:
        if set(member) != set(labels):
            raise ValueError(f"ensemble members score different labels: {sorted(labels)} vs {sorted(member)}")
    normalised = [normalised_label_scores(member) for member in predictions]
    return {label: sum(member[label] for member in normalised) / len(normalised) for label in labels}
