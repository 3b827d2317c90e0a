"""benchmarks/gps_generalization_tasks.py: the task rule, on a small catalog built here."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from tests.experiments.conftest import benchmark_module


@pytest.fixture(scope="module")
def rule():
    yield from benchmark_module("gps_generalization_tasks")


def _example(text, target, candidates=()):
    return SimpleNamespace(inputs={"X": text}, target=target, candidates=tuple(candidates))


class _Catalog:
    """Tasks and their test examples, as a TaskCatalog answers for them."""

    def __init__(self, tasks, examples):
        self._tasks, self._examples = {t.name: t for t in tasks}, examples

    def tasks(self):
        return list(self._tasks.values())

    def get(self, name):
        return self._tasks[name]

    def examples(self, name, split):
        assert split == "test"
        return self._examples[name]


def _task(name, *, metric="micro_f1", labels=(), multiple_choice=False, language="en", type="QA"):
    return SimpleNamespace(name=name, type=type, language=language, metric=metric, labels=tuple(labels),
                           multiple_choice=multiple_choice)


@pytest.fixture
def small(tmp_path):
    tasks = [
        _task("spam", metric="auc", labels=("ham", "spam"), type="SPAM"),
        _task("topics", labels=("a", "b", "c"), type="TOPIC", language="zh"),
        _task("exam", multiple_choice=True),
        _task("story", type="GEN"),  # generation
        _task("german", labels=("x", "y"), language="de"),  # rank classification, but not en/zh
        _task("tiny", labels=("x", "y")),
        _task("long", labels=("x", "y")),
    ]
    examples = {
        "spam": [_example("win now", "spam")] * 40,
        "topics": [_example("t", "a")] * 30 + [_example("t", "b")] * 10,  # majority share 75%
        "exam": [_example("q", "o1", ["o1", "o2"])] * 20 + [_example("q", "o1", ["o1", "o2", "o3", "o4"])] * 20,
        "story": [_example("once", "upon")] * 40,
        "german": [_example("hallo", "x")] * 40,
        "tiny": [_example("hi", "x")] * 10,
        "long": [_example("w" * 700, "x")] * 40,
    }
    split = tmp_path / "split.yaml"
    split.write_text(yaml.safe_dump({"train": {}, "test": {
        "SPAM": ["spam"], "TOPIC": ["topics"], "QA": ["exam", "tiny", "long", "german"], "GEN": ["story"]}}))
    return _Catalog(tasks, examples), split


def test_chance_is_the_score_of_a_predictor_that_ignores_the_input(rule, small):
    catalog, _ = small
    assert rule.chance_points(catalog.get("spam"), catalog.examples("spam", "test")) == 50.0
    assert rule.chance_points(catalog.get("topics"), catalog.examples("topics", "test")) == 75.0  # always "a"
    assert rule.chance_points(catalog.get("exam"), catalog.examples("exam", "test")) == 37.5  # (1/2 + 1/4) / 2


def test_candidates_follow_the_catalog_rule(rule, small):
    catalog, split = small
    kept, dropped = rule.candidates(catalog, split)
    assert sorted(kept) == ["exam", "spam", "topics"]
    assert dropped == {
        "story": "generation (not rank classification)",
        "german": "language de",
        "tiny": "10 test examples (< 30)",
        "long": "inputs of 700 characters on average (> 600)",
    }


def test_the_screen_keeps_tasks_whose_best_handcrafted_prompt_beats_chance_by_the_margin(rule, small):
    catalog, _ = small
    record = {"tasks": {
        "spam": {"manual": [{"test": 0.52}, {"test": 0.531}]},  # best 53.1 = chance 50 + 3.1: kept
        "topics": {"manual": [{"test": 0.77}, {"test": 0.60}]},  # best 77 < 75 + 3: dropped
        "exam": {"manual": [{"test": None}, {"test": 0.60}]},  # 60 against 37.5: kept
    }}
    result = rule.screen(record, catalog)
    assert result["kept"] == ["exam", "spam"] and list(result["dropped"]) == ["topics"]
    assert result["dropped"]["topics"]["above_chance"] == pytest.approx(2.0)
    assert result["scores"]["spam"]["best_manual_test"] == pytest.approx(53.1)
    assert result["types"] == ["QA", "SPAM"] and "chance + 3.0 points" in result["rule"]


def test_the_train_side_gives_at_most_per_type_candidates(rule, small, tmp_path):
    catalog, _ = small
    split = tmp_path / "train_side.yaml"
    catalog._tasks["exam2"] = _task("exam2", multiple_choice=True)
    catalog._examples["exam2"] = catalog.examples("exam", "test")
    split.write_text(yaml.safe_dump({"test": {}, "train": {"QA": ["exam", "exam2"], "SPAM": ["spam"], "TOPIC": ["topics"]}}))
    kept, dropped = rule.candidates(catalog, split, side="train", per_type=1)
    assert kept == ["exam", "spam", "topics"]
    assert dropped == {"exam2": "1 QA candidates already (the train side's cap per type)"}


def test_fill_adds_the_rarest_types_first_until_the_target(rule):
    types = {"a": "QA", "b": "QA", "c": "SENTI", "d": "QA", "e": "NEWS", "f": "SENTI"}
    assert rule.fill(["a", "b"], ["d", "f", "c", "e"], types, target=5) == ["a", "b", "c", "e", "f"]
    assert rule.fill(["a"], ["c"], types, target=5) == ["a", "c"]  # fewer than the target: all of them
    assert rule.fill(["a", "b", "c"], ["e"], types, target=2) == ["a", "b", "c"]  # never drops a kept task
