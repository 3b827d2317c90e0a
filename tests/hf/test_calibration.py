"""Contextual calibration's arithmetic against Zhao et al. (2021)'s own (run_classification.py)."""

import math

import numpy as np
import pytest

from zp_hf.calibration import calibrate_all, label_prior

# Raw label log-probabilities a scorer gives; the two content-free inputs carry different
# total mass, which is where averaging raw and averaging normalised probabilities differ.
CONTENT_FREE = [{"a": math.log(0.6), "b": math.log(0.2)}, {"a": math.log(0.1), "b": math.log(0.1)}]
PREDICTIONS = [{"a": math.log(0.5), "b": math.log(0.3)}, {"a": math.log(0.9), "b": math.log(0.05)}]


def zhao_reference(label_probs, content_free_probs):
    """Their get_p_content_free and eval_accuracy (mode diagonal_W), in numpy."""
    p_cf = np.mean(np.array(content_free_probs), axis=0)
    p_cf = p_cf / np.sum(p_cf)
    W = np.linalg.inv(np.identity(len(p_cf)) * p_cf)
    out = []
    for probs in np.array(label_probs):
        probs = probs / np.sum(probs)
        calibrated = (W @ probs[:, None])[:, 0]
        out.append(calibrated / calibrated.sum())
    return np.array(out)


def test_the_prior_is_the_mean_raw_probability_normalised():
    prior = label_prior(CONTENT_FREE)
    # by hand: mean raw (0.35, 0.15) -> (0.7, 0.3); averaging normalised ones would give (0.625, 0.375)
    assert math.exp(prior["a"]) == pytest.approx(0.7) and math.exp(prior["b"]) == pytest.approx(0.3)


def test_calibrated_predictions_match_the_papers_code():
    ours = calibrate_all(PREDICTIONS, CONTENT_FREE)
    reference = zhao_reference([[math.exp(p["a"]), math.exp(p["b"])] for p in PREDICTIONS],
                               [[math.exp(p["a"]), math.exp(p["b"])] for p in CONTENT_FREE])
    assert np.allclose([[math.exp(p["a"]), math.exp(p["b"])] for p in ours], reference)
    # by hand, the first: (0.625 / 0.7, 0.375 / 0.3) normalised = (0.4167, 0.5833): the argmax moves to b
    assert math.exp(ours[0]["b"]) == pytest.approx(0.5833, abs=1e-4) and max(ours[0], key=ours[0].get) == "b"
    assert max(ours[1], key=ours[1].get) == "a"  # a strong preference survives the prior
