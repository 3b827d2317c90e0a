"""benchmarks/gps_generalization_report.py: paired comparisons from the cells' summaries, exactly."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import REPO
from tests.experiments.conftest import benchmark_module

TASKS = ["a", "b"]


@pytest.fixture(scope="module")
def report():
    yield from benchmark_module("gps_generalization_report")


def _cell(root, name, seed, answers, manual=(0.5, 0.5), manual_prompts=(0.4, 0.5)):
    """A cell's summary: per task the answer (dev, test), the best manual (dev, test), manual tests."""
    tasks = {
        task: {
            "metric": "auc" if task == "a" else "micro_f1",
            "dev_class_counts": {"x": 16, "y": 16} if task == "a" else {"x": 8, "y": 8, "z": 8, "w": 8},
            "answer": {"dev": dev, "test": test},
            "manual_best_on_dev": {"dev": manual[0], "test": manual[1]},
            "manual": [{"test": value} for value in manual_prompts],
        }
        for task, (dev, test) in zip(TASKS, answers)
    }
    folder = root / "cells" / f"{name}__mix__gps__seed{seed}"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"seed": seed, "tasks": tasks}))


def test_strategies_are_compared_pairwise_on_test_and_the_winner_is_the_default(report, tmp_path):
    for seed in (0, 1):
        _cell(tmp_path, "algorithm1", seed, [(0.8, 0.55), (0.7, 0.45)])  # +5 and -5 over manual: 0 on average
        _cell(tmp_path, "ensemble", seed, [(0.7, 0.60), (0.6, 0.52)])  # +10 and +2: +6
    results = report.collect(tmp_path, TASKS, [0, 1])
    algorithm1, ensemble = results["strategies"]["algorithm1"], results["strategies"]["ensemble"]
    assert algorithm1["test_mean"] == pytest.approx(50.0) and algorithm1["minus_manual"] == pytest.approx(0.0)
    assert algorithm1["dev_test_gap"] == pytest.approx(25.0)
    assert ensemble["minus_manual"] == pytest.approx(6.0) and ensemble["vs_algorithm1"]["mean"] == pytest.approx(6.0)
    assert ensemble["ci_low"] == pytest.approx(2.0) and ensemble["ci_high"] == pytest.approx(10.0)  # per-pair gains are 10 and 2
    assert ensemble["vs_manual_mean"]["mean"] == pytest.approx(11.0)  # manual prompts average 45
    assert ensemble["pairs"] == 4 and ensemble["vs_without_gps"] is None  # no one-shot cell ran
    assert results["manual"] == {"test_mean": 50.0, "mean_prompt_test_mean": 45.0, "dev_test_gap": 0.0}
    assert report.choose_default(results["strategies"]) == "ensemble"
    checked = report.goals(results | {"default": "ensemble"})
    assert checked["minus_manual"] == {"measured": 6.0, "target": 3.0, "met": True}
    assert checked["ci_low"]["met"] is True and checked["search_share"]["met"] is True
    assert checked["dev_test_gap"] == {"measured": 9.0, "target": 6.0, "met": False, "missed_by": 3.0}  # dev 70, 60 against test 60, 52
    assert ensemble["vs_own_manual"]["mean"] == pytest.approx(6.0)  # the cell's own manual is the plain one here
    plan = [step["cell"] for step in results["plan"]]
    assert plan[:4] == ["algorithm1__mix__gps__seed0", "calibrate__mix__gps__seed0",
                        "algorithm1__mix__gps__seed1", "calibrate__mix__gps__seed1"]
    assert {"cell": "ensemble__mix__gps__seed1", "done": True, "tasks_done": 2} in results["plan"]
    assert "lcb__mix__gps__seed0" in results["not_measured"] and "ensemble__mix__oneshot__seed1" in results["not_measured"]
    assert "ensemble__mix__gps__seed1" not in results["not_measured"]
    assert "| **ensemble** |" in report.markdown(results | {"default": "ensemble"})
    assert results["task_info"] == {"a": {"metric": "auc", "labels": 2, "chance": 50.0}, "b": {"metric": "micro_f1", "labels": 4, "chance": 25.0}}
    assert "| b | micro_f1 | 25.00 | 50.00 | 45.00 | 45.00 | 52.00 |" in report.per_task_markdown(results)


