"""Normalised label scores and prompt ensembles."""

from __future__ import annotations

import math

import pytest

from zp_evolve.ensemble import ensemble_label_scores, normalised_label_scores


def test_normalised_scores_are_log_probabilities_that_keep_the_ranking():
    scores = normalised_label_scores({"neg": -12.0, "pos": -10.0, "neutral": -11.0})
    assert math.isclose(sum(math.exp(v) for v in scores.values()), 1.0, rel_tol=1e-12)
    assert sorted(scores, key=scores.get) == ["neg", "neutral", "pos"]
    # a shift of every raw score (a prompt that makes the answer slot less likely) changes nothing
    shifted = normalised_label_scores({"neg": -22.0, "pos": -20.0, "neutral": -21.0})
    assert all(math.isclose(scores[k], shifted[k]) for k in scores)


def test_ensemble_is_the_mean_of_normalised_members():
    a = {"neg": -1.0, "pos": -3.0}
    b = {"neg": -40.0, "pos": -30.0}
    combined = ensemble_label_scores([a, b])
    na, nb = normalised_label_scores(a), normalised_label_scores(b)
    for label in ("neg", "pos"):
        assert math.isclose(combined[label], (na[label] + nb[label]) / 2)
    # b is far more confident (10 nats) than a (2 nats), so it decides the argmax
    assert max(combined, key=combined.get) == "pos"


def test_ensemble_rejects_members_with_other_labels():
    with pytest.raises(ValueError, match="different labels"):
        ensemble_label_scores([{"a": 0.0, "b": -1.0}, {"a": 0.0, "c": -1.0}])
    with pytest.raises(ValueError, match="at least one"):
        ensemble_label_scores([])
