"""Selection strategies (docs/gps.md, "Selection"), checked with deterministic scorers."""

from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from tests import toy_plugin
from tests.conftest import cut_search, gps_search
from zp_evolve.ensemble import ensemble_label_scores
from zp_evolve.errors import RunError
from zp_evolve.rundir import RunDirectory
from zp_evolve.tasks import EvalTask, Example, Task
from zp_gps.schema import SelectionConfig
from zp_gps.selection import SelectionPolicy, holdout_partition, strategy_name
from zp_metrics.classification import accuracy


def example_config(tmp_path, selection=None, fitness=None, **search):
    raw = toy_plugin.toy_config(tmp_path, **{"generations": 3, "top_k": 2, **search})
    raw["fitness"] = fitness or {"name": "example_fitness"}
    raw["mutators"] = [{"name": "append_word"}]
    if selection is not None:
        raw["selection"] = {"answer": "best", **selection}
    return raw


def run(tmp_path, name, raw, echo=None):
    search = gps_search(tmp_path / name, raw, extra=[toy_plugin])
    if echo is not None:
        search.echo = echo
    return search.run(), search


def read_events(run_dir: RunDirectory) -> list[dict]:
    return list(run_dir.events())


def breeding_history(run_dir_events):
    """Per (task, generation): the scored prompts with their parents and operators."""
    history = defaultdict(set)
    for e in run_dir_events:
        if e["split"] == "dev":
            history[(e["task"], e["generation"])].add((e["prompt"], e["parent"], e["operator"]))
    return dict(history)


def test_holdout_part_never_reaches_breeding(tmp_path):
    raw = example_config(tmp_path, selection={"holdout": 0.5})
    summary, search = run(tmp_path, "a", raw)
    partitions = {name: search.selection.partition(task) for name, task in search.eval_tasks.items()}
    held = [f"{n}|{search.eval_tasks[n].dev[i].source}" for n, p in partitions.items() for i in p.holdout]
    bred = [f"{n}|{search.eval_tasks[n].dev[i].source}" for n, p in partitions.items() for i in p.breed]
    assert held and bred and not set(held) & set(bred)

    # what the held-out examples say changes nothing that breeding did ...
    raw_held = example_config(tmp_path, selection={"holdout": 0.5}, fitness={"name": "example_fitness", "flip_sources": held})
    summary_held, _ = run(tmp_path, "b", raw_held)
    history = breeding_history(read_events(RunDirectory(tmp_path / "a")))
    assert breeding_history(read_events(RunDirectory(tmp_path / "b"))) == history
    for name in summary["tasks"]:
        first, second = summary["tasks"][name], summary_held["tasks"][name]
        assert {e["prompt"]: e["breed"] for e in first["top_k"]} == {e["prompt"]: e["breed"] for e in second["top_k"]}
        # ... while the final ranking reads them: every held-out answer flipped
        assert [e["holdout"] for e in first["top_k"]] != [e["holdout"] for e in second["top_k"]]

    # the control: flipping breeding examples does change the search
    raw_bred = example_config(tmp_path, selection={"holdout": 0.5}, fitness={"name": "example_fitness", "flip_sources": bred})
    run(tmp_path, "c", raw_bred)
    assert breeding_history(read_events(RunDirectory(tmp_path / "c"))) != history


def test_holdout_answer_is_the_pool_ranked_on_the_held_out_part(tmp_path):
    raw = example_config(tmp_path, selection={"holdout": 0.5, "pool": 4}, top_k=2)
    summary, search = run(tmp_path, "run", raw)
    for name, result in summary["tasks"].items():
        assert result["dev_parts"] == {"breed": 16, "holdout": 16}
        state = search.scoring.judged
        pool = [p for (task, p), j in state.items() if task == name and j.breed is not None]
        best_breed = sorted(pool, key=lambda p: -state[(name, p)].breed)[:4]
        expected = sorted(best_breed, key=lambda p: -state[(name, p)].holdout)
        assert [e["holdout"] for e in result["top_k"]] == [state[(name, p)].holdout for p in expected[:2]]
        assert result["answer"]["prompts"] == [result["top_k"][0]["prompt"]]


