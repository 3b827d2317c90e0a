"""Classification metrics: predictions are ``{label: score}`` mappings in label order.

Scores are log-likelihoods (higher is more likely); references are labels. For
multiple-choice tasks the mapping holds the example's own candidates.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from zp_evolve.errors import DataError

Scores = Mapping[str, float]


def _check(predictions: Sequence[object], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise DataError(f"metric got {len(predictions)} predictions for {len(references)} references")


def argmax_label(scores: Scores) -> str:
    """The best-scoring label; ties go to the earlier label, so the result is deterministic."""
    if not isinstance(scores, Mapping) or not scores:
        raise DataError(f"a classification prediction must be a non-empty {{label: score}} mapping, got {scores!r}")
    best_label, best_score = None, float("-inf")
    for label, score in scores.items():
        if best_label is None or float(score) > best_score:
            best_label, best_score = label, float(score)
    return str(best_label)


def _as_label(prediction: object) -> str:
    return argmax_label(prediction) if isinstance(prediction, Mapping) else str(prediction)


def accuracy(predictions: Sequence[Scores | str], references: Sequence[str]) -> float:
    """Share of predictions equal to the reference (argmax label, or the string stripped)."""
    _check(predictions, references)
    if not references:
        return 0.0
    hits = sum(_as_label(p).strip() == str(r).strip() for p, r in zip(predictions, references))
    return hits / len(references)


def micro_f1(predictions: Sequence[Scores], references: Sequence[str]) -> float:
    """Micro-averaged F1 of the argmax labels (scikit-learn ``f1_score(average="micro")``).

    With one label per example this equals accuracy; it is the paper's metric for
    multi-class tasks.
    """
    _check(predictions, references)
    if not references:
        return 0.0
    from sklearn.metrics import f1_score

    predicted = [_as_label(p) for p in predictions]
    return float(f1_score([str(r) for r in references], predicted, average="micro"))


def auc(predictions: Sequence[Scores], references: Sequence[str]) -> float:
    """ROC-AUC of a binary task (scikit-learn ``roc_auc_score``).

    Each prediction maps the task's two labels, in label order, to scores; the
    decision value is score(second label) - score(first label) and the second label
    is the positive class. When the references hold one class only (a tiny dev
    sample can), ROC-AUC is undefined and this returns 0.5, the chance level, so a
    search can go on; the caller should prefer dev samples with both classes.
    """
    _check(predictions, references)
    decisions: list[float] = []
    truth: list[int] = []
    for index, (scores, reference) in enumerate(zip(predictions, references)):
        if not isinstance(scores, Mapping) or len(scores) != 2:
            got = len(scores) if isinstance(scores, Mapping) else type(scores).__name__
            raise DataError(
                f"auc needs scores for exactly two labels per prediction (prediction {index} has {got}); "
                "use micro_f1 for tasks with more labels or per-example options"
            )
        first, second = list(scores)
        if reference not in (first, second):
            raise DataError(f"auc: reference {reference!r} of prediction {index} is not one of the labels {first!r}, {second!r}")
        decisions.append(float(scores[second]) - float(scores[first]))
        truth.append(int(reference == second))
    if len(set(truth)) < 2:
        return 0.5
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, decisions))
