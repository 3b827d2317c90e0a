"""Every built-in metric against its reference implementation, on real examples."""

from __future__ import annotations

import collections
import re
import string

import pytest
from rouge_score import rouge_scorer
from sklearn.metrics import f1_score, roc_auc_score

from zp_evolve.errors import DataError
from zp_evolve.plugins import load_plugins
from zp_metrics.classification import accuracy, auc, micro_f1
from zp_metrics.generation import pos_f1, rouge1, string_f1
from zp_metrics.text import CJKRougeTokenizer


# --- the SQuAD v1.1 evaluation script, written out ---------------------------
def squad_normalize(s: str) -> str:
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction: str, ground_truth: str) -> float:
    prediction_tokens = squad_normalize(prediction).split()
    ground_truth_tokens = squad_normalize(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


# Answers to SQuAD v1.1 dev questions (Super Bowl 50 article) and model-like guesses.
SQUAD_PAIRS = [
    ("Denver Broncos", "Denver Broncos"),
    ("the Carolina Panthers", "Carolina Panthers"),
    ("Santa Clara, California", "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."),
    ("gold", "golden anniversary"),
    ("February 7, 2016", "February 7"),
    ("Beyoncé and Bruno Mars", "Coldplay"),
    ("an American football game", "American Football Conference"),
]

# CMRC 2018 style: Chinese answers and guesses.
ZH_PAIRS = [
    ("微信转账是有限额的", "微信转账是有限额的。用微信零钱转账最高可以1W元"),
    ("1W元", "最高可以转账5W元"),
    ("青岛海牛队，广州松日队", "青岛海牛队, 广州松日队"),
    ("北京", "上海"),
]


def cmrc_f1(prediction: str, reference: str) -> float:
    """Character F1 as the CMRC 2018 script computes it for pure-Chinese text."""
    punctuation = set("，。：？！“”、；（）《》 ,.!?:;'\"()")
    pred = [c for c in prediction.lower() if c not in punctuation]
    gold = [c for c in reference.lower() if c not in punctuation]
    # CMRC keeps runs of Latin letters and digits as one token.
    def segment(chars):
        out, run = [], ""
        for c in chars:
            if re.match(r"[a-z0-9]", c):
                run += c
            else:
                if run:
                    out.append(run)
                    run = ""
                out.append(c)
        return out + ([run] if run else [])

    pred, gold = segment(pred), segment(gold)
    common = collections.Counter(pred) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def test_string_f1_matches_squad_v11_script():
    preds, refs = zip(*SQUAD_PAIRS)
    expected = sum(squad_f1(p, r) for p, r in SQUAD_PAIRS) / len(SQUAD_PAIRS)
    assert string_f1(list(preds), list(refs)) == pytest.approx(expected)
    assert string_f1(["Denver Broncos"], ["Denver Broncos"]) == 1.0
    assert 0.0 < expected < 1.0


def test_string_f1_counts_chinese_by_character():
    for prediction, reference in ZH_PAIRS:
        assert string_f1([prediction], [reference]) == pytest.approx(cmrc_f1(prediction, reference))
    # Punctuation differences alone do not matter.
    assert string_f1(["青岛海牛队，广州松日队"], ["青岛海牛队, 广州松日队"]) == 1.0
    assert string_f1(["北京"], ["上海"]) == 0.0


# --- ROUGE-1 -------------------------------------------------------------------
# XSum-style reference summaries and system outputs.
EN_SUMMARIES = [
    (
        "A man has been charged with murder after a woman was found dead in a flat in Glasgow.",
        "Police have charged a man with murder following the death of a woman in Glasgow.",
    ),
    (
        "The Canon EOS 60D is a good choice for anyone who wants a mid-range DSLR camera.",
        "Canon's 60D, a mid-market 18-megapixel DSLR, now costs 9,700 yuan.",
    ),
    ("Crows returned kindness with gifts to a girl who fed them.", "An Italian girl feeds snacks to crows who return kindness with gifts."),
]
ZH_SUMMARIES = [
    ("意大利女童用零食喂乌鸦，乌鸦送礼物报恩", "意大利女童喂乌鸦收到乌鸦送的礼物"),
    ("佳能60D套机降至9700元", "佳能60D单反降价至9700元"),
]


def test_rouge1_matches_rouge_score_on_english():
    scorer = rouge_scorer.RougeScorer(["rouge1"])  # the library default: no stemming
    preds, refs = zip(*EN_SUMMARIES)
    expected = sum(scorer.score(r, p)["rouge1"].fmeasure for p, r in EN_SUMMARIES) / len(EN_SUMMARIES)
    assert rouge1(list(preds), list(refs)) == pytest.approx(expected)
    for _, reference in EN_SUMMARIES:
        assert CJKRougeTokenizer().tokenize(reference) == scorer._tokenizer.tokenize(reference)


def test_rouge1_scores_chinese_that_the_default_tokenizer_drops():
    default = rouge_scorer.RougeScorer(["rouge1"])
    prediction, reference = ZH_SUMMARIES[0]
    assert default.score(reference, prediction)["rouge1"].fmeasure == 0.0  # why the custom tokenizer exists

    # Reference: spell every Chinese character as an ASCII word the default tokenizer keeps.
    def spell(text: str) -> str:
        return "".join(f" u{ord(c):x} " if 0x4E00 <= ord(c) <= 0x9FFF else c for c in text)

    expected = sum(
        default.score(spell(r), spell(p))["rouge1"].fmeasure for p, r in ZH_SUMMARIES
    ) / len(ZH_SUMMARIES)
    preds, refs = zip(*ZH_SUMMARIES)
    assert rouge1(list(preds), list(refs)) == pytest.approx(expected)
    assert 0.3 < expected < 1.0


# --- Pos-F1 --------------------------------------------------------------------
def test_pos_f1_averages_string_f1_over_positive_samples():
    # MSRA-style NER queries: one per (sentence, entity type).
    references = ["青岛海牛队, 广州松日队", "blank", "中国", "blank", "江泽民"]
    predictions = ["青岛海牛队", "北京", "中国", "blank", "blank"]
    expected = (cmrc_f1("青岛海牛队", "青岛海牛队 广州松日队") + 1.0 + 0.0) / 3
    assert pos_f1(predictions, references) == pytest.approx(expected)
    # Negatives never change the score.
    assert pos_f1(predictions[:1] + ["anything"] + predictions[2:], references) == pytest.approx(expected)


def test_pos_f1_without_positives_rewards_blank_answers():
    assert pos_f1(["blank", "Apple"], ["blank", "blank"]) == 0.5


# --- classification ------------------------------------------------------------
# Log-likelihoods a small LM gave to "negative"/"positive" for Rotten Tomatoes reviews.
RT_SCORES = [
    {"rotten": -2.31, "fresh": -1.02},
    {"rotten": -0.88, "fresh": -1.95},
    {"rotten": -1.40, "fresh": -1.41},
    {"rotten": -2.02, "fresh": -0.71},
    {"rotten": -1.10, "fresh": -1.33},
    {"rotten": -0.95, "fresh": -0.97},
]
RT_LABELS = ["fresh", "rotten", "fresh", "fresh", "rotten", "rotten"]


def test_auc_matches_scikit_learn_and_the_pairwise_definition():
    decisions = [s["fresh"] - s["rotten"] for s in RT_SCORES]
    truth = [int(label == "fresh") for label in RT_LABELS]
    expected = roc_auc_score(truth, decisions)
    assert auc(RT_SCORES, RT_LABELS) == pytest.approx(expected)
    # The Mann-Whitney form: share of (positive, negative) pairs ranked correctly.
    pos = [d for d, t in zip(decisions, truth) if t]
    neg = [d for d, t in zip(decisions, truth) if not t]
    pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert auc(RT_SCORES, RT_LABELS) == pytest.approx(pairs)


def test_auc_with_one_class_is_chance():
    assert auc(RT_SCORES[:2], ["fresh", "fresh"]) == 0.5


def test_auc_rejects_more_than_two_labels():
    with pytest.raises(DataError, match="micro_f1"):
        auc([{"a": 0.0, "b": 1.0, "c": 2.0}], ["a"])


TREC_SCORES = [
    {"ABBR": -3.0, "DESC": -1.0, "ENTY": -2.0, "HUM": -2.5, "LOC": -4.0, "NUM": -3.5},
    {"ABBR": -3.0, "DESC": -2.0, "ENTY": -2.0, "HUM": -0.5, "LOC": -4.0, "NUM": -3.5},
    {"ABBR": -3.0, "DESC": -2.0, "ENTY": -1.0, "HUM": -2.5, "LOC": -0.1, "NUM": -3.5},
    {"ABBR": -3.0, "DESC": -2.0, "ENTY": -1.0, "HUM": -2.5, "LOC": -4.0, "NUM": -3.5},
    {"ABBR": -3.0, "DESC": -1.0, "ENTY": -1.0, "HUM": -2.5, "LOC": -4.0, "NUM": -3.5},  # tie: DESC first
]
TREC_LABELS = ["DESC", "HUM", "LOC", "NUM", "ENTY"]


def test_micro_f1_matches_scikit_learn_on_argmax_labels():
    predicted = ["DESC", "HUM", "LOC", "ENTY", "DESC"]
    expected = f1_score(TREC_LABELS, predicted, average="micro")
    assert micro_f1(TREC_SCORES, TREC_LABELS) == pytest.approx(expected) == pytest.approx(0.6)
    assert accuracy(TREC_SCORES, TREC_LABELS) == pytest.approx(0.6)


def test_accuracy_compares_generated_strings():
    assert accuracy(["Paris ", "london"], ["Paris", "London"]) == 0.5


def test_metrics_reject_mismatched_lengths():
    with pytest.raises(DataError):
        micro_f1(TREC_SCORES, TREC_LABELS[:2])
    with pytest.raises(DataError):
        rouge1(["a"], [])


def test_metrics_are_registered():
    registry = load_plugins()["metrics"]
    for name in ("auc", "micro_f1", "accuracy", "rouge1", "string_f1", "pos_f1"):
        assert registry.get(name).plugin == "zp_metrics"
    assert registry.get("rouge1").factory(["佳能60D"], ["佳能60D"]) == 1.0
