"""search.budget: a clean stop with the best so far, and resume under a larger budget."""

from __future__ import annotations

from tests import toy_plugin
from tests.conftest import gps_search
from zp_evolve.rundir import RunDirectory


def config(tmp_path, **budget):
    raw = toy_plugin.toy_config(tmp_path, generations=3, top_k=2, children_per_parent=2)
    raw["fitness"] = {"name": "example_fitness"}
    raw["mutators"] = [{"name": "append_word"}]
    if budget:
        raw["search"]["budget"] = budget
    return raw


def run(tmp_path, name, raw, *, resume=False):
    lines: list[str] = []
    search = gps_search(tmp_path / name, raw, extra=[toy_plugin])
    search.echo = lines.append
    return search.run(resume=resume), lines


def read_events(run_dir: RunDirectory) -> list[dict]:
    return list(run_dir.events())


def scored_pairs(run_dir: RunDirectory) -> int:
    return sum(32 for e in read_events(run_dir) if e["split"] == "dev" and not e["cached"])


def test_budget_stops_cleanly_with_the_best_so_far(tmp_path):
    summary, lines = run(tmp_path, "capped", config(tmp_path, evaluations=300))
    events = read_events(RunDirectory(tmp_path / "capped"))
    assert summary["stop_reason"] == "budget"
    assert summary["budget"]["evaluations_used"] == scored_pairs(RunDirectory(tmp_path / "capped")) <= 300
    assert summary["budget"]["evaluations_used"] > 192  # G0 (6 prompts x 32) and part of generation 1
    assert {e["generation"] for e in events if e["split"] == "dev"} == {0, 1}
    assert any("budget reached at generation 1" in line for line in lines)
    for name, task in summary["tasks"].items():
        assert task["answer"]["test"] is not None  # the best so far is scored on test as usual
        scored = [e["fitness"] for e in events if e["task"] == name and e["split"] == "dev"]
        assert len(scored) >= 3 and max(scored) == task["top_k"][0]["dev"] == task["answer"]["dev"]


def test_resume_under_a_larger_budget_equals_one_run_with_it(tmp_path):
    whole, _ = run(tmp_path, "whole", config(tmp_path, evaluations=700))
    run(tmp_path, "grown", config(tmp_path, evaluations=300))
    grown, lines = run(tmp_path, "grown", config(tmp_path, evaluations=700), resume=True)
    assert any("budget raised" in line for line in lines)
    assert grown == whole
    events = read_events(RunDirectory(tmp_path / "grown"))
    fresh = [(e["task"], e["split"], e["prompt"]) for e in events if not e["cached"]]
    assert len(fresh) == len(set(fresh))  # no prompt scored twice
    assert scored_pairs(RunDirectory(tmp_path / "grown")) == whole["budget"]["evaluations_used"]


def test_a_run_that_stayed_within_its_budget_is_unchanged_by_it(tmp_path):
    free, _ = run(tmp_path, "free", config(tmp_path))
    roomy, _ = run(tmp_path, "roomy", config(tmp_path, evaluations=10**6))
    assert roomy.pop("budget")["evaluations_used"] == scored_pairs(RunDirectory(tmp_path / "roomy"))
    assert roomy == free and "budget" not in free


def test_a_spent_time_budget_stops_after_g0(tmp_path):
    summary, lines = run(tmp_path, "timed", config(tmp_path, seconds=1e-9))
    assert summary["stop_reason"] == "budget" and summary["generations_scored"] == 1
    assert all(task["answer"]["prompts"] and task["best"]["operator"] == "manual" for task in summary["tasks"].values())


def test_cli_validate_projects_pairs_and_resume_raises_a_budget(tmp_path, cli):
    import yaml

    raw = config(tmp_path, evaluations=300)
    path = tmp_path / "capped.yaml"
    path.write_text(yaml.safe_dump(raw))
    checked = cli("validate", str(path), plugins="tests.toy_plugin")
    assert checked.returncode == 0, checked.stderr
    # 2 tasks x (3 handcrafted + 3 generations x 2 x 2 children) x 32 dev examples
    assert "at most 960 scored (prompt, dev example) pairs" in checked.stdout
    assert "budget 300: the search stops at about 31% of it" in checked.stdout

    run_dir = tmp_path / "run"
    first = cli("run", str(path), "--run-dir", str(run_dir), "--no-progress", plugins="tests.toy_plugin")
    assert first.returncode == 0, first.stderr
    assert "stopped by the budget" in first.stdout and f"zp-evolve resume {run_dir} --set search.budget.evaluations=MORE" in first.stdout
    refused = cli("resume", str(run_dir), "--set", "search.top_k=5", plugins="tests.toy_plugin")
    assert refused.returncode == 2 and "resume --set can change only search.budget." in refused.stderr
    assert "Traceback" not in refused.stderr
    more = cli("resume", str(run_dir), "--set", "search.budget.evaluations=5000", "--no-progress", plugins="tests.toy_plugin")
    assert more.returncode == 0, more.stderr
    summary = RunDirectory(run_dir).read_summary()
    assert summary["stop_reason"] == "reached generation T=3" and summary["budget"]["evaluations"] == 5000
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["search"]["budget"]["evaluations"] == 5000
