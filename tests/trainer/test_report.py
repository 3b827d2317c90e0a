"""The trainer's report sections over zero-shot evaluation cells (Tables 4/5, Figure 7, training
loss) and the core's scaling plot (Figure 5) over them, through the report hooks."""

from __future__ import annotations

import json

import yaml

from zp_evolve.plugins import load_plugins
from zp_evolve.report.aggregate import load_cells
from zp_evolve.report.sweep_report import write_sweep_report
from zp_trainer.report import eval_table


def _eval_summary(scores: dict[str, tuple[float, bool]]) -> dict:
    return {"job": "eval", "tasks": {t: {"type": "X", "metric": "auc", "score": s, "seen_type": seen} for t, (s, seen) in scores.items()}}


def test_eval_table_splits_all_seen_unseen_and_plots_scaling(tmp_path):
    root = tmp_path / "sweep"
    sweep = {"name": "s", "base": {"job": "eval"}, "grid": {"n_tasks": ["2", "8"], "seed": [0, 1]}, "report": {"rows": "n_tasks", "x": "n_tasks"}}
    root.mkdir()
    (root / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    scores = {
        ("2", 0): {"a": (0.5, True), "b": (0.7, False)},
        ("2", 1): {"a": (0.6, True), "b": (0.8, False)},
        ("8", 0): {"a": (0.9, True), "b": (0.7, False)},
        ("8", 1): {"a": (0.7, True), "b": (0.9, False)},
    }
    for (n, seed), task_scores in scores.items():
        cell = root / "cells" / f"n_tasks-{n}__seed-{seed}"
        cell.mkdir(parents=True)
        (cell / "summary.json").write_text(json.dumps(_eval_summary(task_scores)))
    cells = load_cells(root, load_plugins())
    headers, rows = eval_table(cells, "n_tasks")
    assert headers == ["n_tasks", "All", "Seen", "Unseen", "seeds"]
    assert rows[0] == ["2", "65.00 (5.00)", "55.00 (5.00)", "75.00 (5.00)", 2]
    assert rows[1] == ["8", "80.00 (0.00)", "80.00 (10.00)", "80.00 (10.00)", 2]
    report = write_sweep_report(root, load_plugins()).read_text()
    assert "Table 4/5 style" in report and "| 2 | 65.00 (5.00) |" in report
    assert (root / "plots" / "scaling.png").stat().st_size > 1000
    assert (root / "table_eval.csv").read_text().splitlines()[1].startswith("2,65.00 (5.00)")
    # one seed: the mean alone, no "(0.00)" that reads as a measured spread
    only = [c for c in cells if c.values["seed"] == "0"]
    assert eval_table(only, "n_tasks")[1][0] == ["2", "60.00", "50.00", "70.00", 1]


def test_cells_that_differ_in_another_axis_are_separate_rows(tmp_path):
    root = tmp_path / "sweep"
    sweep = {"name": "s", "base": {"job": "eval"}, "grid": {"n_tasks": ["2", "8"], "size": ["small", "mini"]},
             "report": {"rows": "n_tasks", "x": "n_tasks", "series": "size"}}
    root.mkdir()
    (root / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    for n, size, score in (("2", "small", 0.6), ("2", "mini", 0.4), ("8", "small", 0.9), ("8", "mini", 0.5)):
        cell = root / "cells" / f"n_tasks-{n}__size-{size}"
        cell.mkdir(parents=True)
        (cell / "summary.json").write_text(json.dumps(_eval_summary({"a": (score, True)})))
        (cell / "train").mkdir()
        (cell / "train" / "metrics.jsonl").write_text("\n".join(json.dumps({"step": s, "loss": 9.0 - s, "sup": 5.0 - s}) for s in (1, 2, 3)))
    headers, rows = eval_table(load_cells(root, load_plugins()), "n_tasks")
    assert [r[:2] for r in rows] == [["2, size=small", "60.00"], ["2, size=mini", "40.00"], ["8, size=small", "90.00"], ["8, size=mini", "50.00"]]
    assert (root / "plots" / "scaling.png").exists() is False
    report = write_sweep_report(root, load_plugins()).read_text()
    assert (root / "plots" / "scaling.png").stat().st_size > 1000
    assert "plots/training_loss.png" in report and (root / "plots" / "training_loss.png").stat().st_size > 1000
    assert "plots/task_types.png" in report and (root / "plots" / "task_types.png").stat().st_size > 1000