def test_holdout_partition_is_stratified_and_seeded():
    task = Task("t", "SENTI", "en", ("X",), ("neg", "pos"), ("bad", "good"), "accuracy", ("[X] _",))
    dev = tuple(Example({"X": str(i)}, "pos" if i % 4 == 0 else "neg", source=str(i)) for i in range(32))
    part = holdout_partition(EvalTask(task, dev), 0.5, seed=1)
    assert len(part.holdout) == 16 and len(part.breed) == 16
    held_labels = [dev[i].target for i in part.holdout]
    assert held_labels.count("pos") == 4  # 8 positives: half of them held out
    assert holdout_partition(EvalTask(task, dev), 0.5, seed=1) == part
    assert holdout_partition(EvalTask(task, dev), 0.5, seed=2) != part
    assert len(holdout_partition(EvalTask(task, dev), 8, seed=1).holdout) == 8
    with pytest.raises(RunError, match="holdout"):
        holdout_partition(EvalTask(task, dev), 32, seed=1)


def _mean_metric(predictions, references):
    return statistics.fmean(predictions)


def test_lcb_ranks_a_noisy_prompt_below_a_steady_one_with_the_same_mean():
    task = Task("t", "MRC", "en", ("X",), (), (), "mean", ("[X] _",))
    eval_task = EvalTask(task, tuple(Example({"X": str(i)}, "ref", source=str(i)) for i in range(32)))
    steady = [0.5] * 32
    noisy = [1.0, 0.0] * 16
    plain = SelectionPolicy(SelectionConfig(), top_k=2, seed=0, metrics=lambda name: _mean_metric)
    assert plain.judge(eval_task, 0.5, steady, "mean").fitness == plain.judge(eval_task, 0.5, noisy, "mean").fitness
    bound = SelectionPolicy(SelectionConfig(lcb=1.0), top_k=2, seed=0, metrics=lambda name: _mean_metric)
    judged_steady = bound.judge(eval_task, 0.5, steady, "mean")
    judged_noisy = bound.judge(eval_task, 0.5, noisy, "mean")
    assert judged_steady.fitness == pytest.approx(0.5) and judged_steady.stderr == pytest.approx(0.0)
    assert 0.05 < judged_noisy.stderr < 0.13  # about sqrt(0.25 / 32) = 0.088
    assert judged_noisy.fitness == pytest.approx(0.5 - judged_noisy.stderr)
    assert judged_noisy.fitness < judged_steady.fitness


def test_lcb_fitness_drives_the_search(tmp_path):
    summary, _ = run(tmp_path, "run", example_config(tmp_path, selection={"lcb": 2.0}))
    assert summary["selection"]["strategy"] == "lcb"
    for result in summary["tasks"].values():
        fitness = [e["fitness"] for e in result["top_k"]]
        assert fitness == sorted(fitness, reverse=True)
        for entry in result["top_k"]:
            assert entry["fitness"] == pytest.approx(entry["dev"] - 2.0 * entry["stderr"])


def test_ensemble_prediction_is_the_mean_of_its_members(tmp_path):
    raw = example_config(tmp_path, selection={"answer": "ensemble", "ensemble_size": 3}, top_k=3)
    summary, search = run(tmp_path, "run", raw)
    events = read_events(RunDirectory(tmp_path / "run"))
    assert summary["selection"]["strategy"] == "ensemble"
    for name, result in summary["tasks"].items():
        answer = result["answer"]
        assert answer["kind"] == "ensemble"
        assert answer["prompts"] == [e["prompt"] for e in result["top_k"]]
        for split in ("dev", "test"):
            members = [next(e["predictions"] for e in events if e["task"] == name and e["split"] == split and e["prompt"] == p)
                       for p in answer["prompts"]]
            combined = [ensemble_label_scores([m[i] for m in members]) for i in range(len(members[0]))]
            references = [x.target for x in search.eval_tasks[name].split(split)]
            assert answer[split] == pytest.approx(accuracy(combined, references))
        assert answer["dev_test_gap"] == pytest.approx(answer["dev"] - answer["test"])


