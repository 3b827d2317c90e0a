"""Generation metrics: predictions and references are strings."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Sequence

from zp_evolve.errors import DataError

from zp_metrics.text import CJKRougeTokenizer, answer_tokens

#: The NER target when a sentence has no entity of the asked type (paper Table 16).
BLANK_TARGET = "blank"


def _check(predictions: Sequence[object], references: Sequence[object]) -> None:
    if len(predictions) != len(references):
        raise DataError(f"metric got {len(predictions)} predictions for {len(references)} references")
    for value in list(predictions) + list(references):
        if not isinstance(value, str):
            raise DataError(f"generation metrics compare strings, got {type(value).__name__}: {value!r}")


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD v1.1 token F1 of one answer; CJK text is compared character by character."""
    predicted = answer_tokens(prediction)
    gold = answer_tokens(reference)
    common = Counter(predicted) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(predicted)
    recall = same / len(gold)
    return 2 * precision * recall / (precision + recall)


def string_f1(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean SQuAD-style token F1 (MRC and keyword tasks)."""
    _check(predictions, references)
    if not references:
        return 0.0
    return sum(token_f1(p, r) for p, r in zip(predictions, references)) / len(references)


@functools.lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1"], tokenizer=CJKRougeTokenizer())


def rouge1(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-1 F-measure (rouge-score), with CJK characters as tokens."""
    _check(predictions, references)
    if not references:
        return 0.0
    scorer = _rouge_scorer()
    return sum(scorer.score(r, p)["rouge1"].fmeasure for p, r in zip(predictions, references)) / len(references)


def pos_f1(predictions: Sequence[str], references: Sequence[str]) -> float:
    """The paper's Pos-F1 for NER: mean string F1 over positive samples.

    A sample is positive when its reference is not ``"blank"``. When the set has
    no positive sample, Pos-F1 is undefined; this then returns the share of
    predictions that are exactly ``"blank"``, so a prompt that makes the model
    invent entities still scores lower.
    """
    _check(predictions, references)
    positives = [(p, r) for p, r in zip(predictions, references) if r.strip().lower() != BLANK_TARGET]
    if positives:
        return sum(token_f1(p, r) for p, r in positives) / len(positives)
    if not references:
        return 0.0
    return sum(p.strip().lower() == BLANK_TARGET for p in predictions) / len(predictions)
