"""Contextual calibration (Zhao et al., 2021, "Calibrate Before Use").

A small LM puts a prior on the labels whatever the input: under some prompts it says
"positive" to almost everything. Scoring the same prompt with content-free inputs
(``"N/A"``, ``""``, ``"[MASK]"`` in every input slot) estimates that prior, p_cf (the
labels' probabilities averaged over those inputs, then normalised, as in the paper's
code, tonyzhaozh/few-shot-learning); the
calibrated prediction divides it out, q(label) ∝ p(label) / p_cf(label) (the paper's
W = diag(p_cf)^-1, b = 0). In log space that subtracts log p_cf from every label's
normalised log-probability, so the argmax moves and a prompt's fitness measures how
well it separates the classes rather than the model's favourite label.

Calibration applies to tasks with fixed labels. Multiple-choice tasks (options per
example) and generation tasks pass through unchanged. On a binary task the shift is
the same for every example, so AUC does not change; accuracy and micro-F1 do.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from zp_evolve.ensemble import normalised_label_scores
from zp_evolve.tasks import Example, Task

#: The content-free inputs of Zhao et al. (2021), averaged.
CONTENT_FREE_INPUTS = ("N/A", "", "[MASK]")


def calibrates(task: Task) -> bool:
    """True for tasks whose label set is fixed (the only ones a label prior applies to)."""
    return bool(task.labels) and not task.multiple_choice


def content_free_examples(task: Task, texts: Sequence[str] = CONTENT_FREE_INPUTS) -> list[Example]:
    """One example per content-free text, the text in every input slot."""
    return [
        Example(inputs={name: text for name in task.input_fields}, target=task.labels[0], source=f"content-free {text!r}")
        for text in texts
    ]


def label_prior(content_free_predictions: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """log p_cf, as the paper's code computes it (``get_p_content_free``): each label's
    probability averaged over the content-free inputs, then normalised over the labels."""
    labels = list(content_free_predictions[0])
    mean_log: dict[str, float] = {}
    for label in labels:
        values = [p[label] for p in content_free_predictions if math.isfinite(p[label])]
        if not values:
            mean_log[label] = -math.inf
            continue
        top = max(values)
        mean_log[label] = top + math.log(sum(math.exp(v - top) for v in values) / len(content_free_predictions))
    return normalised_label_scores(mean_log)


def calibrate(prediction: Mapping[str, float], prior: Mapping[str, float]) -> dict[str, float]:
    """``prediction`` with the label prior divided out, normalised over the labels again."""
    normalised = normalised_label_scores(prediction)
    return normalised_label_scores({label: normalised[label] - prior[label] for label in normalised})


def calibrate_all(predictions: Sequence[Any], content_free_predictions: Sequence[Mapping[str, float]]) -> list[Any]:
    """Calibrate every prediction of one (task, prompt) with the prior its content-free inputs give."""
    prior = label_prior(content_free_predictions)
    return [calibrate(p, prior) for p in predictions]