def test_algorithm1_is_untouched_by_the_selection_machinery(tmp_path):
    """Defaults: fitness is the worker's value, the answer the top of the hall of fame."""
    summary, _ = run(tmp_path, "run", example_config(tmp_path))
    events = read_events(RunDirectory(tmp_path / "run"))
    assert summary["selection"]["strategy"] == "algorithm1"
    assert not any("predictions" in e for e in events)  # events stay as they were
    for name, result in summary["tasks"].items():
        scores = sorted((e["fitness"] for e in events if e["task"] == name and e["split"] == "dev"), reverse=True)
        assert [e["dev"] for e in result["top_k"]] == scores[:2]
        assert all("fitness" not in e for e in result["top_k"])
        assert result["answer"] == {
            "kind": "best", "prompts": [result["best"]["prompt"]], "dev": result["best"]["dev"],
            "test": result["best"]["test"], "dev_test_gap": result["best"]["dev"] - result["best"]["test"],
        }


def test_strategies_resume_to_the_same_summary(tmp_path):
    selection = {"holdout": 0.5, "lcb": 1.0, "answer": "ensemble"}
    whole, _ = run(tmp_path, "whole", example_config(tmp_path, selection=selection))
    raw = example_config(tmp_path, selection=selection)
    cut_search(tmp_path / "cut", raw, 2, extra=[toy_plugin])
    summary = gps_search(tmp_path / "cut", raw, extra=[toy_plugin]).run(resume=True)
    assert summary["tasks"] == whole["tasks"]


def test_selection_needs_a_fitness_that_reports_predictions(tmp_path):
    raw = example_config(tmp_path, selection={"holdout": 0.5}, fitness={"name": "text_fitness"})
    with pytest.raises(RunError, match="per-example predictions"):
        run(tmp_path, "run", raw)


def test_strategy_names():
    assert strategy_name(SelectionConfig()) == "ensemble"  # the default since issue 22
    assert strategy_name(SelectionConfig(answer="best")) == "algorithm1"
    assert strategy_name(SelectionConfig(holdout=0.5, lcb=1.0, answer="ensemble"), calibrate=True) == "holdout+lcb+ensemble+calibrate"
    assert strategy_name(SelectionConfig(holdout=8, rank_on="dev_debiased", answer="best")) == "holdout_debiased"


def test_one_class_dev_set_warns_and_counts_are_recorded(tmp_path):
    lines = []
    raw = example_config(tmp_path, generations=0)
    raw["tasks"]["dev"] = {"size": 1}
    summary, _ = run(tmp_path, "run", raw, echo=lines.append)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 2 and all("one class only" in w and "AUC is 0.5" in w for w in warnings)
    counts = summary["tasks"]["toy_sentiment"]["dev_class_counts"]
    assert sorted(counts.values()) == [0, 1]

    lines.clear()
    summary, _ = run(tmp_path, "run2", example_config(tmp_path, generations=0), echo=lines.append)
    assert not [line for line in lines if line.startswith("warning:")]
    assert summary["tasks"]["toy_sentiment"]["dev_class_counts"] == {"negative": 16, "positive": 16}


def test_reports_show_the_strategy_and_the_dev_test_gap(tmp_path):
    from zp_evolve.report.sweep_report import write_combined_report
    from zp_gps.run_report import write_run_report

    plain = {**example_config(tmp_path), "name": "plain"}
    held = {**example_config(tmp_path, selection={"holdout": 0.5, "answer": "ensemble", "ensemble_size": 2}), "name": "held"}
    summary_a, _ = run(tmp_path, "plain", plain)
    summary_b, _ = run(tmp_path, "held", held)
    text = write_run_report(tmp_path / "held").read_text()
    assert "Selection: `holdout+ensemble`" in text and "dev-test gap" in text
    assert "ensemble of 2" in text and "held out to rank the final pool" in text
    from zp_evolve.plugins import load_plugins

    report = write_combined_report([tmp_path / "plain", tmp_path / "held"], tmp_path / "both", load_plugins()).read_text()
    section = report.split("## Selection", 1)[1].split("##", 1)[0]
    gaps = {}
    for summary, label in ((summary_a, "plain | algorithm1"), (summary_b, "held | holdout+ensemble")):
        answers = [t["answer"] for t in summary["tasks"].values()]
        dev = statistics.fmean(a["dev"] for a in answers) * 100
        test = statistics.fmean(a["test"] for a in answers) * 100
        line = next(line for line in section.splitlines() if f"| {label} |" in line)
        assert [float(x) for x in line.strip(" |").split("|")[2:]] == pytest.approx([dev, test, dev - test], abs=1e-3)


