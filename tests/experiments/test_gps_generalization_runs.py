"""benchmarks/gps_generalization.py: what carries a measurement across sessions (records, parked runs)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.experiments.conftest import benchmark_module


@pytest.fixture(scope="module")
def bench():
    yield from benchmark_module("gps_generalization")


def _summary(seed, tasks):
    return {"seed": seed, "tasks": {t: {"type": "QA", "manual": [{"prompt": "p", "dev": 0.5, "test": 0.4}],
                                        "best": {"prompt": "q", "dev": 0.6, "test": 0.45}} for t in tasks}}


def test_a_record_grows_with_the_task_set_and_says_which_run_gave_what(bench, tmp_path):
    record = tmp_path / "results" / "cells" / "algorithm1__mix__gps__seed0.json"
    first, second = tmp_path / "run", tmp_path / "run+1"
    for path, tasks in ((first, ["a", "b"]), (second, ["c"])):
        path.mkdir()
        (path / "summary.json").write_text(json.dumps(_summary(0, tasks)))
    assert bench._read_record(record) == {}
    bench._write_record(first, record, seconds=12.3)
    assert sorted(bench._read_record(record)["tasks"]) == ["a", "b"]
    bench._write_record(second, record, seconds=4.0)
    data = json.loads(record.read_text())
    assert sorted(data["tasks"]) == ["a", "b", "c"] and data["tasks"]["c"]["best"]["test"] == 0.45
    assert [(p["tasks"], p["wall_seconds"]) for p in data["parts"]] == [(["a", "b"], 12), (["c"], 4)]


def test_unfinished_runs_are_parked_for_a_commit_and_resumed_from_there(bench, tmp_path):
    out, results = tmp_path / "out", tmp_path / "results"
    unfinished = out / "cells" / "calibrate__mix__gps__seed1"
    done = out / "cells" / "algorithm1__mix__gps__seed1"
    for path in (unfinished, done):
        path.mkdir(parents=True)
        (path / "config.yaml").write_text("seed: 1\n")
        (path / "checkpoint.pkl").write_bytes(b"state")
        (path / "report.md").write_text("regenerated on resume")
    (done / "summary.json").write_text("{}")
    bench.park(SimpleNamespace(out=str(out), results=results))
    parked = results / "unfinished"
    assert [p.name for p in parked.iterdir()] == [unfinished.name]  # a finished cell has its record instead
    assert sorted(p.name for p in (parked / unfinished.name).iterdir()) == ["checkpoint.pkl", "config.yaml"]
    elsewhere = tmp_path / "other_machine" / unfinished.name
    bench._unpark(parked / unfinished.name, elsewhere)
    assert (elsewhere / "checkpoint.pkl").read_bytes() == b"state"
    (elsewhere / "checkpoint.pkl").write_bytes(b"newer")
    bench._unpark(parked / unfinished.name, elsewhere)  # a run folder of its own wins over the parked copy
    assert (elsewhere / "checkpoint.pkl").read_bytes() == b"newer"