def test_the_default_is_judged_on_paired_gains_over_algorithm1(report, tmp_path):
    # ensemble ran on one seed only, where it lost to algorithm1; its mean test score over its
    # one seed is still above algorithm1's mean over two seeds (seed 1 was hard for algorithm1)
    _cell(tmp_path, "algorithm1", 0, [(0.8, 0.70), (0.7, 0.70)])
    _cell(tmp_path, "algorithm1", 1, [(0.8, 0.40), (0.7, 0.40)])
    _cell(tmp_path, "ensemble", 0, [(0.7, 0.65), (0.6, 0.65)])
    results = report.collect(tmp_path, TASKS, [0, 1])
    assert results["strategies"]["ensemble"]["test_mean"] > results["strategies"]["algorithm1"]["test_mean"]
    assert results["strategies"]["ensemble"]["vs_algorithm1"]["mean"] == pytest.approx(-5.0)
    assert report.choose_default(results["strategies"]) == "algorithm1"


def test_calibrated_cells_are_judged_against_both_manual_prompts(report, tmp_path):
    _cell(tmp_path, "algorithm1", 0, [(0.8, 0.55), (0.7, 0.45)])  # plain manual: test 0.5 on both tasks
    _cell(tmp_path, "calibrate", 0, [(0.8, 0.62), (0.7, 0.58)], manual=(0.6, 0.58))  # calibrated manual: 0.58
    calibrate = report.collect(tmp_path, TASKS, [0])["strategies"]["calibrate"]
    assert calibrate["minus_manual"] == pytest.approx(10.0)  # against the user's status quo (plain manual)
    assert calibrate["vs_own_manual"]["mean"] == pytest.approx(2.0)  # the search's own share: (4 + 0) / 2


def test_committed_cell_records_are_read_like_run_folders(report, tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from gps_generalization_cells import cell_record

    _cell(tmp_path / "runs", "algorithm1", 0, [(0.8, 0.55), (0.7, 0.45)])
    summary = json.loads((tmp_path / "runs" / "cells" / "algorithm1__mix__gps__seed0" / "summary.json").read_text())
    (tmp_path / "results" / "cells").mkdir(parents=True)
    (tmp_path / "results" / "cells" / "algorithm1__mix__gps__seed0.json").write_text(json.dumps(cell_record(summary)))
    from_runs = report.collect(tmp_path / "runs", TASKS, [0])["strategies"]
    from_records = report.collect(tmp_path / "results", TASKS, [0])["strategies"]
    assert from_records == from_runs and from_records["algorithm1"]["test_mean"] == pytest.approx(50.0)


def test_an_unfinished_cell_is_left_out_not_guessed(report, tmp_path):
    _cell(tmp_path, "algorithm1", 0, [(0.8, 0.55), (0.7, 0.45)])
    (tmp_path / "cells" / "ensemble__mix__gps__seed0").mkdir()  # started, no summary yet
    results = report.collect(tmp_path, TASKS, [0])
    assert list(results["strategies"]) == ["algorithm1"] and "ensemble__mix__gps__seed0" in results["not_measured"]


def test_the_plan_counts_the_tasks_a_cell_holds(report, tmp_path):
    """A record made before the task set grew holds fewer tasks: not done, and says how many."""
    _cell(tmp_path, "algorithm1", 0, [(0.8, 0.55), (0.7, 0.45)])
    _cell(tmp_path, "calibrate", 0, [(0.8, 0.55)])  # the first task only
    plan = {step["cell"]: step for step in report.collect(tmp_path, TASKS, [0])["plan"]}
    assert plan["algorithm1__mix__gps__seed0"] == {"cell": "algorithm1__mix__gps__seed0", "done": True, "tasks_done": 2}
    assert plan["calibrate__mix__gps__seed0"] == {"cell": "calibrate__mix__gps__seed0", "done": False, "tasks_done": 1}
    assert plan["lcb+calibrate__mix__gps__seed0"]["tasks_done"] == 0

