"""benchmarks/generalist.py turns the sweeps' summaries into the issue's record, exactly."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.conftest import REPO

KEYS = {
    "train_tasks", "heldout_tasks", "seeds", "base_test_mean", "trained_test_mean", "trained_minus_base",
    "unseen_types_minus_base", "scaling", "gps_trained_minus_gps_base", "train_minutes", "peak_rss_gb",
}  # fmt: skip


def _load():
    spec = importlib.util.spec_from_file_location("generalist_record", REPO / "benchmarks" / "generalist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, data):
    path.mkdir(parents=True, exist_ok=True)
    (path / "summary.json").write_text(json.dumps(data))


def _eval(seen: float, unseen: float, first: float, train_tasks: int | None = None):
    tasks = {
        "a": {"score": seen, "seen_type": True, "type": "NLI", "language": "en", "metric": "auc", "prompt_scores": [first, seen]},
        "b": {"score": unseen, "seen_type": False, "type": "SPAM", "language": "en", "metric": "auc", "prompt_scores": [first, unseen]},
    }
    summary = {"mean": (seen + unseen) / 2, "seen_mean": seen, "unseen_mean": unseen, "tasks": tasks}
    if train_tasks is not None:
        summary["train"] = {"tasks": [f"t{i}" for i in range(train_tasks)]}
    return summary


def _runs(root):
    for seed, (minutes, rss) in enumerate([(30.0, 3.1), (33.0, 2.9)]):
        _write(root / "generalist" / "setup" / f"gen_s{seed}", {"tasks": ["t"] * 202, "cpu_seconds": minutes * 60, "wall_seconds": 9e3, "peak_rss_gb": rss})
    _write(root / "generalist" / "cells" / "model-smollm2__seed-0", _eval(0.40, 0.50, 0.30))
    _write(root / "generalist" / "cells" / "model-smollm2__seed-1", _eval(0.42, 0.48, 0.30))
    _write(root / "generalist" / "cells" / "model-zeroprompt__seed-0", _eval(0.46, 0.56, 0.40))
    _write(root / "generalist" / "cells" / "model-zeroprompt__seed-1", _eval(0.44, 0.52, 0.40))
    cells = root / "generalist_ablations" / "cells"
    for name, count, score in [("all", 202, 0.5), ("no_e", 202, 0.45), ("no_v", 202, 0.44), ("tasks_8", 8, 0.41), ("tasks_32", 32, 0.43), ("tasks_64", 64, 0.47)]:
        _write(cells / f"variant-{name}__seed-0", _eval(score, score, score, train_tasks=count))
    for model, tests in [("smollm2", {"x": 0.5, "y": 0.6}), ("generalist", {"x": 0.55, "y": 0.7})]:
        gps = {"tasks": {name: {"best": {"test": value, "dev": 0.9, "prompt": "p"}} for name, value in tests.items()}}
        _write(root / "generalist_gps" / "cells" / f"model-{model}__seed-0", gps)


def test_the_record_has_exactly_the_issues_keys_and_the_measured_values(tmp_path):
    module = _load()
    _runs(tmp_path)
    record, detail = module.gather(tmp_path)
    assert set(record) == KEYS
    assert record["train_tasks"] == 202 and record["heldout_tasks"] == 2 and record["seeds"] == [0, 1]
    assert record["base_test_mean"] == pytest.approx(45.0) and record["trained_test_mean"] == pytest.approx(49.5)
    assert record["trained_minus_base"] == pytest.approx(4.5)
    assert record["unseen_types_minus_base"] == pytest.approx(5.0)  # (6 + 4) / 2 points
    assert record["scaling"] == [
        {"tasks": 8, "heldout_mean": 41.0}, {"tasks": 32, "heldout_mean": 43.0},
        {"tasks": 64, "heldout_mean": 47.0}, {"tasks": 202, "heldout_mean": 50.0},
    ]  # fmt: skip
    assert record["gps_trained_minus_gps_base"] == pytest.approx(7.5)
    assert record["train_minutes"] == 33.0 and record["peak_rss_gb"] == 3.1  # the larger of the two trainings
    assert module.first_prompt_means(detail["base"][0])["mean"] == pytest.approx(0.30)
    text = module.tables(record, detail)
    assert "| no_e | 202 | 45.00 | 45.00 | 45.00 |" in text and "| **mean** | 55.00 | 62.50 | +7.50 |" in text
    assert [p.name for p in module.plot(record, detail, tmp_path / "plots")] == ["generalist_scaling.png", "generalist_per_task.png"]


def test_a_missing_run_names_the_sweep_to_run(tmp_path):
    module = _load()
    with pytest.raises(SystemExit, match="generalist/setup/gen_s0/summary.json: run the sweep"):
        module.gather(tmp_path)


def test_partial_records_what_finished_and_names_what_did_not(tmp_path):
    module = _load()
    _runs(tmp_path)
    for gone in ("generalist/cells/model-zeroprompt__seed-1", "generalist_ablations/cells/variant-tasks_64__seed-0", "generalist_gps/cells/model-generalist__seed-0"):
        (tmp_path / gone / "summary.json").unlink()
    record, detail = module.gather(tmp_path, partial=True)
    assert set(record) == KEYS | {"missing"}
    assert record["missing"] == [
        "generalist/cells/model-zeroprompt__seed-1", "generalist_ablations/cells/variant-tasks_64__seed-0",
        "generalist_gps/cells/model-generalist__seed-0",
    ]  # fmt: skip
    assert record["seeds"] == [0]  # seed 1 lacks its trained side, so it is left out of every comparison
    assert record["base_test_mean"] == pytest.approx(45.0) and record["trained_minus_base"] == pytest.approx(6.0)
    assert [p["tasks"] for p in record["scaling"]] == [8, 32, 202]
    assert record["gps_trained_minus_gps_base"] is None
    text = module.tables(record, detail)
    assert "| tasks_64 | | not run | | |" in text and "GPS:" not in text and "Not run: `generalist/cells/model-zeroprompt__seed-1`" in text
    with pytest.raises(SystemExit, match="model-zeroprompt__seed-1/summary.json"):
        module.gather(tmp_path)
