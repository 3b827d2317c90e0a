"""Algorithm 1 semantics, checked against the event log of real toy runs."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

from tests import toy_plugin
from zp_evolve import hookimpl


def test_reproductive_group_is_top_k_of_current_generation(run_gps):
    summary, run_dir = run_gps(generations=3, top_k=2, children_per_parent=2)
    events = [e for e in run_dir.events() if e["split"] == "dev"]
    by_gen: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for e in events:
        by_gen[(e["task"], e["generation"])].append(e)
    for (task, gen), scored in by_gen.items():
        children = by_gen.get((task, gen + 1), [])
        if not children:
            continue
        ranked = sorted(scored, key=lambda e: -e["fitness"])
        top_k = {e["prompt"] for e in ranked[:2]}
        # every child of generation t+1 descends from G*^t, the top K of G^t only
        assert {c["parent"] for c in children} <= top_k
        assert all(c["operator"] != "manual" for c in children)


def test_final_answer_is_top_k_over_all_generations(run_gps):
    summary, run_dir = run_gps(generations=3, top_k=3)
    events = [e for e in run_dir.events() if e["split"] == "dev"]
    for task, result in summary["tasks"].items():
        scores = sorted((e["fitness"] for e in events if e["task"] == task), reverse=True)
        assert [entry["dev"] for entry in result["top_k"]] == scores[:3]
        for entry in result["top_k"]:  # each entry names the generation that scored it
            assert {e["generation"] for e in events if e["task"] == task and e["prompt"] == entry["prompt"]} == {entry["generation"]}
    # drawn from G^0..G^T, not only the last generation: here an earlier prompt outranks part of G^T
    assert any(entry["generation"] < 3 for result in summary["tasks"].values() for entry in result["top_k"])


def test_generations_scored_are_g0_to_gT(run_gps):
    summary, run_dir = run_gps(generations=2)
    gens = {e["generation"] for e in run_dir.events() if e["split"] == "dev"}
    assert gens == {0, 1, 2}
    assert summary["generations_scored"] == 3
    assert summary["stop_reason"] == "reached generation T=2"


def test_g0_is_each_tasks_handcrafted_prompts(run_gps):
    summary, run_dir = run_gps(generations=0)
    provider = toy_plugin.ToyProvider()
    expected = {t.name: list(t.prompts) for t in provider.tasks()}
    for task, result in summary["tasks"].items():
        assert [m["prompt"] for m in result["manual"]] == expected[task]
        assert all(m["operator"] == "manual" and m["generation"] == 0 for m in result["manual"])


def test_config_prompts_replace_g0(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=1)
    raw["tasks"]["prompts"] = {"toy_sentiment": ["Text: [X] Label: _", "[X] => _"]}
    summary, _ = run_gps(raw=raw)
    assert [m["prompt"] for m in summary["tasks"]["toy_sentiment"]["manual"]] == ["Text: [X] Label: _", "[X] => _"]


def test_test_split_scores_for_final_top_k_and_manual(run_gps):
    summary, run_dir = run_gps(generations=1)
    test_events = [e for e in run_dir.events() if e["split"] == "test"]
    for task, result in summary["tasks"].items():
        for entry in result["top_k"] + result["manual"]:
            # the toy fitness adds 0.05 on the test split, so test = dev + 0.05 exactly
            assert math.isclose(entry["test"], entry["dev"] + 0.05, rel_tol=0, abs_tol=1e-9)
        assert {e["prompt"] for e in test_events if e["task"] == task} == {
            e["prompt"] for e in result["top_k"] + result["manual"]
        }
    assert all(e["generation"] == "final" for e in test_events)


def test_operator_weights_steer_allocation(tmp_path, run_gps):
    raw = toy_plugin.toy_config(tmp_path, generations=2)
    raw["mutators"] = [{"name": "append_word", "weight": 1}]
    summary, _ = run_gps(raw=raw)
    assert set(summary["operators"]) == {"append_word", "manual"}
    stats = summary["operators"]["append_word"]
    # 2 tasks x K=2 parents x 2 children x 2 breeding rounds, every slot filled by the only operator
    assert stats["proposed"] == 2 * 2 * 2 * 2


class _StopAfterOne:
    """A lifecycle plugin: records every hook call and stops after generation 1."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    @hookimpl
    def zp_run_start(self, run):
        self.calls.append(("start", run.name))

    @hookimpl
    def zp_generation_end(self, run, generation, records):
        self.calls.append(("generation", generation, sorted(r["task"] for r in records)))

    @hookimpl
    def zp_should_stop(self, run, generation, records):
        return "enough for this test" if generation == 1 else None

    @hookimpl
    def zp_run_end(self, run, summary):
        self.calls.append(("end", summary["stop_reason"]))


def test_lifecycle_hooks_and_stopping_rule(run_gps):
    stopper = _StopAfterOne()
    summary, _ = run_gps(extra=(toy_plugin, stopper), generations=5)
    assert summary["stop_reason"] == "enough for this test"
    assert summary["generations_scored"] == 2
    assert stopper.calls == [
        ("start", "toy"),
        ("generation", 0, ["toy_pair", "toy_sentiment"]),
        ("generation", 1, ["toy_pair", "toy_sentiment"]),
        ("end", "enough for this test"),
    ]


def _rows(*values):
    return [{"task": "t", "top_k_mean": v} for v in values]


def test_patience_rule_of_the_basic_plugin():
    from zp_gps.plugin import zp_should_stop

    def run(history, patience=2):
        return SimpleNamespace(
            config=SimpleNamespace(search=SimpleNamespace(patience=patience, top_k=4)),
            state=SimpleNamespace(history=[_rows(v) for v in history]),
        )

    assert zp_should_stop(run([0.1, 0.2, 0.3]), 2, []) is None  # still improving
    assert zp_should_stop(run([0.1, 0.3, 0.3, 0.3]), 3, []) is not None  # flat for 2 generations
    assert zp_should_stop(run([0.3, 0.3]), 1, []) is None  # not enough history yet
    assert zp_should_stop(run([0.3, 0.3, 0.3], patience=None), 2, []) is None
