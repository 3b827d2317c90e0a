"""search.objectives: NSGA-II parents and the Pareto front (DEAP's selNSGA2)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests import toy_plugin
from tests.conftest import gps_search
from zp_evolve.errors import ConfigError
from zp_evolve.rundir import RunDirectory
from zp_gps.config import validate
from zp_gps.pareto import nsga2_select, pareto_front

WEIGHTS = (1.0, -1.0)  # maximise the metric, minimise the length


def dominates(a, b, weights=WEIGHTS):
    wa = [x * w for x, w in zip(a, weights)]
    wb = [x * w for x, w in zip(b, weights)]
    return all(x >= y for x, y in zip(wa, wb)) and any(x > y for x, y in zip(wa, wb))


POINTS = [("a", (0.9, 12)), ("b", (0.8, 5)), ("c", (0.7, 9)), ("d", (0.95, 20)), ("e", (0.6, 3)), ("f", (0.8, 7))]


def test_pareto_front_is_the_non_dominated_set():
    front = pareto_front(POINTS, WEIGHTS)
    assert front == ["a", "b", "d", "e"]
    values = dict(POINTS)
    for p in front:
        assert not any(dominates(values[q], values[p]) for q in values)
    for p in set(values) - set(front):
        assert any(dominates(values[q], values[p]) for q in front)


def test_nsga2_selection_returns_a_non_dominated_front():
    chosen = nsga2_select(POINTS, 4, WEIGHTS)
    assert sorted(chosen) == ["a", "b", "d", "e"]  # exactly the first front
    values = dict(POINTS)
    assert not any(dominates(values[p], values[q]) for p in chosen for q in chosen)
    # a smaller k cuts the front by crowding distance: its extremes stay
    assert {"d", "e"} <= set(nsga2_select(POINTS, 2, WEIGHTS))
    # with one objective NSGA-II is a top-K
    assert sorted(nsga2_select([(p, (v[0],)) for p, v in POINTS], 2, (1.0,))) == ["a", "d"]


def _config(tmp_path, objectives):
    raw = toy_plugin.toy_config(tmp_path, generations=3, top_k=2, children_per_parent=2)
    raw["fitness"] = {"name": "example_fitness"}
    raw["mutators"] = [{"name": "append_word"}]
    raw["search"]["objectives"] = objectives
    return raw


def _run(tmp_path, name, raw, resume=False):
    return gps_search(tmp_path / name, raw, extra=[toy_plugin]).run(resume=resume)


def test_nsga2_breeds_from_the_front_and_the_summary_keeps_it(tmp_path):
    summary = _run(tmp_path, "run", _config(tmp_path, ["metric", "length"]))
    events = [e for e in RunDirectory(tmp_path / "run").events() if e["split"] == "dev"]
    assert all(set(e["objectives"]) == {"length"} for e in events)
    by_gen = defaultdict(list)
    for e in events:
        by_gen[(e["task"], e["generation"])].append(e)
    for (task, gen), scored in by_gen.items():
        children = by_gen.get((task, gen + 1))
        if not children:
            continue
        candidates = [(e["prompt"], (e["fitness"], e["objectives"]["length"])) for e in scored]
        assert {c["parent"] for c in children} <= set(nsga2_select(candidates, 2, WEIGHTS))
    for name, task in summary["tasks"].items():
        front = task["pareto_front"]
        assert front and all(entry["test"] is not None for entry in front)
        points = {e["prompt"]: (e["objectives"]["metric"], e["objectives"]["length"]) for e in front}
        assert not any(dominates(points[p], points[q]) for p in points for q in points)
        every = [(e["fitness"], e["objectives"]["length"]) for e in events if e["task"] == name]
        assert not any(dominates(v, point) for v in every for point in points.values())
        # the metric's best prompt is on the front, and the answer is still chosen by the metric
        assert max(v[0] for v in every) == front[0]["objectives"]["metric"] == task["best"]["dev"]


def test_single_objective_has_no_front_and_an_unknown_objective_is_refused(tmp_path):
    from zp_evolve.plugins import load_plugins

    toy_plugins = load_plugins([toy_plugin])
    summary = _run(tmp_path, "plain", _config(tmp_path, ["metric"]))
    assert all("pareto_front" not in task for task in summary["tasks"].values())
    with pytest.raises(ConfigError, match="lenght"):
        validate(_config(tmp_path, ["metric", "lenght"]), toy_plugins)
    with pytest.raises(ConfigError, match="start with 'metric'"):
        validate(_config(tmp_path, ["length", "metric"]), toy_plugins)
    with pytest.raises(ConfigError, match="reads prompts with the scoring model"):
        validate(_config(tmp_path, ["metric", "fluency"]), toy_plugins)


def test_objectives_resume_to_the_same_summary(tmp_path):
    raw = _config(tmp_path, ["metric", "length"])
    whole = _run(tmp_path, "whole", raw)
    capped = {**raw, "search": {**raw["search"], "budget": {"evaluations": 300}}}
    _run(tmp_path, "cut", capped)
    resumed = _run(tmp_path, "cut", raw, resume=True)
    assert resumed["tasks"] == whole["tasks"]


def test_report_tabulates_and_plots_the_front(tmp_path):
    from zp_gps.run_report import write_run_report

    _run(tmp_path, "run", _config(tmp_path, ["metric", "length"]))
    text = write_run_report(tmp_path / "run").read_text()
    assert "## Pareto front: toy_sentiment" in text and "| prompt | metric | length | dev | test |" in text
    assert (tmp_path / "run" / "plots" / "pareto.png").stat().st_size > 5000
    assert "![Pareto front](plots/pareto.png)" in text