def test_test_scoring_can_be_limited_to_the_answer(tmp_path):
    raw = example_config(tmp_path, top_k=3)
    raw["tasks"]["test"]["prompts"] = "answer"
    summary, _ = run(tmp_path, "answer_only", raw)
    tested = {(e["task"], e["prompt"]) for e in RunDirectory(tmp_path / "answer_only").events() if e["split"] == "test"}
    for name, task in summary["tasks"].items():
        assert task["answer"]["test"] is not None and all(m["test"] is not None for m in task["manual"])
        assert {p for t, p in tested if t == name} == {task["answer"]["prompts"][0], *(m["prompt"] for m in task["manual"])}
        assert [e["test"] is None for e in task["top_k"][1:]] == [e["prompt"] not in {m["prompt"] for m in task["manual"]} for e in task["top_k"][1:]]


def test_share_better_pairs_the_resamples():
    """A prompt right on every example the other gets wrong wins every resample; equal
    predictions tie (half); a prompt that is worse on some examples and never better loses."""
    task = Task("t", "MRC", "en", ("X",), (), (), "mean", ("[X] _",))
    eval_task = EvalTask(task, tuple(Example({"X": str(i)}, "ref", source=str(i)) for i in range(32)))
    policy = SelectionPolicy(SelectionConfig(beat_manual=0.9, resamples=50), top_k=2, seed=0, metrics=lambda name: _mean_metric)
    manual = [1.0, 0.0] * 16
    better = [1.0] * 32
    assert policy.share_better(eval_task, better, manual, "mean") == 1.0
    assert policy.share_better(eval_task, manual, manual, "mean") == 0.5
    worse = [1.0] * 16 + [0.0] * 16  # the same mean, but never above on an example, and below on 8
    assert policy.share_better(eval_task, [min(a, b) for a, b in zip(worse, manual)], manual, "mean") < 0.1


def test_beat_manual_answers_with_the_handcrafted_prompt_unless_the_search_beats_it(tmp_path):
    plain, _ = run(tmp_path, "plain", example_config(tmp_path, selection={"lcb": 0.0}))
    strict, _ = run(tmp_path, "strict", example_config(tmp_path, selection={"beat_manual": 0.99}))
    assert strict["selection"]["strategy"] == "beat_manual"
    decided = 0
    for name, result in strict["tasks"].items():
        answer, manual = result["answer"], result["manual_best_on_dev"]
        plain_answer = plain["tasks"][name]["answer"]
        guard = answer.get("beat_manual")
        if guard is None:  # the search's own answer was a handcrafted prompt: nothing to guard
            assert plain_answer["prompts"][0] in [m["prompt"] for m in result["manual"]]
            continue
        decided += 1
        assert guard["manual"] == manual["prompt"]
        if guard["kept_search_answer"]:
            assert guard["share_better"] >= 0.99 and answer["prompts"] == plain_answer["prompts"]
        else:
            assert guard["share_better"] < 0.99
            assert answer["prompts"] == [manual["prompt"]] and answer["test"] == manual["test"]
    assert decided  # the toy search finds children above its handcrafted prompts on some task
    # the search itself is the same: the guard only changes the answer
    for name in strict["tasks"]:
        assert [e["prompt"] for e in strict["tasks"][name]["top_k"]] == [e["prompt"] for e in plain["tasks"][name]["top_k"]]
