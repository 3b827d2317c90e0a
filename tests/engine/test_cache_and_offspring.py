"""Dedup, the fitness cache, rejection counts and determinism."""

from __future__ import annotations

import copy
import json
import pickle
from collections import Counter

from tests import toy_plugin
from zp_evolve.prompts import normalize
from zp_gps.individual import PromptIndividual
from zp_gps.offspring import rejection_reason


def test_no_prompt_is_scored_twice_for_a_task(run_gps):
    _, run_dir = run_gps(generations=4, top_k=2, children_per_parent=3)
    events = [e for e in run_dir.events() if e["split"] == "dev"]
    counts = Counter((e["task"], normalize(e["prompt"])) for e in events)
    assert counts and max(counts.values()) == 1


def test_persistent_cache_serves_a_second_run(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=2)
    raw["cache"] = {"dir": str(tmp_path / "cache")}
    first, first_dir = run_gps("first", raw=copy.deepcopy(raw))
    toy_plugin.TextFitness.calls.clear()
    second, second_dir = run_gps("second", raw=copy.deepcopy(raw))
    assert toy_plugin.TextFitness.calls == []  # nothing scored again
    assert all(e["cached"] for e in second_dir.events())
    assert first["tasks"] == second["tasks"]


def test_persistent_cache_serves_the_mutations_too(tmp_path, run_gps, monkeypatch):
    raw = toy_plugin.toy_config(tmp_path, generations=2)
    raw["cache"] = {"dir": str(tmp_path / "cache")}
    calls = []
    mutate = toy_plugin.AppendWord.mutate
    monkeypatch.setattr(toy_plugin.AppendWord, "mutate", lambda self, parents, **kw: calls.append(1) or mutate(self, parents, **kw))
    first, _ = run_gps("first", raw=copy.deepcopy(raw))
    assert calls  # the first run called the mutator
    calls.clear()
    second, _ = run_gps("second", raw=copy.deepcopy(raw))
    assert calls == []  # the same calls (parents, task, seed, spec): children from the cache
    assert first["tasks"] == second["tasks"]
    other = copy.deepcopy(raw)
    other["mutators"][0]["words"] = ["quite", "very"]  # another spec: the cache does not answer for it
    run_gps("other", raw=other)
    assert calls
    calls.clear()
    off = copy.deepcopy(raw)
    off["cache"]["mutations"] = False
    assert run_gps("off", raw=off)[0]["tasks"] == first["tasks"]
    assert calls  # with mutations: false every call runs


def test_cache_key_covers_dev_set_and_fitness(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=0)
    raw["cache"] = {"dir": str(tmp_path / "cache")}
    run_gps("a", raw=copy.deepcopy(raw))
    toy_plugin.TextFitness.calls.clear()
    changed = copy.deepcopy(raw)
    changed["tasks"]["dev"] = {"size": 8}  # another dev set: another key
    run_gps("b", raw=changed)
    assert sum(toy_plugin.TextFitness.calls) > 0
    toy_plugin.TextFitness.calls.clear()
    changed = copy.deepcopy(raw)
    changed["fitness"] = {"name": "text_fitness", "delay": 0.0001}  # another fitness config
    run_gps("c", raw=changed)
    assert sum(toy_plugin.TextFitness.calls) > 0


def test_rejections_are_counted_per_operator_and_reason(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=1, top_k=2, children_per_parent=1)
    raw["mutators"] = [{"name": "break_placeholders"}]
    summary, _ = run_gps(raw=raw)
    stats = summary["operators"]["break_placeholders"]
    slots = 2 * 2 * 1  # tasks x K x children per parent
    assert stats["proposed"] == 5 * slots
    assert stats["accepted"] == 0
    assert stats["rejected"] == {"duplicate": slots, "empty": slots, "lost_blank": slots, "lost_placeholder": slots, "too_long": slots}
    # no valid offspring at all: every task stops, and the run says why
    assert summary["stop_reason"] == "no valid offspring left in any task"


def test_rejection_reasons():
    seen = {normalize("Review: [X] Sentiment: _")}
    check = lambda child, required=("X",): rejection_reason(child, "Review: [X] Sentiment: _", required=required, max_chars=60, seen=seen)  # noqa: E731
    assert check("") == "empty"
    assert check("Review: Sentiment: _") == "lost_placeholder"
    assert check("Review: [X] [X2] Sentiment: _") == "extra_placeholder"
    assert check("Review: [X] Sentiment:") == "lost_blank"
    assert check("Review: [X] _ Sentiment: _") == "lost_blank"
    assert check("Review: [X] " + "very " * 20 + "Sentiment: _") == "too_long"
    assert check("Review:  [X]   Sentiment: _ ") == "duplicate"
    assert check("Critique: [X] Sentiment: _") is None
    assert check("[X1] and [X2]: _", required=("X1", "X2")) is None
    assert check("[X1] and: _", required=("X1", "X2")) == "lost_placeholder"


def test_same_seed_same_summary(tmp_path, run_gps):
    a, _ = run_gps("a", generations=3)
    b, _ = run_gps("b", generations=3)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_individuals_pickle_and_copy_with_lineage():
    individual = PromptIndividual("[X] is _", task="t", generation=2, operator="edit", parent="[X] was _")
    individual.fitness.values = (0.75,)
    for clone in (pickle.loads(pickle.dumps(individual)), copy.deepcopy(individual)):
        assert clone == "[X] is _" and isinstance(clone, PromptIndividual)
        assert (clone.task, clone.generation, clone.operator, clone.parent) == ("t", 2, "edit", "[X] was _")
        assert clone.fitness.values == (0.75,)
        assert clone.fitness is not individual.fitness
